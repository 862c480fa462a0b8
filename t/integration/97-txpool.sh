# shellcheck shell=bash
# Transaction pooling (pool_mode = "transaction"): many clients share at
# most default_pool_size backends; a client that needs one while all are
# busy waits for one instead of failing or opening more.

txdb_ready() {
    [ "$(asql "SELECT count(*) FROM pg_database WHERE datname = 'txdb'")" = 1 ] \
        || asql "CREATE DATABASE txdb OWNER app" >/dev/null || fail "could not create txdb"
    asql "CREATE TABLE IF NOT EXISTS tx_t (id int PRIMARY KEY, n bigint NOT NULL);
          ALTER TABLE tx_t OWNER TO app;
          INSERT INTO tx_t SELECT g, 0 FROM generate_series(1, 10) g ON CONFLICT DO NOTHING" txdb >/dev/null \
        || fail "could not create tx_t"
}

# pgbench_tx PORT OUT ARGS... : pgbench on txdb, output in OUT; while it
# runs, the client backends of txdb are sampled: the most seen in MAX_BACKENDS.
pgbench_tx() {
    local port=$1 out=$2 pid n
    shift 2
    timeout -k 5 120 "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U app "$@" txdb > "$out" 2>&1 &
    pid=$!
    MAX_BACKENDS=0
    while kill -0 "$pid" 2>/dev/null; do
        n=$(backend_count txdb app)
        [ "$n" -gt "$MAX_BACKENDS" ] && MAX_BACKENDS=$n
        sleep 0.2
    done
    wait "$pid" || true   # (pgbench_tx_check judges the output)
}

pgbench_tx_check() {   # OUT EXPECTED_PROCESSED WHAT
    local out
    out=$(cat "$1")
    printf '%s\n' "$out" | grep -E '^(number of|tps|pgbench:)' | head -n 8 >&2
    assert_not_contains "$out" "error" "$3: no pgbench errors"
    assert_contains "$out" "number of transactions actually processed: $2/$2" "$3: every transaction ran"
    assert_contains "$out" "number of failed transactions: 0 " "$3: no failed transactions"
}

it_test txpool_clients_share_pool 180
t_txpool_clients_share_pool() {
    needs_pgpoold
    local port max
    txdb_ready
    printf '%s\n' '\set id random(1, 10)' \
        'BEGIN;' \
        'UPDATE tx_t SET n = n + 1 WHERE id = :id;' \
        'SELECT n FROM tx_t WHERE id = :id;' \
        'END;' > "$WORK/tx_rw.sql"
    asql "UPDATE tx_t SET n = 0" txdb >/dev/null
    px_start txshare pool_mode='"transaction"' default_pool_size=3
    port=$PX_PORT
    # 60 clients, 3 backends: every statement of every transaction must
    # still run, on one backend per transaction
    pgbench_tx "$port" "$WORK/out/tx_rw.out" -c 60 -j 2 -t 20 -f "$WORK/tx_rw.sql"
    max=$MAX_BACKENDS
    note "60 clients in transaction pooling: at most $max backends of txdb seen (default_pool_size = 3)"
    pgbench_tx_check "$WORK/out/tx_rw.out" 1200 "60 clients x 20 read-write transactions"
    [ "$max" -le 3 ] || fail "$max backends for 60 clients with default_pool_size = 3"
    [ "$max" -ge 1 ] || fail "no backend seen during the run"
    # no update lost: 1200 increments in all
    assert_eq 1200 "$(asql "SELECT sum(n) FROM tx_t" txdb)" "sum of the 1200 increments"
    px_assert_alive txshare
}

it_test txpool_prepared_and_extended 180
t_txpool_prepared_and_extended() {
    needs_pgpoold
    local port mode max
    txdb_ready
    echo 'SELECT n FROM tx_t WHERE id = 3;' > "$WORK/tx_ro.sql"
    px_start txprep pool_mode='"transaction"' default_pool_size=2
    port=$PX_PORT
    for mode in extended prepared; do
        # prepared statements follow the client to whichever backend it gets
        pgbench_tx "$port" "$WORK/out/tx_$mode.out" -c 30 -j 2 -t 50 -M "$mode" -f "$WORK/tx_ro.sql"
        max=$MAX_BACKENDS
        note "-M $mode, 30 clients: at most $max backends seen (default_pool_size = 2)"
        pgbench_tx_check "$WORK/out/tx_$mode.out" 1500 "-M $mode, 30 clients"
        [ "$max" -le 2 ] || fail "-M $mode: $max backends with default_pool_size = 2"
    done
    px_assert_alive txprep
}

it_test txpool_waits_for_busy_backend 120
t_txpool_waits_for_busy_backend() {
    needs_pgpoold
    local port a b
    txdb_ready
    px_start txwait pool_mode='"transaction"' default_pool_size=1
    port=$PX_PORT
    # A holds the only backend in a transaction for 2 s; B, asking during
    # it, waits and then gets that same backend
    px_psql "$port" -d txdb -qAt -c "BEGIN" -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(2)" -c "COMMIT" \
        > "$WORK/out/txwait.a" 2>&1 &
    local apid=$!
    wait_until 10 "[ \"\$(asql \"SELECT count(*) FROM pg_stat_activity WHERE datname = 'txdb' AND query LIKE 'SELECT pg_sleep%'\")\" = 1 ]" \
        || fail "client A's transaction did not start: $(cat "$WORK/out/txwait.a")"
    b=$(px_psql "$port" -d txdb -qAt -c "SELECT pg_backend_pid()" 2>&1) || fail "client B failed: $b"
    bg_wait "$apid" 30 || fail "client A failed: $(cat "$WORK/out/txwait.a")"
    a=$(sed -n 1p "$WORK/out/txwait.a")
    note "A's backend $a; B (waited for it) got $b"
    assert_match "$a" '^[0-9]+$' "client A's backend pid"
    assert_eq "$a" "$b" "client B got the one backend once A's transaction ended"
    [ "$(backend_count txdb app)" -le 1 ] || fail "more than one backend with default_pool_size = 1"
}

it_test txpool_many_logins_few_backends 180
t_txpool_many_logins_few_backends() {
    needs_pgpoold
    local port max
    txdb_ready
    echo 'SELECT 1;' > "$WORK/tx_one.sql"
    px_start txlogin pool_mode='"transaction"' default_pool_size=2 max_clients=400
    port=$PX_PORT
    # pgbench connects all 300 clients before the first transaction: 300
    # logins at once share 2 backends (a login borrows one for the server's
    # parameters, then gives it back)
    pgbench_tx "$port" "$WORK/out/tx_login.out" -c 300 -j 2 -t 2 -f "$WORK/tx_one.sql"
    max=$MAX_BACKENDS
    note "300 clients logging in at once: at most $max backends seen (default_pool_size = 2)"
    pgbench_tx_check "$WORK/out/tx_login.out" 600 "300 clients"
    [ "$max" -le 2 ] || fail "$max backends for 300 logins with default_pool_size = 2"
    px_assert_alive txlogin
}

# Backend pids of two clients of USER on DB that run at the same time.
two_at_once_pids() {   # PORT USER DB
    local a b
    px_psql "$1" -U "$2" -d "$3" -qAt -c "SELECT pg_backend_pid() FROM pg_sleep(1)" > "$WORK/out/two.a" 2>&1 &
    a=$!
    px_psql "$1" -U "$2" -d "$3" -qAt -c "SELECT pg_backend_pid() FROM pg_sleep(1)" > "$WORK/out/two.b" 2>&1 &
    b=$!
    bg_wait "$a" 30 && bg_wait "$b" 30 || fail "$2@$3: $(cat "$WORK/out/two.a" "$WORK/out/two.b")"
    echo "$(cat "$WORK/out/two.a") $(cat "$WORK/out/two.b")"
}

it_test txpool_mode_per_database_and_user 120
t_txpool_mode_per_database_and_user() {
    needs_pgpoold
    local port pids out
    txdb_ready
    px_start txmode pool_mode='"session"' database_pool_mode_list='"txdb:transaction"' \
        user_pool_mode_list='"app2:session"' default_pool_size=1
    port=$PX_PORT
    # txdb is pooled by transaction (one backend): the two share it in turn
    pids=$(two_at_once_pids "$port" app txdb)
    note "app@txdb (transaction): $pids"
    assert_match "$pids" '^([0-9]+) \1$' "two clients of txdb share its one backend"
    # other databases keep pool_mode = session: a backend each
    pids=$(two_at_once_pids "$port" app appdb)
    note "app@appdb (session): $pids"
    assert_match "$pids" '^[0-9]+ [0-9]+$' "two clients of appdb"
    assert_not_contains "$(printf '%s' "$pids" | awk '$1 == $2 { print "same" }')" same "appdb clients have a backend each"
    # the user's mode wins over the database's
    pids=$(two_at_once_pids "$port" app2 txdb)
    note "app2@txdb (user says session): $pids"
    assert_not_contains "$(printf '%s' "$pids" | awk '$1 == $2 { print "same" }')" same "app2's clients of txdb have a backend each"
    # a bad mode is a configuration error
    px_init txbad database_pool_mode_list='"txdb:statement"'
    out=$("$PGPOOLD" -t -f "$PX_CONF" 2>&1) && fail "pgpoold -t accepted database_pool_mode_list txdb:statement"
    assert_contains "$out" 'database_pool_mode_list: "statement" is not session or transaction' "pgpoold -t names the bad entry"
}
