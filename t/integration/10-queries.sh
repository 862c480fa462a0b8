# shellcheck shell=bash
# psql queries, errors, the extended protocol, function calls, parameters.

it_test queries_simple
t_queries_simple() {
    local out a b
    out=$(px_psql "$MAIN_PORT" -qAt -c "SELECT 1, 'a'::text, current_user, current_database()")
    assert_eq "1|a|app|appdb" "$out" "simple SELECT through the proxy"
    out=$(px_psql "$MAIN_PORT" -qAt -c "SELECT count(*), sum(i) FROM generate_series(1,100000) i")
    assert_eq "100000|5000050000" "$out" "aggregate over 100k rows"
    local q="SELECT i, md5(i::text), NULL::int AS n, repeat('é', i % 50), i::float8 / 7 FROM generate_series(1,5000) i"
    a=$(px_psql "$MAIN_PORT" -c "$q" | md5sum)
    b=$(direct_psql -c "$q" | md5sum)
    assert_eq "$b" "$a" "5000-row result identical through the proxy and direct"
    a=$(px_psql "$MAIN_PORT" -qAt -c "SHOW server_version")
    b=$(direct_psql -qAt -c "SHOW server_version")
    assert_eq "$b" "$a" "server_version"
}

# Run psql with VERBOSITY=verbose through the proxy and direct; stdout,
# stderr and the exit code must be the same.
compare_verbose() {   # SQL
    local p d prc=0 drc=0
    p=$(px_psql "$MAIN_PORT" -v VERBOSITY=verbose -c "$1" 2>&1) || prc=$?
    d=$(direct_psql -v VERBOSITY=verbose -c "$1" 2>&1) || drc=$?
    assert_eq "$d" "$p" "output of [$1] through the proxy equals direct"
    assert_eq "$drc" "$prc" "psql exit code of [$1]"
    printf '%s' "$p"
}

it_test queries_sql_errors
t_queries_sql_errors() {
    local out
    out=$(compare_verbose "SELECT 1/0")
    assert_contains "$out" "ERROR:  22012: division by zero" "division by zero with SQLSTATE"
    out=$(compare_verbose "SELECT * FROM no_such_table")
    assert_contains "$out" 'ERROR:  42P01: relation "no_such_table" does not exist' "missing table"
    compare_verbose "SELEC 1" >/dev/null
    compare_verbose "SELECT 'abc'::int" >/dev/null
    compare_verbose "DO \$\$ BEGIN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'custom', DETAIL = 'some detail', HINT = 'a hint'; END \$\$" >/dev/null
    # the session goes on after an error
    out=$(px_psql "$MAIN_PORT" -qAt -c "SELECT 1/0" -c "SELECT 'after-error'" 2>&1 || true)
    assert_contains "$out" "after-error" "same session answers after an error"
}

it_test queries_multi_statement
t_queries_multi_statement() {
    local out
    out=$(compare_verbose "SELECT 1 AS one; SELECT 2 AS two; SELECT 'three' AS three")
    assert_contains "$out" "three" "all three results"
    out=$(compare_verbose "BEGIN; CREATE TEMP TABLE t(x int); INSERT INTO t VALUES (1),(2),(3); SELECT sum(x) FROM t; COMMIT")
    assert_contains "$out" " 6" "transaction in one query string"
    out=$(compare_verbose "SELECT 1; SELECT 1/0; SELECT 3")
    assert_contains "$out" "division by zero" "error in the middle of a multi-statement query"
    out=$(px_psql "$MAIN_PORT" -qAt -c "BEGIN" -c "SELECT 1" -c "ROLLBACK" -c "SELECT 'x'")
    assert_eq $'1\nx' "$out" "explicit transaction across queries"
}

it_test queries_empty
t_queries_empty() {
    local out
    out=$(pgwire empty-query 127.0.0.1 "$MAIN_PORT" app appdb)
    assert_eq "IZ" "$out" "EmptyQueryResponse then ReadyForQuery"
    out=$(px_psql "$MAIN_PORT" -qAt -c ";" -c "SELECT 'after'")
    assert_eq "after" "$out" "psql ';' then a query"
}

it_test queries_nonexistent_db
t_queries_nonexistent_db() {
    local p d
    p=$(px_psql "$MAIN_PORT" -d no_such_db -c "SELECT 1" 2>&1) && fail "connecting to no_such_db succeeded: $p"
    d=$(direct_psql -d no_such_db -c "SELECT 1" 2>&1) && fail "direct connect to no_such_db succeeded"
    assert_contains "$p" 'FATAL:  database "no_such_db" does not exist' "PostgreSQL's error text"
    assert_eq "${d#*failed: }" "${p#*failed: }" "error text equals direct"
    p=$(pgwire startup-error 127.0.0.1 "$MAIN_PORT" app no_such_db)
    d=$(pgwire startup-error 127.0.0.1 "$PRIMARY_PORT" app no_such_db)
    assert_eq "$d" "$p" "ErrorResponse fields (severity, SQLSTATE, message)"
    assert_serving "$MAIN_PORT"
}

it_test queries_extended_protocol
t_queries_extended_protocol() {
    local p d
    p=$(pgwire extended 127.0.0.1 "$MAIN_PORT" app appdb)
    d=$(pgwire extended 127.0.0.1 "$PRIMARY_PORT" app appdb)
    printf '%s\n' "$p" >&2
    assert_eq "$d" "$p" "message sequence equals direct"
}

it_test queries_function_call
t_queries_function_call() {
    local oid
    oid=$(asql "SELECT 'int4pl'::regproc::oid")
    pgwire funccall 127.0.0.1 "$MAIN_PORT" app appdb "$oid"
}

it_test queries_notice
t_queries_notice() {
    local q="DO \$\$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END \$\$"
    local p d
    p=$(px_psql "$MAIN_PORT" -c "$q" 2>&1)
    d=$(direct_psql -c "$q" 2>&1)
    assert_contains "$p" "NOTICE:  hello 42" "NoticeResponse relayed"
    assert_eq "$d" "$p" "notices identical to direct"
}

it_test queries_parameter_status
t_queries_parameter_status() {
    local p d i
    d=$(pgwire params 127.0.0.1 "$PRIMARY_PORT" app appdb)
    for i in 1 2 3; do   # later rounds may come from the connection cache
        p=$(pgwire params 127.0.0.1 "$MAIN_PORT" app appdb)
        assert_eq "$d" "$p" "ParameterStatus set at startup (round $i)"
    done
    # a ParameterStatus change reaches libpq: psql's \encoding shows libpq's view
    p=$(px_psql "$MAIN_PORT" -qAt -c "SET client_encoding TO 'LATIN1'" -c '\encoding')
    assert_eq "LATIN1" "$p" "client_encoding change relayed as ParameterStatus"
    p=$(px_psql "$MAIN_PORT" -qAt -c '\encoding')
    assert_eq "UTF8" "$p" "next session has the default encoding again"
}

it_test queries_startup_options
t_queries_startup_options() {
    local out
    out=$(PGOPTIONS="-c work_mem=5MB" px_psql "$MAIN_PORT" -qAt -c "SHOW work_mem")
    assert_eq "5MB" "$out" "options from the startup packet"
    out=$(px_psql "$MAIN_PORT" -qAt -c "SHOW work_mem")
    assert_eq "4MB" "$out" "no options: server default (nothing leaked from the cache)"
    out=$(PGAPPNAME=first_app px_psql "$MAIN_PORT" -qAt -c "SHOW application_name")
    assert_eq "first_app" "$out" "application_name from the startup packet"
    out=$(PGAPPNAME=second_app px_psql "$MAIN_PORT" -qAt -c "SHOW application_name")
    assert_eq "second_app" "$out" "application_name of the next client"
}

# Session state must not leak to the next client that gets the same backend.
# The query the one pooled backend of app2 on appdb ran last.
app2_last_query() {
    asql "SELECT query FROM pg_stat_activity WHERE usename = 'app2' AND datname = 'appdb' AND backend_type = 'client backend'"
}

it_test queries_reset_only_when_needed 90
t_queries_reset_only_when_needed() {
    needs_pgpoold
    local port out stmt
    px_start rst max_pool=1 workers=1
    port=$PX_PORT
    # a session of plain reads and writes leaves nothing to reset: no
    # DISCARD ALL round trip before the next client gets the backend
    px_psql "$port" -U app2 -qAt -c "SELECT 1 AS clean_marker" >/dev/null
    wait_until 5 '[ "$(app2_last_query)" = "SELECT 1 AS clean_marker" ]' \
        || fail "after a clean session the backend ran [$(app2_last_query)]"
    # anything that may leave session state behind is reset
    for stmt in "SET work_mem = '7MB'" "SELECT set_config('work_mem', '7MB', false)" \
            "SELECT pg_advisory_lock(4242)" "SELECT 1 AS clean_marker"; do
        px_psql "$port" -U app2 -qAt -c "SELECT 1 AS clean_marker" -c "$stmt" >/dev/null
        if [ "$stmt" = "SELECT 1 AS clean_marker" ]; then
            wait_until 5 '[ "$(app2_last_query)" = "SELECT 1 AS clean_marker" ]' \
                || fail "after a clean session the backend ran [$(app2_last_query)]"
            continue
        fi
        wait_until 5 '[ "$(app2_last_query)" = "DISCARD ALL" ]' \
            || fail "after [$stmt] the backend was not reset: it last ran [$(app2_last_query)]"
        out=$(px_psql "$port" -U app2 -qAt -c "SHOW work_mem" \
            -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert_eq "4MB
0" "$out" "after [$stmt]: work_mem is the default, no advisory lock is held"
    done
}

it_test queries_session_reset
t_queries_session_reset() {
    needs_pgpoold
    local pid1 pid2 out try reused=0
    for try in 1 2 3 4 5; do
        pid1=$(px_psql "$MAIN_PORT" -U app2 -qAt \
            -c "SET work_mem = '7MB'" \
            -c "CREATE TEMP TABLE leak_t(x int)" \
            -c "PREPARE leak_p AS SELECT 1" \
            -c "LISTEN leak_ch" \
            -c "BEGIN" \
            -c "SELECT pg_backend_pid()")
        sleep 0.5
        out=$(px_psql "$MAIN_PORT" -U app2 -qAt \
            -c "SELECT pg_backend_pid()" \
            -c "SHOW work_mem" \
            -c "CREATE TEMP TABLE leak_t(x int)" \
            -c "PREPARE leak_p AS SELECT 1" \
            -c "SELECT count(*) FROM pg_listening_channels()" \
            -c "COMMIT" 2>"$WORK/reset.err")
        pid2=$(printf '%s\n' "$out" | head -n1)
        if [ "$pid1" = "$pid2" ]; then reused=1; break; fi
        note "try $try: backend $pid1 not reused (got $pid2)"
    done
    [ "$reused" = 1 ] || fail "the second session never got the first one's backend: no reuse to check"
    assert_eq "$pid1
4MB
0" "$out" "reset between clients: work_mem default, no LISTEN left"
    assert_eq "WARNING:  there is no transaction in progress" "$(cat "$WORK/reset.err")" \
        "reset between clients: no open transaction, temp table and prepared statement gone"
}
