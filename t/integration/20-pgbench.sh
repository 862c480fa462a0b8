# shellcheck shell=bash
# pgbench through the proxy: simple, extended, prepared and -C.

# pgbench tables in benchdb (scale 2); made directly if missing.
ensure_bench_tables() {
    local n
    n=$(asql "SELECT count(*) FROM pgbench_accounts" benchdb 2>/dev/null || echo 0)
    if [ "$n" != 200000 ]; then
        note "initializing pgbench tables directly"
        timeout 120 "$PGBENCH" -i -q -s 2 -h 127.0.0.1 -p "$PRIMARY_PORT" -U app benchdb >/dev/null 2>&1 \
            || fail "pgbench -i directly failed"
    fi
}

# run_pgbench PORT ARGS... : pgbench -n ... benchdb, checked: exit 0, no
# failed transactions, some processed.  Output in $PGB_OUT.
run_pgbench() {
    local port=$1; shift
    local rc=0
    PGB_OUT=$(timeout -k 5 "${PGB_TIMEOUT:-90}" "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U app "$@" benchdb 2>&1) || rc=$?
    printf '%s\n' "$PGB_OUT" | grep -E '^(transaction type|scaling|query mode|number of|tps|latency average|pgbench:)' | head -n 20 >&2
    [ "$rc" = 0 ] || fail "pgbench $* exited with $rc: $(printf '%s' "$PGB_OUT" | grep -iE 'error|abort|fail' | head -n 5)"
    local failed processed
    failed=$(printf '%s\n' "$PGB_OUT" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
    processed=$(printf '%s\n' "$PGB_OUT" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
    [ -n "$processed" ] || fail "no 'transactions actually processed' line in pgbench output"
    assert_eq 0 "${failed:-0}" "failed transactions"
    [ "$processed" -gt 0 ] || fail "pgbench processed no transactions"
    assert_not_contains "$PGB_OUT" "aborted" "no aborted clients"
}

it_test pgbench_init 150
t_pgbench_init() {
    local out rc=0
    asql "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history" benchdb
    out=$(timeout -k 5 120 "$PGBENCH" -i -q -s 2 -h 127.0.0.1 -p "$MAIN_PORT" -U app benchdb 2>&1) || rc=$?
    if [ "$rc" != 0 ]; then
        printf '%s\n' "$out" | tail -n 10 >&2
        ensure_bench_tables
        fail "pgbench -i through the proxy exited with $rc"
    fi
    assert_eq 200000 "$(asql "SELECT count(*) FROM pgbench_accounts" benchdb)" "accounts loaded by COPY through the proxy"
    assert_eq 2 "$(asql "SELECT count(*) FROM pgbench_branches" benchdb)" "branches"
}

it_test pgbench_simple 120
t_pgbench_simple() {
    ensure_bench_tables
    run_pgbench "$MAIN_PORT" -M simple -c 8 -j 2 -T 5
}

it_test pgbench_extended 120
t_pgbench_extended() {
    ensure_bench_tables
    run_pgbench "$MAIN_PORT" -M extended -c 8 -j 2 -T 5
}

it_test pgbench_prepared 120
t_pgbench_prepared() {
    ensure_bench_tables
    run_pgbench "$MAIN_PORT" -M prepared -c 8 -j 2 -T 5
}

it_test pgbench_connect_each 120
t_pgbench_connect_each() {
    ensure_bench_tables
    run_pgbench "$MAIN_PORT" -C -M simple -c 8 -j 2 -T 5
    # prepared statements on connections that come back from the cache
    run_pgbench "$MAIN_PORT" -C -M prepared -S -c 8 -j 2 -T 3
}

# After the TPC-B runs the balances still add up: no transaction was split
# or half-applied on the way through the proxy.
it_test pgbench_consistency
t_pgbench_consistency() {
    ensure_bench_tables
    local a b t h
    a=$(asql "SELECT sum(abalance) FROM pgbench_accounts" benchdb)
    b=$(asql "SELECT sum(bbalance) FROM pgbench_branches" benchdb)
    t=$(asql "SELECT sum(tbalance) FROM pgbench_tellers" benchdb)
    h=$(asql "SELECT coalesce(sum(delta), 0) FROM pgbench_history" benchdb)
    note "accounts=$a branches=$b tellers=$t history=$h"
    assert_eq "$a" "$b" "sum(abalance) = sum(bbalance)"
    assert_eq "$a" "$t" "sum(abalance) = sum(tbalance)"
    assert_eq "$a" "$h" "sum(abalance) = sum(history.delta)"
}
