# shellcheck shell=bash
# CancelRequest through the proxy: psql's Ctrl-C, libpq's PQcancel, raw.

it_test cancel_psql_sigint
t_cancel_psql_sigint() {
    local pid rc=0 t0
    "$PSQL" -X -h 127.0.0.1 -p "$MAIN_PORT" -c "SELECT pg_sleep(30.001)" > "$WORK/c.out" 2> "$WORK/c.err" &
    pid=$!
    wait_active 1 'SELECT pg_sleep(30.001)' \
        || { kill -KILL "$pid"; fail "pg_sleep never started through the proxy"; }
    sleep 0.5
    t0=$SECONDS
    kill -INT "$pid"
    bg_wait "$pid" 15 || rc=$?
    [ "$rc" != 124 ] || fail "psql still running 15 s after SIGINT"
    cat "$WORK/c.err" >&2
    [ $((SECONDS - t0)) -le 6 ] || fail "cancel took $((SECONDS - t0)) s"
    assert_contains "$(cat "$WORK/c.err")" "canceling statement due to user request" "psql reports the cancel"
    wait_active 0 'SELECT pg_sleep(30.001)' 5 \
        || fail "the backend still runs pg_sleep after the cancel"
    assert_serving "$MAIN_PORT"
}

it_test cancel_pqcancel
t_cancel_pqcancel() {
    [ -x "$CANCEL_TEST" ] || fail "cancel_test.c was not built (see setup log)"
    timeout -k 5 30 "$CANCEL_TEST" "host=127.0.0.1 port=$MAIN_PORT user=app dbname=appdb connect_timeout=10"
}

it_test cancel_protocol
t_cancel_protocol() {
    pgwire cancel 127.0.0.1 "$MAIN_PORT" app appdb
}

# Two sessions sleep; cancelling one leaves the other running.
it_test cancel_right_session
t_cancel_right_session() {
    local p1 p2 rc1=0 rc2=0
    "$PSQL" -X -h 127.0.0.1 -p "$MAIN_PORT" -c "SELECT pg_sleep(30.002)" > /dev/null 2> "$WORK/s1.err" &
    p1=$!
    "$PSQL" -X -h 127.0.0.1 -p "$MAIN_PORT" -c "SELECT pg_sleep(30.003)" > /dev/null 2> "$WORK/s2.err" &
    p2=$!
    { wait_active 1 'SELECT pg_sleep(30.002)' && wait_active 1 'SELECT pg_sleep(30.003)'; } \
        || { kill -KILL "$p1" "$p2"; fail "both sleeps did not start"; }
    kill -INT "$p1"
    bg_wait "$p1" 10 || rc1=$?
    [ "$rc1" != 124 ] || fail "first psql still running 10 s after SIGINT"
    assert_contains "$(cat "$WORK/s1.err")" "canceling statement due to user request" "first session cancelled"
    sleep 0.5
    assert_eq 1 "$(active_count 'SELECT pg_sleep(30.003)')" "second session still running"
    pid_alive "$p2" || fail "second psql ended too"
    kill -INT "$p2"
    bg_wait "$p2" 10 || rc2=$?
    [ "$rc2" != 124 ] || fail "second psql still running 10 s after SIGINT"
    assert_contains "$(cat "$WORK/s2.err")" "canceling statement due to user request" "second session cancelled"
}
