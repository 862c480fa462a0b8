# shellcheck shell=bash
# SHOW pool_nodes / pool_version / pool_backend_stats and PGPOOL SHOW over
# SQL (issue 3), compared with ../shared/spec/show-commands.md: column
# names and order, value formats, wire format; other SHOWs reach PostgreSQL.

# shellcheck source=lib-ha.sh
. "$IT_DIR/lib-ha.sh"

SHOW_NODES_HEADER="node_id|hostname|port|status|pg_status|lb_weight|role|pg_role|select_cnt|load_balance_node|replication_delay|replication_state|replication_sync_state|last_status_change"

# A "%Y-%m-%d %H:%M:%S" local time within 10 minutes of now.
show_recent_time() {   # TEXT WHAT
    assert_match "$1" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$2 format"
    local t d
    t=$(date -d "$1" +%s) || fail "$2: date cannot read [$1]"
    d=$(( $(date +%s) - t ))
    [ "${d#-}" -le 600 ] || fail "$2 [$1] is $d s away from now"
}

it_test show_pool_nodes_columns 90
t_show_pool_nodes_columns() {
    needs_pgpoold
    local port out lines row i
    rt_start shown 1 3 health_check_period=1 'health_check_user="postgres"' 'health_check_password="pgsecret"'
    port=$PX_PORT
    # sessions that use both nodes (a node is "waiting" until one does)
    for i in $(seq 1 20); do px_psql "$port" -qAt -c "SELECT 1" >/dev/null; done
    # replication state and pg_role come from the replication check (every second)
    wait_until 15 '[ "$(pool_nodes_field '"$port"' 1 12)" = streaming ] && [ "$(pool_nodes_field '"$port"' 1 8)" = standby ] && [ "$(pool_nodes_field '"$port"' 0 5)" = up ] && [ "$(pool_nodes_field '"$port"' 1 5)" = up ]' \
        || fail "no replication_state/pg_role/pg_status within 15 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"

    out=$(px_psql "$port" -A -c "SHOW pool_nodes")
    mapfile -t lines <<< "$out"
    printf '%s\n' "$out" >&2
    assert_eq "$SHOW_NODES_HEADER" "${lines[0]}" "column names and order (psql -A header)"
    assert_eq "(2 rows)" "${lines[3]:-}" "two rows"

    IFS='|' read -r -a row <<< "${lines[1]}"
    assert_eq 14 "${#row[@]}" "node 0: 14 values"
    assert_eq 0 "${row[0]}" "node 0 node_id"
    assert_eq 127.0.0.1 "${row[1]}" "node 0 hostname"
    assert_eq "$PRIMARY_PORT" "${row[2]}" "node 0 port"
    assert_eq up "${row[3]}" "node 0 status"
    assert_eq up "${row[4]}" "node 0 pg_status (health check on)"
    assert_eq 0.250000 "${row[5]}" "node 0 lb_weight (1 of 1+3, %f)"
    assert_eq primary "${row[6]}" "node 0 role"
    assert_eq primary "${row[7]}" "node 0 pg_role"
    assert_match "${row[8]}" '^[0-9]+$' "node 0 select_cnt"
    assert_match "${row[9]}" '^(true|false)$' "node 0 load_balance_node"
    assert_eq 0 "${row[10]}" "node 0 replication_delay (primary)"
    assert_eq "" "${row[11]}" "node 0 replication_state (primary: empty)"
    assert_eq "" "${row[12]}" "node 0 replication_sync_state (primary: empty)"
    show_recent_time "${row[13]}" "node 0 last_status_change"

    IFS='|' read -r -a row <<< "${lines[2]}"
    assert_eq 14 "${#row[@]}" "node 1: 14 values"
    assert_eq 1 "${row[0]}" "node 1 node_id"
    assert_eq 127.0.0.1 "${row[1]}" "node 1 hostname"
    assert_eq "$STANDBY_PORT" "${row[2]}" "node 1 port"
    assert_eq up "${row[3]}" "node 1 status"
    assert_eq up "${row[4]}" "node 1 pg_status"
    assert_eq 0.750000 "${row[5]}" "node 1 lb_weight"
    assert_eq standby "${row[6]}" "node 1 role"
    assert_eq standby "${row[7]}" "node 1 pg_role"
    assert_match "${row[8]}" '^[0-9]+$' "node 1 select_cnt"
    assert_match "${row[9]}" '^(true|false)$' "node 1 load_balance_node"
    assert_match "${row[10]}" '^[0-9]+$' "node 1 replication_delay (bytes)"
    assert_eq streaming "${row[11]}" "node 1 replication_state"
    assert_eq async "${row[12]}" "node 1 replication_sync_state"
    show_recent_time "${row[13]}" "node 1 last_status_change"

    # exactly one load-balance node: the session's own
    out=$(printf '%s\n' "${lines[1]}" "${lines[2]}" | awk -F'|' '$10 == "true"' | wc -l)
    assert_eq 1 "$out" "exactly one row has load_balance_node = true"
    # the upper-case spelling is the same command
    out=$(px_psql "$port" -qAt -c "SHOW POOL_NODES" | wc -l)
    assert_eq 2 "$out" "SHOW POOL_NODES"

    # wire format (spec 2): type OID 0, column number = index, typlen -1, text
    out=$(rwclient rowdesc 127.0.0.1 "$port" app appdb "SHOW pool_nodes")
    local expect="" c n=0
    for c in ${SHOW_NODES_HEADER//|/ }; do
        expect+="$c 0 $n 0 -1 0 0"$'\n'
        n=$((n + 1))
    done
    expect+="rows=2 tag=SELECT 2 ready=I"
    assert_eq "$expect" "$out" "RowDescription, row count, CommandComplete tag, ReadyForQuery"
}

it_test show_pool_nodes_lb_and_counts 90
t_show_pool_nodes_lb_and_counts() {
    needs_pgpoold
    local port out before after i
    # health check off: pg_status "unknown" (spec 4)
    rt_start shownlb 0 1
    port=$PX_PORT
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ print $1, $5, $10 }')
    assert_eq "0 unknown false
1 unknown true" "$out" "pg_status unknown without health check; the session's load_balance_node (weights 0:1)"
    # select_cnt is exact: 5 reads on the standby, nothing on the primary
    before=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ printf "%s ", $9 }')
    for i in 1 2 3 4 5; do
        out=$(px_psql "$port" -qAt -c "SELECT inet_server_port()")
        assert_eq "$STANDBY_PORT" "$out" "read $i on the standby"
    done
    after=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ printf "%s ", $9 }')
    read -r -a b <<< "$before"; read -r -a a <<< "$after"
    assert_eq "0 5" "$((a[0] - b[0])) $((a[1] - b[1]))" "select_cnt growth of node 0 and node 1 after 5 SELECTs on the standby"

    # SHOW pool_backend_stats: columns, and insert_cnt / error_cnt counted per node
    out=$(px_psql "$port" -A -c "SHOW pool_backend_stats" | head -n 1)
    assert_eq "node_id|hostname|port|status|role|select_cnt|insert_cnt|update_cnt|delete_cnt|ddl_cnt|other_cnt|panic_cnt|fatal_cnt|error_cnt" \
        "$out" "SHOW pool_backend_stats columns"
    asql "DROP TABLE IF EXISTS show_t; CREATE TABLE show_t (id int); ALTER TABLE show_t OWNER TO app" appdb >/dev/null
    before=$(px_psql "$port" -qAt -c "SHOW pool_backend_stats" | awk -F'|' '$1 == 0 { print $7, $14 }')
    px_psql "$port" -qAt -c "INSERT INTO show_t VALUES (1)" >/dev/null
    px_psql "$port" -qAt -c "INSERT INTO show_t VALUES (1/0)" >/dev/null 2>&1 || true
    after=$(px_psql "$port" -qAt -c "SHOW pool_backend_stats" | awk -F'|' '$1 == 0 { print $7, $14 }')
    read -r -a b <<< "$before"; read -r -a a <<< "$after"
    assert_eq "2 1" "$((a[0] - b[0])) $((a[1] - b[1]))" "node 0 insert_cnt +2 (failed ones count too), error_cnt +1"
}

it_test show_version_pgpool_show 60
t_show_version_pgpool_show() {
    needs_pgpoold
    local port out
    rt_start showv 0 1
    port=$PX_PORT
    out=$(px_psql "$port" -A -c "SHOW pool_version")
    assert_eq "pool_version" "$(printf '%s\n' "$out" | head -n 1)" "SHOW pool_version column"
    assert_match "$(printf '%s\n' "$out" | sed -n 2p)" '^[0-9]+\.[0-9]+(\.[0-9]+)? \(.+\)$' "pool_version value: <version> (<name>)"
    assert_eq "(1 row)" "$(printf '%s\n' "$out" | sed -n 3p)" "one row"

    out=$(px_psql "$port" -A -c "PGPOOL SHOW port")
    assert_eq "port
$port
(1 row)" "$out" "PGPOOL SHOW port: pgpoold's own port, column named port"
    out=$(px_psql "$port" -qAt -c "PGPOOL SHOW load_balance_mode")
    assert_eq on "$out" "PGPOOL SHOW load_balance_mode"
    out=$(px_psql "$port" -qAt -c "PGPOOL SHOW no_such_param" -c "SELECT 'after'" 2>&1 || true)
    assert_contains "$out" 'config variable "no_such_param" not found' "unknown parameter"
    assert_contains "$out" after "the session goes on after the error"

    # other SHOWs are PostgreSQL's
    out=$(px_psql "$port" -qAt -c "SHOW work_mem" -c "SET work_mem = '7MB'" -c "SHOW work_mem")
    assert_eq "$(asql "SHOW work_mem")
7MB" "$out" "SHOW work_mem reaches PostgreSQL (and sees SET)"
    out=$(px_psql "$port" -qAt -c "SHOW port")
    assert_eq "$STANDBY_PORT" "$out" "SHOW port is PostgreSQL's (load-balanced to the standby)"
}
