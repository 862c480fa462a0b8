# shellcheck shell=bash
# Signals (SIGHUP reload, SIGTERM smart, SIGINT fast), pgpoold -t, @include,
# the unix socket, daemon mode.

it_test sighup_reload_hba 90
t_sighup_reload_hba() {
    needs_pgpoold
    local port pid out p rc=0
    px_start hup
    port=$PX_PORT; pid=$PX_PID
    assert_serving "$port" "before reload"
    # a session that stays open across the reload
    px_psql "$port" -qAt -c "SELECT pg_sleep(2.006)" -c "SELECT 'survived'" > "$WORK/across.out" 2>&1 &
    p=$!
    wait_active 1 'SELECT pg_sleep(2.006)' || fail "session did not start before the reload"
    sed -i -E 's/^(host +all +app +127\.0\.0\.1\/32 +)trust/\1reject/' "$PX_DIR/pool_hba.conf"
    grep -q 'app .*reject' "$PX_DIR/pool_hba.conf" || fail "test bug: hba line not rewritten"
    kill -HUP "$pid"
    wait_until 10 "! can_connect $port" \
        || fail "still accepted 10 s after pool_hba.conf changed to reject and SIGHUP"
    out=$(px_psql "$port" -c "SELECT 1" 2>&1 || true)
    assert_contains "$out" "rejects connection" "refused by the reloaded pool_hba.conf"
    bg_wait "$p" 15 || rc=$?
    [ "$rc" = 0 ] || fail "session open during the reload failed: $(cat "$WORK/across.out")"
    assert_contains "$(cat "$WORK/across.out")" survived "session open during the reload"
    sed -i -E 's/^(host +all +app +127\.0\.0\.1\/32 +)reject/\1trust/' "$PX_DIR/pool_hba.conf"
    kill -HUP "$pid"
    wait_until 10 can_connect "$port" \
        || fail "not accepted again after restoring trust and SIGHUP"
    px_assert_alive hup
}

it_test sighup_reload_pool_passwd 90
t_sighup_reload_pool_passwd() {
    needs_pgpoold
    local port pid out
    px_start hup2
    port=$PX_PORT; pid=$PX_PID
    out=$(PGPASSWORD=scrampass px_psql "$port" -U scramuser -w -qAt -c "SELECT 1" 2>&1) || fail "scramuser before reload: $out"
    sed -i 's/^scramuser:.*/scramuser:TEXTchangedpass/' "$PX_DIR/pool_passwd"
    kill -HUP "$pid"
    wait_until 10 "! PGPASSWORD=scrampass can_connect $port -w -U scramuser" \
        || fail "old password still accepted 10 s after pool_passwd changed and SIGHUP"
    out=$(PGPASSWORD=scrampass px_psql "$port" -U scramuser -w -c "SELECT 1" 2>&1 || true)
    assert_contains "$out" 'password authentication failed for user "scramuser"' "old password refused after reload"
    px_assert_alive hup2
}

it_test signal_sigterm_smart 90
t_signal_sigterm_smart() {
    needs_pgpoold
    local port pid p rc=0
    px_start smart
    port=$PX_PORT; pid=$PX_PID
    px_psql "$port" -qAt -c "SELECT pg_sleep(3.007)" -c "SELECT 'finished'" > "$WORK/smart.out" 2>&1 &
    p=$!
    wait_active 1 'SELECT pg_sleep(3.007)' \
        || fail "session did not start"
    kill -TERM "$pid"
    sleep 1
    pid_alive "$pid" || fail "pgpoold exited on SIGTERM while a client was still connected"
    bg_wait "$p" 15 || rc=$?
    [ "$rc" = 0 ] || fail "the connected client was cut off by a smart shutdown: $(cat "$WORK/smart.out")"
    assert_contains "$(cat "$WORK/smart.out")" finished "client finished its work"
    wait_exit "$pid" 10 \
        || fail "pgpoold still running 10 s after its last client left"
    wait "$pid"; rc=$?
    assert_eq 0 "$rc" "pgpoold exit status after smart shutdown"
}

it_test signal_sigint_fast 90
t_signal_sigint_fast() {
    needs_pgpoold
    local port pid p rc=0 t0
    px_start fast
    port=$PX_PORT; pid=$PX_PID
    px_psql "$port" -qAt -c "SELECT pg_sleep(20.008)" > "$WORK/fast.out" 2>&1 &
    p=$!
    wait_active 1 'SELECT pg_sleep(20.008)' \
        || fail "session did not start"
    t0=$SECONDS
    kill -INT "$pid"
    wait_exit "$pid" 8 \
        || fail "pgpoold still running 8 s after SIGINT (fast shutdown)"
    note "pgpoold exited $((SECONDS - t0)) s after SIGINT"
    wait "$pid"; rc=$?
    assert_eq 0 "$rc" "pgpoold exit status after fast shutdown"
    rc=0; bg_wait "$p" 10 || rc=$?
    [ "$rc" != 124 ] || fail "client still hanging after fast shutdown"
    [ "$rc" != 0 ] || fail "client did not notice the fast shutdown"
    note "client saw: $(cat "$WORK/fast.out")"
}

it_test config_check_good
t_config_check_good() {
    needs_pgpoold
    local out rc=0
    px_init checkgood
    out=$(timeout 20 "$PGPOOLD" -t -f "$PX_CONF" 2>&1) || rc=$?
    note "$out"
    assert_eq 0 "$rc" "pgpoold -t on a good config"
}

# check_bad NAME SETTING... : pgpoold -t must fail naming each bad setting
# with file:line.
check_bad() {
    local name=$1; shift
    local out rc=0 kv key
    px_init "$name" "$@"
    out=$(timeout 20 "$PGPOOLD" -t -f "$PX_CONF" 2>&1) || rc=$?
    note "pgpoold -t ($*): exit $rc: $out"
    [ "$rc" != 0 ] || fail "pgpoold -t accepted a config with: $*"
    [ "$rc" != 124 ] || fail "pgpoold -t hung"
    for kv in "$@"; do
        key=${kv%%=*}
        assert_contains "$out" "$key" "error names '$key'"
        assert_match "$out" "pgpoold\\.conf:[0-9]+" "error gives file:line"
    done
}

it_test config_check_bad
t_config_check_bad() {
    needs_pgpoold
    check_bad bad_unknown max_poool=4
    check_bad bad_range port=70000
    check_bad bad_type workers='"two"'
    check_bad bad_many max_poool=4 connection_life_tim=3 max_pool=-1
    # a syntax error
    px_init bad_syntax
    echo 'this is not = libconfig' >> "$PX_CONF"
    local rc=0 out
    out=$(timeout 20 "$PGPOOLD" -t -f "$PX_CONF" 2>&1) || rc=$?
    note "syntax error: exit $rc: $out"
    [ "$rc" != 0 ] || fail "pgpoold -t accepted a syntax error"
    assert_match "$out" "pgpoold\\.conf:[0-9]+" "syntax error gives file:line"
    # pgpoold without -t refuses to start with a bad config
    px_init bad_start max_poool=4
    rc=0; out=$(timeout 20 "$PGPOOLD" -n -f "$PX_CONF" 2>&1) || rc=$?
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "pgpoold started with a bad config (exit $rc)"
}

it_test config_include
t_config_include() {
    needs_pgpoold
    px_init inc
    # move everything except port/socket/log settings to a common file
    grep -vE '^(port|pcp_port|unix_socket_directories|logdir|pid_file_name) ' "$PX_CONF" > "$PX_DIR/common.conf"
    grep -E '^(port|pcp_port|unix_socket_directories|logdir|pid_file_name) ' "$PX_CONF" > "$PX_DIR/inst.conf"
    { echo '@include "common.conf"'; cat "$PX_DIR/inst.conf"; } > "$PX_CONF"
    local out rc=0
    out=$(cd / && timeout 20 "$PGPOOLD" -t -f "$PX_CONF" 2>&1) || rc=$?
    assert_eq 0 "$rc" "pgpoold -t with @include: $out"
    px_run inc || fail "pgpoold with @include did not start"
    assert_serving "$PX_PORT" "instance configured through @include"
}

it_test unix_socket
t_unix_socket() {
    needs_pgpoold
    local dir out
    dir=$WORK/px/main
    [ -S "$dir/.s.PGSQL.$MAIN_PORT" ] || fail "no socket $dir/.s.PGSQL.$MAIN_PORT"
    out=$(PGCONNECT_TIMEOUT=10 timeout 30 "$PSQL" -X -qAt -h "$dir" -p "$MAIN_PORT" -c "SELECT current_user, 'via unix socket'")
    assert_eq "app|via unix socket" "$out" "query over the unix socket"
}

it_test daemon_mode 60
t_daemon_mode() {
    needs_pgpoold
    local out rc=0 pid
    px_init daemon
    rm -f "$PX_DIR/pgpoold.pid"
    out=$(cd "$PX_DIR" && timeout 20 "$PGPOOLD" -f "$PX_CONF" 2>&1 </dev/null) || rc=$?
    assert_eq 0 "$rc" "pgpoold without -n returns once detached: $out"
    wait_until 10 test -s "$PX_DIR/pgpoold.pid" || fail "no pid file $PX_DIR/pgpoold.pid"
    pid=$(tr -dc '0-9' < "$PX_DIR/pgpoold.pid")
    echo "$pid daemon" >> "$WORK/pids.test"
    echo "$pid" > "$PX_DIR/pid"
    pid_alive "$pid" || fail "pid file names $pid, which is not running"
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q pgpoold || fail "pid $pid is not pgpoold"
    wait_until 10 "(exec 3<>/dev/tcp/127.0.0.1/$PX_PORT) 2>/dev/null" || fail "daemon not listening"
    assert_serving "$PX_PORT" "daemonized pgpoold"
    kill -INT "$pid"
    wait_exit "$pid" 10 || fail "daemon did not stop on SIGINT"
}
