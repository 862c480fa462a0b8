# shellcheck shell=bash
# t/integration/lib-ha.sh - helpers for the routing, load-balancing, SHOW,
# replication-lag and failover tests (91-94-*.sh), on top of lib.sh.
#
# Two kinds of cluster:
#   - the runner's shared primary + standby ($PRIMARY_PORT, $STANDBY_PORT),
#     used by tests that only read, write rows, or pause replay (and always
#     resume it): rt_start puts a two-backend pgpoold in front of it;
#   - a private primary + standby per test (ha_cluster DIR), for tests that
#     stop or promote servers.  They are copies of a template made once per
#     run, live under DIR with their own unix socket folder and ports, and
#     are stopped (pg_ctl -m immediate) when the test's shell exits,
#     whatever way it exits.

# ---------------------------------------------------------------- clients
rwclient() {
    timeout -k 5 "${RW_TIMEOUT:-60}" "$PYTHON" "$IT_DIR/rwclient.py" "$@"
}

# Superuser SQL on the shared standby (unix socket, trust).
ssql() {
    PGCONNECT_TIMEOUT=10 timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X -qAt -v ON_ERROR_STOP=1 \
        -h "$PGSOCK" -p "$STANDBY_PORT" -U postgres -d "${2:-postgres}" -c "$1"
}

# Which server of the shared cluster a port is.
where_is() {
    case "$1" in
        "$PRIMARY_PORT") echo primary ;;
        "$STANDBY_PORT") echo standby ;;
        *) echo "port:$1" ;;
    esac
}

# SHOW pool_nodes column COL (1-based) of node NODE through PORT.
pool_nodes_field() {   # PORT NODE COL
    px_psql "$1" -qAt -c "SHOW pool_nodes" | awk -F'|' -v n="$2" -v c="$3" '$1 == n { print $c }'
}

# ---------------------------------------------------------------- configs
# A backends entry for px_set_backends.
ha_backend() {   # PORT WEIGHT APPLICATION_NAME [DATA_DIRECTORY]
    printf '  { hostname = "127.0.0.1"; port = %s; weight = %s; data_directory = "%s"; flag = "ALLOW_TO_FAILOVER"; application_name = "%s"; }' \
        "$1" "$2" "${4:-}" "$3"
}

# Replace the backends list of the config px_init just wrote ($PX_CONF).
px_set_backends() {   # ENTRY...
    local e first=1
    sed -i '/^backends = (/,$d' "$PX_CONF"
    {
        echo "backends = ("
        for e in "$@"; do
            [ "$first" = 1 ] || echo ","
            echo "$e"
            first=0
        done
        echo ");"
    } >> "$PX_CONF"
}

# px_init with default KEY=VALUE words from the array named DEFAULTS_VAR,
# overridden by the test's own (later words win, each key written once).
px_init_merged() {   # NAME DEFAULTS_VAR [KEY=VALUE...]
    local name=$1 defvar=$2 w k
    shift 2
    local -n defs=$defvar
    local -A kv=()
    local order=() args=()
    for w in "${defs[@]}" "$@"; do
        k=${w%%=*}
        [ -n "${kv[$k]+x}" ] || order+=("$k")
        kv[$k]=${w#*=}
    done
    for k in "${order[@]}"; do args+=("$k=${kv[$k]}"); done
    px_init "$name" "${args[@]}"
}

# rt_start NAME PRIMARY_WEIGHT STANDBY_WEIGHT [KEY=VALUE...]: a pgpoold in
# front of the shared primary (node 0) and standby (node 1, whose walreceiver
# calls itself "standby", the cluster_name), replication check every second.
# shellcheck disable=SC2034  # used through px_init_merged's nameref
RT_DEFAULTS=(sr_check_period=1 'sr_check_user="postgres"' 'sr_check_password="pgsecret"'
             'log_standby_delay="none"')
rt_start() {
    local name=$1 pw=$2 sw=$3
    shift 3
    px_init_merged "$name" RT_DEFAULTS "$@"
    px_set_backends "$(ha_backend "$PRIMARY_PORT" "$pw" node0 "$WORK/pg/primary")" \
                    "$(ha_backend "$STANDBY_PORT" "$sw" standby "$WORK/pg/standby")"
    px_run "$name" || fail "pgpoold '$name' did not start"
}

# ---------------------------------------------------------------- shared standby
# Wait until the shared standby has replayed everything the primary has now.
wait_standby_replayed() {   # [SECONDS]
    local lsn
    lsn=$(asql "SELECT pg_current_wal_lsn()")
    wait_until "${1:-30}" "[ \"\$(ssql \"SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn\" 2>/dev/null)\" = t ]"
}

replay_resume() {
    ssql "SELECT pg_wal_replay_resume()" >/dev/null 2>&1 || true
}

# Pause replay on the shared standby until replay_resume (also run when the
# test's shell exits or is killed by its timeout).
replay_pause() {
    trap 'replay_resume' EXIT
    trap 'replay_resume; exit 143' TERM INT
    ssql "SELECT pg_wal_replay_pause()" >/dev/null
    wait_until 10 '[ "$(ssql "SELECT pg_get_wal_replay_pause_state()")" = paused ]' \
        || fail "standby replay did not pause"
}

# ---------------------------------------------------------------- private clusters
HA_PGCONF="max_connections = 100
superuser_reserved_connections = 3
shared_buffers = 32MB
password_encryption = 'scram-sha-256'
fsync = off
full_page_writes = off
wal_keep_size = 256MB
log_connections = off
log_min_messages = warning
log_min_error_statement = panic"

# initdb once per run: roles postgres (password pgsecret) and app, database
# appdb; pg_hba as the shared cluster's.
ha_template() {
    local t=$WORK/ha-template
    (
        flock 9
        [ -f "$t/ready" ] && exit 0
        rm -rf "$t"
        mkdir -p "$t/run"
        printf 'pgsecret\n' > "$t/pw"
        [ "$PGC_IS_ROOT" = 1 ] && chown -R "$PGC_OS_USER:" "$t"
        chmod 600 "$t/pw"
        pgc_as_pg "$PGBIN/initdb" -N -D "$t/data" -U postgres -E UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 --pwfile="$t/pw" >"$t/initdb.log" 2>&1 || exit 1
        rm -f "$t/pw"
        local port
        port=$(alloc_port) || exit 1
        pgc_write_conf "$t/data" "$port" "$t/run" template "$HA_PGCONF"
        pgc_as_pg tee "$t/data/pg_hba.conf" >/dev/null <<'HBA'
# written by t/integration/lib-ha.sh
local   all          all                          trust
host    replication  postgres     127.0.0.1/32    scram-sha-256
host    all          postgres     127.0.0.1/32    scram-sha-256
host    all          all          127.0.0.1/32    trust
HBA
        pgc_start "$t/data" "$t/template.log" || exit 1
        local rc=0
        pgc_admin "$t/run" "$port" "CREATE ROLE app LOGIN" >>"$t/initdb.log" 2>&1 || rc=1
        pgc_admin "$t/run" "$port" "CREATE DATABASE appdb OWNER app" >>"$t/initdb.log" 2>&1 || rc=1
        pgc_stop "$t/data"
        [ "$rc" = 0 ] && touch "$t/ready"
    ) 9>"$WORK/ha-template.lock"
}

ha_port() { if [ "$1" = 0 ]; then echo "$HA_P0"; else echo "$HA_P1"; fi; }
ha_data() { if [ "$1" = 0 ]; then echo "$HA_D0"; else echo "$HA_D1"; fi; }

# Superuser SQL on private node N (unix socket, trust), unaligned.
ha_sql() {   # N SQL [DB]
    PGCONNECT_TIMEOUT=10 timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X -qAt -v ON_ERROR_STOP=1 \
        -h "$HA_DIR/run" -p "$(ha_port "$1")" -U postgres -d "${3:-appdb}" -c "$2"
}

# Stop private node N at once (as a crash would).
ha_kill() {   # N
    pgc_as_pg timeout -k 5 40 "$PGBIN/pg_ctl" -D "$(ha_data "$1")" -m immediate -w -t 30 stop >/dev/null 2>&1
}

ha_cleanup() {
    local n
    for n in 0 1; do
        [ -f "$(ha_data "$n")/postmaster.pid" ] && ha_kill "$n"
    done
    return 0
}

# (Re)create private node N as a streaming standby of node FROM and start
# it; its walreceiver's application_name is its cluster_name, "nodeN".
ha_standby() {   # N FROM
    local n=$1 d
    d=$(ha_data "$1")
    [ -f "$d/postmaster.pid" ] && ha_kill "$n"
    rm -rf "$d"
    pgc_basebackup 127.0.0.1 "$(ha_port "$2")" postgres pgsecret "$d" >>"$HA_DIR/setup.log" 2>&1 \
        || fail "pg_basebackup of node $n from node $2 failed: $(tail -n 5 "$HA_DIR/setup.log")"
    pgc_write_conf "$d" "$(ha_port "$n")" "$HA_DIR/run" "node$n" "$HA_PGCONF
hot_standby_feedback = on"
    pgc_start "$d" "$HA_DIR/node$n.log" >>"$HA_DIR/setup.log" 2>&1 \
        || fail "standby node $n did not start: $(tail -n 5 "$HA_DIR/node$n.log")"
    echo "$HA_DIR/node$n.log" >> "$WORK/logs.test"
}

# ha_cluster DIR [EXTRA_PRIMARY_CONF]: node0 primary, node1 its streaming
# standby, on fresh ports (HA_P0, HA_P1), data in HA_D0 / HA_D1
# ($WORK/pg/<DIR's name>-nodeN), logs and unix socket in DIR; both are
# stopped when the calling shell exits.  Also writes DIR/failover.sh, a
# failover_command that logs its arguments to DIR/failover.log and promotes
# the new main node when the failed node was the primary:
#   failover.sh %d %h %p %D %m %H %r %R %M %P %N %S
ha_cluster() {
    HA_DIR=$1
    ha_template || fail "could not make the cluster template: $(tail -n 5 "$WORK/ha-template/initdb.log" 2>/dev/null)"
    mkdir -p "$HA_DIR/run"
    [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$HA_DIR" "$HA_DIR/run"
    HA_P0=$(alloc_port) || fail "no free port"
    HA_P1=$(alloc_port) || fail "no free port"
    # data under $WORK/pg, where the runner also looks for servers left running
    HA_D0=$WORK/pg/$(basename "$HA_DIR")-node0
    HA_D1=$WORK/pg/$(basename "$HA_DIR")-node1
    trap 'ha_cleanup' EXIT
    trap 'ha_cleanup; exit 143' TERM INT
    cp -a "$WORK/ha-template/data" "$HA_D0"
    pgc_write_conf "$HA_D0" "$HA_P0" "$HA_DIR/run" node0 "$HA_PGCONF
${2:-}"
    pgc_start "$HA_D0" "$HA_DIR/node0.log" >>"$HA_DIR/setup.log" 2>&1 \
        || fail "node 0 did not start: $(tail -n 5 "$HA_DIR/node0.log")"
    echo "$HA_DIR/node0.log" >> "$WORK/logs.test"
    ha_standby 1 0
    wait_until 30 '[ "$(ha_sql 0 "SELECT state FROM pg_stat_replication WHERE application_name = '"'node1'"'" 2>/dev/null)" = streaming ]' \
        || fail "node 1 does not stream from node 0"
    cat > "$HA_DIR/failover.sh" <<EOF
#!/bin/bash
# failover_command for the tests: %d %h %p %D %m %H %r %R %M %P %N %S
echo "\$*" >> "$HA_DIR/failover.log"
failed=\$1 new_main=\$5 new_dir=\$8 old_primary=\${10}
if [ "\$failed" = "\$old_primary" ] && [ -n "\$new_main" ] && [ "\$new_main" -ge 0 ]; then
    if [ "\$(id -u)" = 0 ]; then
        runuser -u "$PGC_OS_USER" -- "$PGBIN/pg_ctl" promote -w -t 30 -D "\$new_dir"
    else
        "$PGBIN/pg_ctl" promote -w -t 30 -D "\$new_dir"
    fi
fi
EOF
    chmod 755 "$HA_DIR/failover.sh"
}

# A pgpoold in front of the private cluster: node 0 and node 1 with weights
# W0 and W1, health check and replication check every second, failover by
# DIR/failover.sh.
# shellcheck disable=SC2034  # used through px_init_merged's nameref
HA_PX_DEFAULTS=(health_check_period=1 health_check_timeout=3 health_check_max_retries=0
                health_check_retry_delay=1 'health_check_user="postgres"'
                'health_check_password="pgsecret"' sr_check_period=1
                'sr_check_user="postgres"' 'sr_check_password="pgsecret"'
                search_primary_node_timeout=30 connect_timeout=3000
                'log_standby_delay="none"')
ha_px_init() {   # NAME W0 W1 [KEY=VALUE...]
    local name=$1 w0=$2 w1=$3
    shift 3
    px_init_merged "$name" HA_PX_DEFAULTS \
        "failover_command=\"$HA_DIR/failover.sh %d %h %p %D %m %H %r %R %M %P %N %S\"" "$@"
    px_set_backends "$(ha_backend "$HA_P0" "$w0" node0 "$HA_D0")" \
                    "$(ha_backend "$HA_P1" "$w1" node1 "$HA_D1")"
}

ha_px_start() {   # NAME W0 W1 [KEY=VALUE...]
    ha_px_init "$@"
    px_run "$1" || fail "pgpoold '$1' did not start"
}

# Seconds since the epoch, with milliseconds.
now_s() { date +%s.%3N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
