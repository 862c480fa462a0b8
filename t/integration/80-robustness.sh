# shellcheck shell=bash
# Malformed input, clients and backends that go away, slow clients.

it_test robust_malformed_startup
t_robust_malformed_startup() {
    pgwire malformed 127.0.0.1 "$MAIN_PORT"
    px_assert_alive main
    assert_serving "$MAIN_PORT"
}

it_test robust_oversize_message
t_robust_oversize_message() {
    local rc=0
    pgwire oversize 127.0.0.1 "$MAIN_PORT" app appdb || rc=$?
    # PostgreSQL itself just closes (it logs "invalid message length");
    # the proxy must answer with an ErrorResponse (issue 2).
    [ "$rc" = 2 ] && [ "$IT_DIRECT" = 1 ] && rc=0
    [ "$rc" = 2 ] && fail "connection closed without an ErrorResponse"
    [ "$rc" = 0 ] || fail "no proper refusal of a 2 GB message (exit $rc)"
    px_assert_alive main
    assert_serving "$MAIN_PORT"
}

it_test robust_unknown_message_type
t_robust_unknown_message_type() {
    local rc=0
    pgwire badtype 127.0.0.1 "$MAIN_PORT" app appdb || rc=$?
    [ "$rc" = 2 ] && fail "connection closed without an ErrorResponse"
    [ "$rc" = 0 ] || fail "unknown message type not refused properly (exit $rc)"
    px_assert_alive main
    assert_serving "$MAIN_PORT"
}

# A client that sent half a startup packet and went silent blocks nobody.
it_test robust_slow_client
t_robust_slow_client() {
    local holders=() i t0
    for i in 1 2 3 4; do
        pgwire partial-startup 127.0.0.1 "$MAIN_PORT" 10 > /dev/null 2>&1 &
        holders+=($!)
    done
    sleep 0.5
    t0=$SECONDS
    for i in 1 2 3 4 5; do
        assert_serving "$MAIN_PORT" "proxy with 4 silent half-connected clients"
    done
    [ $((SECONDS - t0)) -le 5 ] || fail "5 queries took $((SECONDS - t0)) s next to silent clients"
    for i in "${holders[@]}"; do kill "$i" 2>/dev/null; bg_wait "$i" 5 || true; done
}

it_test robust_client_disconnect_midquery
t_robust_client_disconnect_midquery() {
    local pid t0 out i
    "$PSQL" -X -h 127.0.0.1 -p "$MAIN_PORT" -c "SELECT pg_sleep(6.004)" > /dev/null 2>&1 &
    pid=$!
    wait_active 1 'SELECT pg_sleep(6.004)' \
        || { kill -KILL "$pid"; fail "pg_sleep did not start"; }
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    # the proxy keeps serving, and a new client never gets the busy backend:
    # that one is busy for 6 s, so no single client may wait that long (the
    # bound is per client: a loaded machine makes each connection slower)
    local t_start t_ms
    for i in $(seq 1 10); do
        t_start=$(date +%s%N)
        out=$(px_psql "$MAIN_PORT" -qAt -c "SELECT 40 + $i")
        t_ms=$(( ($(date +%s%N) - t_start) / 1000000 ))
        assert_eq $((40 + i)) "$out" "answer $i after a client vanished mid-query"
        [ "$t_ms" -lt 4000 ] || fail "client $i waited ${t_ms} ms (got the busy backend?)"
    done
    px_assert_alive main
}

it_test robust_backend_terminated
t_robust_backend_terminated() {
    local pid rc=0 err i
    "$PSQL" -X -h 127.0.0.1 -p "$MAIN_PORT" -c "SELECT 1" -c "SELECT pg_sleep(20.005)" > /dev/null 2> "$WORK/term.err" &
    pid=$!
    wait_active 1 'SELECT pg_sleep(20.005)' \
        || { kill -KILL "$pid"; fail "pg_sleep did not start"; }
    asql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20.005)'" > /dev/null
    bg_wait "$pid" 10 || rc=$?
    err=$(cat "$WORK/term.err")
    note "client saw: $err"
    [ "$rc" != 124 ] || fail "client still waiting 10 s after its backend was terminated"
    [ "$rc" != 0 ] || fail "client did not see an error"
    assert_match "$err" "terminating connection due to administrator command|server closed the connection unexpectedly|connection to server was lost" \
        "client told that the backend went away"
    for i in 1 2 3 4 5; do assert_serving "$MAIN_PORT" "proxy after a backend was terminated"; done
    px_assert_alive main
}

# Pooled idle backends that die (server restart, pg_terminate_backend,
# idle timeouts) must not be handed to new clients.
it_test robust_idle_backend_terminated
t_robust_idle_backend_terminated() {
    needs_pgpoold
    local port i n
    px_start idle max_pool=4
    port=$PX_PORT
    for i in 1 2 3; do px_psql "$port" -d reusedb -qAt -c "SELECT 1" > /dev/null; done
    wait_until 5 '[ "$(backend_count reusedb app)" -ge 1 ]' || fail "no pooled backend to terminate"
    n=$(asql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'reusedb' AND backend_type = 'client backend'")
    note "terminated $n idle pooled backend(s)"
    wait_until 5 '[ "$(backend_count reusedb app)" = 0 ]' || true
    for i in 1 2 3 4 5; do
        out=$(px_psql "$port" -d reusedb -qAt -c "SELECT 'fresh $i'" 2>&1) \
            || fail "client $i after the pooled backends died: $out"
        assert_eq "fresh $i" "$out" "client $i"
    done
}
