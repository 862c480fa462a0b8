# shellcheck shell=bash
# LISTEN/NOTIFY between two clients through the proxy.

it_test notify_psql
t_notify_psql() {
    local pid rc=0
    px_psql "$MAIN_PORT" -c "LISTEN ch_psql" -c "SELECT pg_sleep(3.001)" -c "SELECT 'listener done'" \
        > "$WORK/listener.out" 2>&1 &
    pid=$!
    wait_active 1 'SELECT pg_sleep(3.001)' \
        || fail "listener session never ran its pg_sleep"
    px_psql "$MAIN_PORT" -qAt -c "NOTIFY ch_psql, 'hello through proxy'"
    bg_wait "$pid" 20 || rc=$?
    cat "$WORK/listener.out" >&2
    [ "$rc" = 0 ] || fail "listener psql exited with $rc"
    assert_contains "$(cat "$WORK/listener.out")" 'Asynchronous notification "ch_psql" with payload "hello through proxy" received from server process with PID' \
        "psql shows the notification"
}

it_test notify_idle_listener
t_notify_idle_listener() {
    local pid rc=0
    rm -f "$WORK/listen.ready"
    pgwire listen 127.0.0.1 "$MAIN_PORT" app appdb ch_idle "$WORK/listen.ready" 15 > "$WORK/listen.out" 2>&1 &
    pid=$!
    wait_until 10 test -f "$WORK/listen.ready" || fail "python listener did not LISTEN: $(cat "$WORK/listen.out")"
    sleep 0.3
    px_psql "$MAIN_PORT" -qAt -c "SELECT pg_notify('ch_idle', 'to an idle client')"
    bg_wait "$pid" 25 || rc=$?
    cat "$WORK/listen.out" >&2
    [ "$rc" = 0 ] || fail "idle listener did not get the notification (exit $rc)"
    assert_eq "notification ch_idle to an idle client" "$(cat "$WORK/listen.out")" "NotificationResponse while idle"
}
