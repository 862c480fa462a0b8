# shellcheck shell=bash
# Read/write routing (issue 3) over the shared primary + standby: where each
# class of statement runs, in the simple and the extended protocol;
# load_balance_mode = off; a transaction reads its own write; pgbench -S
# spreads select_cnt by the weights.
#
# Where a statement ran is read from inside it: inet_server_port() is the
# port of the PostgreSQL server that executed it.  The instances give the
# primary weight 0 and the standby weight 1, so every session's
# load-balance node is the standby and a read that is allowed to go there
# must go there.

# shellcheck source=lib-ha.sh
. "$IT_DIR/lib-ha.sh"

# Tables, a sequence and two functions in appdb (owner app), made directly on
# the primary; waits until the standby has them.
rt_schema() {   # PREFIX
    local p=$1
    asql "DROP TABLE IF EXISTS ${p}_t, ${p}_into;
DROP SEQUENCE IF EXISTS ${p}_seq;
CREATE TABLE ${p}_t (id int PRIMARY KEY, port int DEFAULT inet_server_port());
CREATE SEQUENCE ${p}_seq;
CREATE OR REPLACE FUNCTION ${p}_wf() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE FUNCTION ${p}_rf() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE ${p}_t OWNER TO app;
ALTER SEQUENCE ${p}_seq OWNER TO app;
INSERT INTO ${p}_t (id) VALUES (1);" appdb >/dev/null
    wait_standby_replayed 30 || fail "standby did not replay the test schema"
}

RT_MISMATCH=()
# Compare where a statement ran (port in OUTPUT, first field) with EXPECTED.
rt_expect() {   # EXPECTED WHAT OUTPUT
    local got=${3%%|*}
    got=${got%%,*}
    if [ "$(where_is "$got")" != "$1" ]; then
        RT_MISMATCH+=("$2: expected on the $1, got [$3]")
    fi
    return 0
}

rt_report() {   # WHAT
    if [ "${#RT_MISMATCH[@]}" -gt 0 ]; then
        printf '  %s\n' "${RT_MISMATCH[@]}" >&2
        fail "$1: ${#RT_MISMATCH[@]} statement(s) ran on the wrong node"
    fi
}

# One psql session through PORT; each SQL is one Query message.
rt_psql() {   # PORT SQL...
    local port=$1 a=()
    shift
    for s in "$@"; do a+=(-c "$s"); done
    px_psql "$port" -qAt -v ON_ERROR_STOP=1 "${a[@]}" 2>&1
}

# The statement classes shared by both protocols: EXPECTED|WHAT|SQL
rt_cases() {   # PREFIX
    local p=$1
    cat <<EOF
standby|plain SELECT|SELECT inet_server_port()
standby|read-only WITH|WITH r AS (SELECT 1 AS x) SELECT inet_server_port() FROM r
standby|SHOW of a PostgreSQL parameter|SHOW port
primary|INSERT|INSERT INTO ${p}_t (id) VALUES (100) RETURNING inet_server_port()
primary|UPDATE|UPDATE ${p}_t SET id = id WHERE id = 100 RETURNING inet_server_port()
primary|DELETE|DELETE FROM ${p}_t WHERE id = 100 RETURNING inet_server_port()
primary|SELECT FOR UPDATE|SELECT inet_server_port() FROM ${p}_t WHERE id = 1 FOR UPDATE
primary|SELECT FOR SHARE|SELECT inet_server_port() FROM ${p}_t WHERE id = 1 FOR SHARE
primary|SELECT nextval()|SELECT inet_server_port() WHERE nextval('${p}_seq') > 0
primary|function in write_function_list|SELECT inet_server_port() WHERE ${p}_wf() = 1
standby|function not in write_function_list|SELECT inet_server_port() WHERE ${p}_rf() = 1
primary|data-modifying CTE|WITH d AS (DELETE FROM ${p}_t WHERE id = -1 RETURNING id) SELECT inet_server_port()
primary|primary_routing_query_pattern_list match|SELECT inet_server_port() AS rt_force_primary
standby|COPY (SELECT) TO STDOUT|COPY (SELECT inet_server_port()) TO STDOUT
EOF
}

rt_routing_start() {   # NAME PREFIX [KEY=VALUE...]
    local name=$1 p=$2
    shift 2
    rt_start "$name" 0 1 "write_function_list=\"${p}_wf\"" \
        'primary_routing_query_pattern_list=".*rt_force_primary.*"' "$@"
}

it_test routing_classes_simple 120
t_routing_classes_simple() {
    needs_pgpoold
    local port out exp what sql p=rts
    rt_schema "$p"
    rt_routing_start rts "$p"
    port=$PX_PORT
    while IFS='|' read -r exp what sql; do
        out=$(rt_psql "$port" "$sql") || true
        rt_expect "$exp" "$what" "$out"
    done < <(rt_cases "$p")

    # SELECT INTO creates a table: on the primary, where it must exist now
    out=$(rt_psql "$port" "SELECT inet_server_port() AS p INTO ${p}_into") || RT_MISMATCH+=("SELECT INTO failed: $out")
    out=$(asql "SELECT p FROM ${p}_into" appdb 2>&1) || true
    rt_expect primary "SELECT INTO (table on the primary, value = the port it ran on)" "$out"

    # COPY FROM: the port column's default is evaluated where the rows go
    out=$(printf '200\n201\n' | px_psql "$port" -qAt -v ON_ERROR_STOP=1 -c "COPY ${p}_t (id) FROM STDIN" 2>&1) \
        || RT_MISMATCH+=("COPY FROM failed: $out")
    out=$(asql "SELECT string_agg(DISTINCT port::text, ',') FROM ${p}_t WHERE id IN (200, 201)" appdb)
    rt_expect primary "COPY FROM" "$out"

    # SET reaches both nodes the session uses
    out=$(rt_psql "$port" "SET work_mem = '7MB'" \
        "SELECT inet_server_port(), current_setting('work_mem')" \
        "SELECT inet_server_port(), current_setting('work_mem') WHERE nextval('${p}_seq') > 0")
    assert_eq "$STANDBY_PORT|7MB
$PRIMARY_PORT|7MB" "$out" "SET work_mem reaches the standby (read) and the primary (nextval)"

    # explicit transactions
    out=$(rt_psql "$port" BEGIN "SELECT inet_server_port()" \
        "INSERT INTO ${p}_t (id) VALUES (300)" \
        "SELECT inet_server_port(), count(*) FROM ${p}_t WHERE id = 300" COMMIT \
        "SELECT inet_server_port()")
    assert_eq "$STANDBY_PORT
$PRIMARY_PORT|1
$STANDBY_PORT" "$out" "BEGIN; SELECT (standby); INSERT; SELECT (primary, sees the row); COMMIT; SELECT (standby)"
    out=$(rt_psql "$port" "BEGIN READ ONLY" "SELECT inet_server_port()" "SELECT inet_server_port()" COMMIT)
    assert_eq "$STANDBY_PORT
$STANDBY_PORT" "$out" "BEGIN READ ONLY reads on the standby"
    out=$(rt_psql "$port" "BEGIN ISOLATION LEVEL SERIALIZABLE" "SELECT inet_server_port()" COMMIT)
    assert_eq "$PRIMARY_PORT" "$out" "SERIALIZABLE transaction reads on the primary"
    out=$(rt_psql "$port" "CREATE TEMP TABLE ${p}_tmp (x int)" "INSERT INTO ${p}_tmp VALUES (1)" \
        "SELECT inet_server_port() FROM ${p}_tmp" "SELECT inet_server_port()")
    assert_eq "$PRIMARY_PORT
$STANDBY_PORT" "$out" "SELECT from a temp table on the primary, other reads still on the standby"
    rt_report "simple protocol"
    asql "DROP TABLE IF EXISTS ${p}_into" appdb >/dev/null
}

it_test routing_classes_extended 120
t_routing_classes_extended() {
    needs_pgpoold
    local port out exp what sql p=rte i
    local sqls=() exps=() whats=() res=()
    rt_schema "$p"
    rt_routing_start rte "$p"
    port=$PX_PORT
    while IFS='|' read -r exp what sql; do
        sqls+=("$sql"); exps+=("$exp"); whats+=("$what")
    done < <(rt_cases "$p")
    # all in one session, each statement Parse/Bind/Describe/Execute/Sync
    mapfile -t res < <(rwclient ext 127.0.0.1 "$port" app appdb "${sqls[@]}" 2>&1)
    for i in "${!sqls[@]}"; do
        rt_expect "${exps[$i]}" "${whats[$i]}" "${res[$i]:-<no answer>}"
    done

    # named statements: Execute goes where the Parse went
    mapfile -t res < <(rwclient ext 127.0.0.1 "$port" app appdb \
        "@r1=SELECT inet_server_port()" "@w1=SELECT inet_server_port() FROM ${p}_t WHERE id = 1 FOR UPDATE" \
        "@r1" "@w1" "@r1" 2>&1)
    assert_eq "PARSED PARSED" "${res[0]:-} ${res[1]:-}" "Parse of two named statements"
    rt_expect standby "named read statement, 1st Execute" "${res[2]:-}"
    rt_expect primary "named FOR UPDATE statement" "${res[3]:-}"
    rt_expect standby "named read statement, 2nd Execute" "${res[4]:-}"

    # COPY FROM STDIN and SELECT INTO
    out=$(COPY_DATA=$'400\n401\n' rwclient ext 127.0.0.1 "$port" app appdb "COPYIN COPY ${p}_t (id) FROM STDIN" \
        "SELECT inet_server_port() AS p INTO ${p}_into" 2>&1)
    assert_eq $'COPY 2\nSELECT 1' "$out" "COPY FROM and SELECT INTO through the extended protocol"
    rt_expect primary "COPY FROM" "$(asql "SELECT string_agg(DISTINCT port::text, ',') FROM ${p}_t WHERE id IN (400, 401)" appdb)"
    rt_expect primary "SELECT INTO" "$(asql "SELECT p FROM ${p}_into" appdb 2>&1)"

    # session state, transactions, temp tables
    out=$(rwclient ext 127.0.0.1 "$port" app appdb "SET work_mem = '7MB'" \
        "SELECT inet_server_port(), current_setting('work_mem')" \
        "SELECT inet_server_port(), current_setting('work_mem') WHERE nextval('${p}_seq') > 0" 2>&1)
    assert_eq "SET
$STANDBY_PORT|7MB
$PRIMARY_PORT|7MB" "$out" "SET work_mem reaches the standby and the primary"
    out=$(rwclient ext 127.0.0.1 "$port" app appdb BEGIN "SELECT inet_server_port()" \
        "INSERT INTO ${p}_t (id) VALUES (300)" \
        "SELECT inet_server_port(), count(*) FROM ${p}_t WHERE id = 300" COMMIT "SELECT inet_server_port()" 2>&1)
    assert_eq "BEGIN
$STANDBY_PORT
INSERT 0 1
$PRIMARY_PORT|1
COMMIT
$STANDBY_PORT" "$out" "transaction: read on the standby, then the primary after its write"
    out=$(rwclient ext 127.0.0.1 "$port" app appdb "BEGIN READ ONLY" "SELECT inet_server_port()" COMMIT \
        "BEGIN ISOLATION LEVEL SERIALIZABLE" "SELECT inet_server_port()" COMMIT 2>&1)
    assert_eq "BEGIN
$STANDBY_PORT
COMMIT
BEGIN
$PRIMARY_PORT
COMMIT" "$out" "READ ONLY transaction on the standby, SERIALIZABLE on the primary"
    out=$(rwclient ext 127.0.0.1 "$port" app appdb "CREATE TEMP TABLE ${p}_tmp (x int)" \
        "INSERT INTO ${p}_tmp VALUES (1)" "SELECT inet_server_port() FROM ${p}_tmp" "SELECT inet_server_port()" 2>&1)
    assert_eq "CREATE TABLE
INSERT 0 1
$PRIMARY_PORT
$STANDBY_PORT" "$out" "temp table read on the primary"
    rt_report "extended protocol"
    asql "DROP TABLE IF EXISTS ${p}_into" appdb >/dev/null
}

it_test routing_load_balance_off 60
t_routing_load_balance_off() {
    needs_pgpoold
    local port out
    rt_start rtoff 0 1 load_balance_mode=false
    port=$PX_PORT
    out=$(rt_psql "$port" "SELECT inet_server_port()" "COPY (SELECT inet_server_port()) TO STDOUT" \
        "BEGIN READ ONLY" "SELECT inet_server_port()" COMMIT)
    assert_eq "$PRIMARY_PORT
$PRIMARY_PORT
$PRIMARY_PORT" "$out" "load_balance_mode = off: every read on the primary (simple protocol)"
    out=$(rwclient ext 127.0.0.1 "$port" app appdb "SELECT inet_server_port()" 2>&1)
    assert_eq "$PRIMARY_PORT" "$out" "load_balance_mode = off: extended protocol read on the primary"
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '$10 == "true" { print $1 }')
    assert_eq 0 "$out" "load_balance_node is the primary"
}

it_test routing_tx_reads_own_write 60
t_routing_tx_reads_own_write() {
    needs_pgpoold
    local port out
    asql "DROP TABLE IF EXISTS rtw_t; CREATE TABLE rtw_t (id int PRIMARY KEY, v text); ALTER TABLE rtw_t OWNER TO app" appdb >/dev/null
    wait_standby_replayed 30 || fail "standby did not replay the table"
    rt_start rtw 0 1
    port=$PX_PORT
    out=$(rt_psql "$port" BEGIN "INSERT INTO rtw_t VALUES (1, 'mine')" \
        "SELECT v FROM rtw_t WHERE id = 1" "UPDATE rtw_t SET v = 'changed' WHERE id = 1" \
        "SELECT v FROM rtw_t WHERE id = 1" ROLLBACK "SELECT count(*) FROM rtw_t")
    assert_eq "mine
changed
0" "$out" "simple protocol: a transaction reads its own insert and update; rolled back, nothing left"
    out=$(rwclient ext 127.0.0.1 "$port" app appdb BEGIN "INSERT INTO rtw_t VALUES (2, 'mine')" \
        "SELECT v FROM rtw_t WHERE id = 2" "UPDATE rtw_t SET v = 'changed' WHERE id = 2" \
        "SELECT v FROM rtw_t WHERE id = 2" COMMIT 2>&1)
    assert_eq "BEGIN
INSERT 0 1
mine
UPDATE 1
changed
COMMIT" "$out" "extended protocol: a transaction reads its own insert and update"
}

# select_cnt of both nodes through PORT: "N0 N1"
rt_select_cnt() {
    px_psql "$1" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ c[$1] = $9 } END { print c[0] + 0, c[1] + 0 }'
}

# pgbench -S -C (one session per transaction, each picking its load-balance
# node) through an instance with weights W0:W1; the standby's share of
# select_cnt must be W1/(W0+W1) within TOLERANCE.
rt_lb_run() {   # NAME W0 W1 TRANSACTIONS TOLERANCE
    local name=$1 w0=$2 w1=$3 n=$4 tol=$5 port before after d0 d1 rc=0 out
    rt_start "$name" "$w0" "$w1"
    port=$PX_PORT
    read -r -a before <<< "$(rt_select_cnt "$port")"
    out=$(timeout -k 5 120 "$PGBENCH" -n -S -C -c 4 -j 2 -t $((n / 4)) -h 127.0.0.1 -p "$port" -U app lbdb 2>&1) || rc=$?
    [ "$rc" = 0 ] || fail "pgbench -S -C exited with $rc: $(printf '%s' "$out" | tail -n 5)"
    read -r -a after <<< "$(rt_select_cnt "$port")"
    d0=$((after[0] - before[0])); d1=$((after[1] - before[1]))
    local share want
    share=$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.4f", b / (a + b) }')
    want=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.4f", b / (a + b) }')
    note "weights $w0:$w1: select_cnt +$d0 (primary) +$d1 (standby) over $n sessions: standby share $share (expected $want +- $tol)"
    [ $((d0 + d1)) -ge "$n" ] || fail "select_cnt grew by $((d0 + d1)), fewer than the $n SELECTs pgbench ran"
    awk -v s="$share" -v w="$want" -v t="$tol" 'BEGIN { d = s - w; if (d < 0) d = -d; exit !(d <= t) }' \
        || fail "standby share of select_cnt $share is not within $tol of $want (weights $w0:$w1)"
}

it_test routing_lb_weights 180
t_routing_lb_weights() {
    needs_pgpoold
    asql "SELECT 1 FROM pg_database WHERE datname = 'lbdb'" | grep -q 1 \
        || asql "CREATE DATABASE lbdb OWNER app" >/dev/null
    timeout -k 5 60 "$PGBENCH" -i -q -s 1 -h 127.0.0.1 -p "$PRIMARY_PORT" -U app lbdb >/dev/null 2>&1 \
        || fail "pgbench -i on the primary failed"
    wait_standby_replayed 60 || fail "standby did not replay the pgbench tables"
    # 2000 sessions: the share's standard deviation is 1.1 % (1:1) and 1.0 % (1:3)
    rt_lb_run rtlb11 1 1 2000 0.04
    rt_lb_run rtlb13 1 3 2000 0.04
}

# Ports that N new sessions' plain SELECT ran on, sorted and counted.
rt_ports_of() {   # PORT DB APPNAME N
    local i
    for i in $(seq 1 "$4"); do
        PGAPPNAME=$3 px_psql "$1" -d "$2" -qAt -c "SELECT inet_server_port()"
    done | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ' | sed 's/ $//'
}

it_test routing_redirect_preference_lists 120
t_routing_redirect_preference_lists() {
    needs_pgpoold
    local port out
    asql "SELECT 1 FROM pg_database WHERE datname = 'lbdb'" | grep -q 1 \
        || asql "CREATE DATABASE lbdb OWNER app" >/dev/null
    wait_standby_replayed 60 || fail "standby did not replay lbdb"
    rt_start rtpref 1 1 'database_redirect_preference_list="lbdb:standby,app.*:primary"' \
        'app_name_redirect_preference_list="to_primary:primary,to_node1:1"'
    port=$PX_PORT
    # (each list is anchored and case-insensitive; the application name wins)
    assert_eq "${STANDBY_PORT}x8" "$(rt_ports_of "$port" lbdb psql 8)" "lbdb:standby: every session reads on the standby"
    assert_eq "${PRIMARY_PORT}x8" "$(rt_ports_of "$port" appdb psql 8)" "app.*:primary: appdb reads on the primary"
    assert_eq "${PRIMARY_PORT}x4" "$(rt_ports_of "$port" lbdb TO_Primary 4)" "application_name to_primary wins over lbdb:standby"
    assert_eq "${STANDBY_PORT}x4" "$(rt_ports_of "$port" appdb to_node1 4)" "application_name to_node1 sends appdb's reads to node 1"
    px_init rtprefbad 'database_redirect_preference_list="lbdb:nowhere"'
    out=$("$PGPOOLD" -t -f "$PX_CONF" 2>&1) && fail "pgpoold -t accepted lbdb:nowhere"
    assert_contains "$out" 'database_redirect_preference_list: "nowhere" is not primary, standby or a node id' "the bad entry is named"
}
