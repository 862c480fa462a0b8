# shellcheck shell=bash
# pcpd and the pcp_* tools with a real pgpoold and real PostgreSQL servers
# (issue 5).  pcpd runs on the pgpoold instance's own config file; our
# tools and Pgpool-II 4.3's (Debian's pgpool2, /usr/sbin/pcp_*: only its
# client tools) are compared byte for byte.  The same checks without
# PostgreSQL, against a status fixture, are t/integration/test_pcp.sh; the
# first test here runs that script too.

# shellcheck source=lib-ha.sh
. "$IT_DIR/lib-ha.sh"

PCPD=$BUILD_DIR/pcpd/pcpd
PCP_OURS=$BUILD_DIR/tools
PCP_REF=${PCP_REF_DIR:-/usr/sbin}

# pcp_setup : pcp.conf next to $PX_CONF, a 0600 password file, and pcpd
# started on the instance made by px_init/rt_start (sets PCP_PORT).
pcp_setup() {
    [ -x "$PCPD" ] || skip "pcpd not built"
    PCP_PORT=$(sed -n 's/^pcp_port = \([0-9]*\);/\1/p' "$PX_CONF")
    [ -n "$PCP_PORT" ] || fail "no pcp_port in $PX_CONF"
    printf 'pcpadmin:%s\n' "$(printf secret | md5sum | cut -d' ' -f1)" > "$PX_DIR/pcp.conf"
    printf '*:%s:pcpadmin:secret\n' "$PCP_PORT" > "$PX_DIR/pcppass"
    chmod 600 "$PX_DIR/pcppass"
    export PCPPASSFILE=$PX_DIR/pcppass
    "$PCPD" -n -f "$PX_CONF" >>"$PX_DIR/pcpd.log" 2>&1 </dev/null &
    PCPD_PID=$!
    echo "$PCPD_PID pcpd" >> "$WORK/pids.test"
    echo "$PX_DIR/pcpd.log" >> "$WORK/logs.test"
    wait_until 10 "[ -S /tmp/.s.PGSQL.$PCP_PORT ]" || fail "pcpd did not start: $(tail -n 5 "$PX_DIR/pcpd.log")"
    PCP_ARGS=(-h 127.0.0.1 -p "$PCP_PORT" -U pcpadmin -w)
}

# pcp DIR NAME ARGS... : run a tool by its name; output in PCP_OUT/PCP_ERR/PCP_RC.
pcp_run() {
    local dir=$1 name=$2 rc=0
    shift 2
    ( exec -a "$name" "$dir/$name" "$@" ) >"$WORK/pcp.out" 2>"$WORK/pcp.err" </dev/null || rc=$?
    PCP_OUT=$(cat "$WORK/pcp.out"); PCP_ERR=$(cat "$WORK/pcp.err"); PCP_RC=$rc
}
pcp() { pcp_run "$PCP_OURS" "$@" "${PCP_ARGS[@]}"; }

# pcp_same NAME ARGS... : ours and Pgpool-II's print the same (a few tries:
# counters and idle seconds move between two calls).
pcp_same() {
    local try ref_out ref_err ref_rc
    [ -x "$PCP_REF/pcp_node_info" ] || skip "Pgpool-II's pcp tools not installed"
    for try in 1 2 3 4 5; do
        pcp_run "$PCP_REF" "$@" "${PCP_ARGS[@]}"
        ref_out=$PCP_OUT; ref_err=$PCP_ERR; ref_rc=$PCP_RC
        pcp_run "$PCP_OURS" "$@" "${PCP_ARGS[@]}"
        [ "$ref_out" = "$PCP_OUT" ] && [ "$ref_err" = "$PCP_ERR" ] && [ "$ref_rc" = "$PCP_RC" ] && return 0
        sleep 0.5
    done
    diff <(printf '%s\n%s\n' "$ref_out" "$ref_err") <(printf '%s\n%s\n' "$PCP_OUT" "$PCP_ERR") >&2
    fail "$* differs from Pgpool-II's (exit $ref_rc vs $PCP_RC)"
}

it_test pcp_fixture_suite 300
t_pcp_fixture_suite() {
    "$IT_DIR/test_pcp.sh" "$BUILD_DIR" >&2 || fail "t/integration/test_pcp.sh failed"
}

it_test pcp_real_reads_match_pgpool 120
t_pcp_real_reads_match_pgpool() {
    needs_pgpoold
    local port i
    rt_start pcpr 1 1 health_check_period=1 'health_check_user="postgres"' 'health_check_password="pgsecret"'
    port=$PX_PORT
    pcp_setup
    for i in $(seq 1 10); do px_psql "$port" -qAt -c "SELECT 1" >/dev/null; done
    wait_until 15 '[ "$(pool_nodes_field '"$port"' 1 12)" = streaming ]' || fail "no replication state"
    pcp_same pcp_node_count
    pcp_same pcp_node_info
    pcp_same pcp_node_info -v
    pcp_same pcp_node_info -n 1
    pcp_same pcp_health_check_stats 0
    pcp_same pcp_health_check_stats -v 1
    pcp_same pcp_pool_status
    pcp_same pcp_pool_status -v
    pcp_same pcp_proc_count
    pcp_same pcp_proc_count -v
    pcp_same pcp_proc_info
    pcp_same pcp_proc_info -a -v
    pcp_same pcp_watchdog_info
    pcp_same pcp_node_info -n 5
    # what pgpoold itself shows
    pcp pcp_node_info
    assert_match "$PCP_OUT" "^127\.0\.0\.1 $PRIMARY_PORT [12] 0\.500000 (up|waiting) up primary primary 0 none none " "node 0 line"
    assert_match "$PCP_OUT" "127\.0\.0\.1 $STANDBY_PORT [12] 0\.500000 (up|waiting) up standby standby [0-9]+ streaming async " "node 1 line"
    pcp pcp_proc_count
    assert_eq "$(cat "$PX_DIR/pid") " "$PCP_OUT" "pcp_proc_count is pgpoold's pid"
}

it_test pcp_detach_attach_standby 120
t_pcp_detach_attach_standby() {
    needs_pgpoold
    local port before after i
    rt_start pcpd1 1 1
    port=$PX_PORT
    pcp_setup
    for i in $(seq 1 20); do px_psql "$port" -qAt -c "SELECT 1" >/dev/null; done
    pcp pcp_detach_node 1
    assert_eq "pcp_detach_node -- Command Successful" "$PCP_OUT" "detach printed success: $PCP_ERR"
    wait_until 10 '[ "$(pool_nodes_field '"$port"' 1 4)" = down ]' || fail "SHOW pool_nodes does not show node 1 down"
    pcp pcp_detach_node 1
    assert_contains "$PCP_ERR" "status: [3] is not valid for failover" "detach of a down node"
    before=$(pool_nodes_field "$port" 1 9)
    for i in $(seq 1 30); do px_psql "$port" -qAt -c "SELECT 1" >/dev/null || fail "read $i failed with node 1 detached"; done
    after=$(pool_nodes_field "$port" 1 9)
    assert_eq "$before" "$after" "select_cnt of the detached standby"
    pcp pcp_node_info -n 1
    assert_match "$PCP_OUT" "^127\.0\.0\.1 $STANDBY_PORT 3 0\.500000 down " "pcp_node_info shows it down"
    pcp pcp_attach_node 1
    assert_eq "pcp_attach_node -- Command Successful" "$PCP_OUT" "attach"
    wait_until 10 '[ "$(pool_nodes_field '"$port"' 1 4)" != down ]' || fail "node 1 is still down after attach"
    for i in $(seq 1 30); do px_psql "$port" -qAt -c "SELECT 1" >/dev/null; done
    after=$(pool_nodes_field "$port" 1 9)
    [ "$after" -gt "$before" ] || fail "no reads reach node 1 after attach (select_cnt $before -> $after)"
}

# hold_start NAME MODE HOLE [KEY=VALUE...]: a pgpoold whose node 1 is the
# shared standby behind slowproxy.py on port HOLE (new connections held
# while $WORK/out/hold exists), reads weighted to node 1; checks a read
# lands there before anything is held.
hold_start() {
    local name=$1 mode=$2 hole=$3
    shift 3
    rm -f "$WORK/out/hold"
    px_init_merged "$name" RT_DEFAULTS sr_check_period=0 health_check_period=0 "pool_mode=\"$mode\"" "$@"
    px_set_backends "$(ha_backend "$PRIMARY_PORT" 0 node0 "$WORK/pg/primary")" \
                    "$(ha_backend "$hole" 1 standby "$WORK/pg/standby")"
    px_run "$name" || fail "pgpoold $name did not start"
    assert_eq "$STANDBY_PORT" "$(px_psql "$PX_PORT" -qAt -c "SELECT inet_server_port()")" \
        "$name: reads on node 1 before the hold"
}

# hold_sessions TAG: hold node 1, then three sessions log in to it
# (reusedb has no cached connection, so each must log in); their pids in
# HOLD_PIDS, output in $WORK/out/hold.TAG.N.  They must still be waiting 1 s on.
hold_sessions() {
    local i
    touch "$WORK/out/hold"
    HOLD_PIDS=()
    for i in 1 2 3; do
        px_psql "$PX_PORT" -d reusedb -qAt -c "SELECT inet_server_port()" > "$WORK/out/hold.$1.$i" 2>&1 &
        HOLD_PIDS+=($!)
    done
    sleep 1
    for i in 1 2 3; do
        pid_alive "${HOLD_PIDS[$((i - 1))]}" || fail "$1: session $i did not wait for node 1: $(cat "$WORK/out/hold.$1.$i")"
    done
}

# hold_answered TAG SECONDS: each held session was answered by the primary
# within SECONDS.
hold_answered() {
    local i
    for i in 1 2 3; do
        bg_wait "${HOLD_PIDS[$((i - 1))]}" "$2" || fail "$1: session $i still waits for node 1 after $2 s"
        assert_eq "$PRIMARY_PORT" "$(cat "$WORK/out/hold.$1.$i")" "$1: session $i read on the primary"
    done
}

slowproxy_start() {   # sets HOLE and PROXY_PID
    HOLE=$(alloc_port) || fail "no free port"
    timeout -k 5 110 "$PYTHON" "$IT_DIR/slowproxy.py" "$HOLE" "$STANDBY_PORT" "$WORK/out/hold" 60 &
    PROXY_PID=$!
    wait_until 10 "! pgc_can_bind $HOLE" || fail "slowproxy did not start"
}

# A standby that stops answering while sessions log in to it, then is
# detached: the sessions go on with the primary at once (they used to wait
# for a login that nobody would finish any more).
it_test pcp_detach_while_sessions_log_in 120
t_pcp_detach_while_sessions_log_in() {
    needs_pgpoold
    local mode t0
    slowproxy_start
    for mode in session transaction; do
        hold_start "hold-$mode" "$mode" "$HOLE" connect_timeout=60000
        pcp_setup
        hold_sessions "$mode"
        t0=$(now_s)
        pcp pcp_detach_node 1
        assert_eq "pcp_detach_node -- Command Successful" "$PCP_OUT" "$mode: detach: $PCP_ERR"
        hold_answered "$mode" 15
        note "$mode: sessions logging in to the held node 1 answered $(elapsed "$t0" "$(now_s)") s after the detach was asked"
        kill "$PCPD_PID" 2>/dev/null
        px_stop "hold-$mode" || fail "pgpoold did not stop"
    done
    kill "$PROXY_PID" 2>/dev/null
}

# The same held standby without a detach: connect_timeout ends the logins
# and the sessions read on the primary.  (health_check_timeout is short
# because the failed login makes the failover manager probe node 1 through
# the hold, and a shutdown waits for that probe.)
it_test backend_connect_timeout_during_login 90
t_backend_connect_timeout_during_login() {
    needs_pgpoold
    local mode t0
    slowproxy_start
    for mode in session transaction; do
        hold_start "cto-$mode" "$mode" "$HOLE" connect_timeout=2000 health_check_timeout=3 'log_min_messages="warning"'
        t0=$(now_s)
        hold_sessions "cto-$mode"
        hold_answered "cto-$mode" 15
        note "$mode: held logins given up and answered by the primary $(elapsed "$t0" "$(now_s)") s after they began (connect_timeout 2 s)"
        assert_contains "$(cat "$PX_LOG")" "could not connect to backend node 1: connect_timeout reached" \
            "$mode: the log says why node 1 was given up"
        px_stop "cto-$mode" || fail "pgpoold did not stop"
    done
    kill "$PROXY_PID" 2>/dev/null
}

it_test pcp_reload_applies_pool_hba 90
t_pcp_reload_applies_pool_hba() {
    needs_pgpoold
    local port
    rt_start pcphba 1 0
    port=$PX_PORT
    pcp_setup
    can_connect "$port" -U app2 -d appdb || fail "app2 cannot connect before the edit"
    sed -i 's/^host    all       app2        127.0.0.1\/32   trust$/host    all       app2        127.0.0.1\/32   reject/' "$PX_DIR/pool_hba.conf"
    grep -q "app2 .*reject" "$PX_DIR/pool_hba.conf" || fail "could not edit pool_hba.conf"
    can_connect "$port" -U app2 -d appdb || fail "the edit applied before any reload"
    pcp_same pcp_reload_config
    assert_eq "pcp_reload_config -- Command Successful" "$PCP_OUT" "reload"
    if can_connect "$port" -U app2 -d appdb; then fail "app2 still connects after pcp_reload_config"; fi
    can_connect "$port" -U app -d appdb || fail "app cannot connect after the reload"
}

it_test pcp_stop_fast_and_pgpoold_gone 90
t_pcp_stop_fast_and_pgpoold_gone() {
    needs_pgpoold
    local port pid
    rt_start pcpstop 1 1
    port=$PX_PORT
    pid=$(cat "$PX_DIR/pid")
    pcp_setup
    pcp pcp_stop_pgpool -m fast
    assert_eq "pcp_stop_pgpool -- Command Successful" "$PCP_OUT" "stop"
    wait_exit "$pid" 20 || fail "pgpoold did not stop after pcp_stop_pgpool -m fast"
    # pcpd stays: node info from the last state, changes refused
    pid_alive "$PCPD_PID" || fail "pcpd stopped with pgpoold"
    pcp pcp_node_info
    assert_eq 2 "$(printf '%s\n' "$PCP_OUT" | wc -l)" "node info after pgpoold stopped"
    pcp pcp_attach_node 1
    assert_contains "$PCP_ERR" "pgpoold is not running" "attach with pgpoold stopped"
    # pgpoold back: pcpd follows it
    px_run pcpstop || fail "pgpoold did not restart"
    pcp pcp_proc_count
    assert_eq "$(cat "$PX_DIR/pid") " "$PCP_OUT" "pcpd sees the restarted pgpoold"
}

it_test pcp_promote_real 180
t_pcp_promote_real() {
    needs_pgpoold
    local port
    ha_cluster "$WORK/ha-pcp"
    ha_px_start pcpprom 1 1
    port=$PX_PORT
    pcp_setup
    wait_until 15 '[ "$(pool_nodes_field '"$port"' 0 7)" = primary ]' || fail "node 0 is not the primary"
    pcp pcp_promote_node 0
    assert_contains "$PCP_ERR" "specified node is already primary node, can't promote node id 0" "promote the primary"
    pcp pcp_promote_node -s 1
    assert_eq "pcp_promote_node -- Command Successful" "$PCP_OUT" "promote -s 1: $PCP_ERR"
    wait_until 60 '[ "$(pool_nodes_field '"$port"' 1 7)" = primary ]' \
        || fail "node 1 is not the primary: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    wait_until 30 '[ "$(ha_sql 1 "SELECT pg_is_in_recovery()")" = f ]' || fail "node 1 was not promoted"
    wait_until 30 'px_psql '"$port"' -qAt -d appdb -c "CREATE TABLE IF NOT EXISTS pcp_t(i int); INSERT INTO pcp_t VALUES (1)" >/dev/null 2>&1' \
        || fail "no write through pgpoold after the promotion"
    pcp pcp_node_info -n 1
    assert_match "$PCP_OUT" " primary primary " "pcp_node_info: node 1 primary"
}
