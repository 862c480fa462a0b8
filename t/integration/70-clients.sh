# shellcheck shell=bash
# Many clients, backend reuse, max_clients.

select1_script() {
    echo 'SELECT 1;' > "$WORK/select1.sql"
    echo "$WORK/select1.sql"
}

# pgbench_check OUTPUT RC WHAT : exit 0, no failed or aborted clients.
pgbench_check() {
    printf '%s\n' "$1" | grep -E '^(number of|tps|latency average|initial connection|average connection|pgbench:)' | head -n 12 >&2
    [ "$2" = 0 ] || fail "$3: pgbench exited with $2: $(printf '%s' "$1" | grep -iE 'error|abort|fatal|fail' | sort | uniq -c | sort -rn | head -n 5)"
    assert_eq 0 "$(printf '%s\n' "$1" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')" "$3: failed transactions"
}

it_test clients_500_concurrent 240
t_clients_500_concurrent() {
    local port out rc=0
    px_start c500 max_clients=600 max_pool=560
    port=$PX_PORT
    # pgbench opens all 500 connections before the first transaction, so
    # they are all open at once; -t (not -T) so slow connecting cannot
    # eat the run: every client must do its 20 transactions.
    out=$(timeout -k 5 180 "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U app -c 500 -j 2 -t 20 \
            -f "$(select1_script)" appdb 2>&1) || rc=$?
    pgbench_check "$out" "$rc" "500 clients"
    assert_contains "$out" "number of clients: 500" "500 clients ran"
    assert_contains "$out" "number of transactions actually processed: 10000/10000" "every client did its 20 transactions"
    px_assert_alive c500
    assert_serving "$port" "pgpoold after 500 clients"
}

it_test clients_backend_reuse 180
t_clients_backend_reuse() {
    needs_pgpoold
    local port out rc=0 n pids distinct i
    px_start reuse max_pool=4
    port=$PX_PORT
    # 200 connections, 20 at a time, one transaction each
    out=$(timeout -k 5 120 "$PGBENCH" -n -C -h 127.0.0.1 -p "$port" -U app -c 20 -j 2 -t 10 \
            -f "$(select1_script)" reusedb 2>&1) || rc=$?
    pgbench_check "$out" "$rc" "pgbench -C -c 20 -t 10"
    assert_contains "$out" "number of transactions actually processed: 200/200" "200 connect/disconnect cycles"
    if ! wait_until 15 '[ "$(backend_count reusedb app)" -le 4 ]'; then
        asql "SELECT pid, state, backend_start, left(query, 40) FROM pg_stat_activity WHERE datname = 'reusedb'" >&2
        fail "$(backend_count reusedb app) backends for reusedb after the clients left (max_pool = 4)"
    fi
    n=$(backend_count reusedb app)
    note "backends for reusedb after 200 connects: $n"
    [ "$n" -ge 1 ] || fail "no backend connection kept for reuse (pool is empty)"
    # 20 clients one after the other: the same few backends serve them
    pids=$(for _ in $(seq 1 20); do px_psql "$port" -d reusedb -qAt -c "SELECT pg_backend_pid()"; done)
    distinct=$(printf '%s\n' "$pids" | sort -u | wc -l)
    note "20 sequential clients used $distinct backend(s)"
    [ "$distinct" -le 4 ] || fail "20 sequential clients used $distinct different backends (max_pool = 4)"
    n=$(backend_count reusedb app)
    [ "$n" -le 4 ] || fail "$n backends after sequential clients (max_pool = 4)"
}

it_test clients_max_clients 120
t_clients_max_clients() {
    needs_pgpoold
    local port p1 p2 out rc1=0 rc2=0
    px_start maxc max_clients=2
    port=$PX_PORT
    px_psql "$port" -qAt -c "SELECT pg_sleep(6.001)" > /dev/null 2>"$WORK/h1.err" &
    p1=$!
    px_psql "$port" -qAt -c "SELECT pg_sleep(6.002)" > /dev/null 2>"$WORK/h2.err" &
    p2=$!
    { wait_active 1 'SELECT pg_sleep(6.001)' && wait_active 1 'SELECT pg_sleep(6.002)'; } \
        || fail "the two holding sessions did not start: $(cat "$WORK/h1.err" "$WORK/h2.err")"
    out=$(px_psql "$port" -c "SELECT 1" 2>&1) && fail "a third client got in with max_clients = 2"
    note "$out"
    assert_contains "$out" "sorry, too many clients already" "third client refused"
    out=$(pgwire startup-error 127.0.0.1 "$port" app appdb)
    assert_eq "FATAL 53300 sorry, too many clients already" "$out" "ErrorResponse fields"
    bg_wait "$p1" 20 || rc1=$?
    bg_wait "$p2" 20 || rc2=$?
    [ "$rc1$rc2" = 00 ] || fail "holding sessions failed ($rc1/$rc2): $(cat "$WORK/h1.err" "$WORK/h2.err")"
    wait_until 5 can_connect "$port" \
        || fail "slots not released after the holding clients left"
    assert_serving "$port"
}
