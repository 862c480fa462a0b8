# shellcheck shell=bash
# The booking deployment (issue 6): scripts/start-pgpool.sh brings up the
# three instances on their real ports (pgpoold 5432-5434, pcpd 9898-9900,
# PostgreSQL 5435-5440), check-health.sh reports them healthy, each proxy
# reaches its own database and sends writes to its primary, SHOW pool_nodes
# shows two nodes up, a second start is a no-op, stop-pgpool.sh leaves no
# process and no port, a start after the stop brings back the same data, and
# `make install DESTDIR=...` puts every file where the README says.
#
# Everything lives in a folder of its own ($WORK/deploy: data, .env, pgpass,
# pcppass), so neither the suite's shared cluster nor the caller's ~/.pgpass
# or .env are touched.  The test skips when one of the ports is taken by
# something else (in CI they are free).
#
# Part of t/integration/run.sh, or on its own:
#   t/integration/200-deployment.sh [BUILD_DIR]

# run on its own (see the end): lib.sh is sourced below
command -v it_test >/dev/null 2>&1 || it_test() { :; }

DEPLOY_PORTS="5432 5433 5434 5435 5436 5437 5438 5439 5440 9898 9899 9900"

# Runs the deployment scripts with the test's own files.
dp_env() {
    env -u PGUSER -u PGDATABASE -u PGPASSWORD -u PGHOST -u PGPORT \
        ENV_FILE="$DP/env" DATA_DIR="$DP/data" PGPASS_FILE="$DP/pgpass" \
        PCPPASS_FILE="$DP/pcppass" PGPOOLD_BUILD_DIR="$BUILD_DIR" "$@"
}

dp_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dp_skip_if_ports_taken() {
    local p taken=()
    for p in $DEPLOY_PORTS; do dp_port_open "$p" && taken+=("$p"); done
    [ "${#taken[@]}" -eq 0 ] || skip "booking ports in use by something else: ${taken[*]}"
}

# Processes of this deployment still alive: pgpoold/pcpd/postgres whose
# command line names $DP.
dp_our_processes() {
    local d cmd
    for d in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null < "$d/cmdline") || continue
        case "$cmd" in *"$DP/"*) echo "${d#/proc/} $cmd" ;; esac
    done
    return 0
}

# psql through a booking port with the test's pgpass file
dp_psql() {   # PORT DB SQL [USER]
    PGPASSFILE=$DP/pgpass PGCONNECT_TIMEOUT=10 timeout -k 5 60 "$PSQL" -X -w -qAt \
        -h localhost -p "$1" -U "${4:-postgres}" -d "$2" -c "$3"
}

dp_cleanup() {
    [ -n "${DP:-}" ] && [ -d "$DP" ] || return 0
    dp_env "$DP_ROOT/scripts/stop-pgpool.sh" --purge >> "$DP/stop-at-exit.log" 2>&1 || true
}

it_test deployment_booking 1200
t_deployment_booking() {
    needs_pgpoold
    DP_ROOT=$(cd "$IT_DIR/../.." && pwd)
    [ -x "$BUILD_DIR/pgpoold/pgpoold" ] || fail "pgpoold is not built in $BUILD_DIR"
    dp_skip_if_ports_taken
    DP=$WORK/deploy
    mkdir -p "$DP"
    chmod 755 "$DP"
    trap dp_cleanup EXIT
    trap 'dp_cleanup; exit 143' TERM INT
    local out rc i port db pport sport n

    # ---- first start: creates everything
    rc=0
    out=$(dp_env "$DP_ROOT/scripts/start-pgpool.sh" 2>&1) || rc=$?
    printf '%s\n' "$out" > "$DP/start1.log"
    [ "$rc" = 0 ] || fail "start-pgpool.sh failed (exit $rc):
$(tail -n 40 "$DP/start1.log")"
    assert_contains "$out" "psql -h localhost -p 5432 -U postgres -d booking_system_auth" "start prints how to connect"
    assert_contains "$out" "$DP/data/log/" "start prints where the logs are"
    grep -q '^POSTGRES_PASSWORD=[A-Za-z0-9]\{16,\}$' "$DP/env" || fail "no generated POSTGRES_PASSWORD in the env file"
    [ "$(stat -c %a "$DP/env")" = 600 ] || fail "env file is not mode 600"
    [ "$(stat -c %a "$DP/pgpass")" = 600 ] || fail "pgpass is not mode 600"

    # the printed psql command works as printed (no password typed)
    local line
    line=$(printf '%s\n' "$out" | grep -m1 'psql -h localhost -p 5432 -U postgres -d booking_system_auth' | sed 's/^ *//')
    out=$(eval "$line -X -w -qAt -c 'SELECT current_database()'" 2>&1 </dev/null) \
        || fail "printed command '$line' fails: $out"
    assert_eq booking_system_auth "$out" "printed psql command reaches booking_system_auth"

    # ---- check-health: all healthy
    rc=0
    out=$(dp_env "$DP_ROOT/scripts/check-health.sh" --wait 90 2>&1) || rc=$?
    [ "$rc" = 0 ] || fail "check-health.sh is not healthy (exit $rc):
$out"
    assert_contains "$out" "healthy: auth event ticket" "check-health summary"
    out=$(dp_env "$DP_ROOT/scripts/check-health.sh" --json 2>&1) || fail "check-health.sh --json: $out"
    printf '%s' "$out" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
assert d["healthy"] is True, d
assert [i["name"] for i in d["instances"]] == ["auth", "event", "ticket"], d
for i in d["instances"]:
    nodes = [c for c in i["checks"] if c["check"].startswith("node ")]
    assert len(nodes) == 2 and all(c["status"] in ("up", "waiting") for c in nodes), i
    assert sorted(c["role"] for c in nodes) == ["primary", "standby"], i
' || fail "check-health --json: $out"

    # ---- each proxy: its database, writes on its primary, two nodes up
    for i in auth:5432:booking_system_auth:5435:5436 event:5433:booking_system_event:5437:5438 \
             ticket:5434:booking_system_ticket:5439:5440; do
        IFS=: read -r n port db pport sport <<< "$i"
        out=$(dp_psql "$port" "$db" "SELECT current_database()" 2>&1) || fail "$n: psql through $port: $out"
        assert_eq "$db" "$out" "$n: port $port reaches $db"
        out=$(dp_psql "$port" "$db" "CREATE TABLE IF NOT EXISTS deploy_check (id int, port int)" 2>&1) \
            || fail "$n: CREATE TABLE through $port: $out"
        out=$(dp_psql "$port" "$db" "INSERT INTO deploy_check VALUES (1, inet_server_port()) RETURNING port" 2>&1) \
            || fail "$n: INSERT through $port: $out"
        assert_eq "$pport" "$out" "$n: the write ran on the primary ($pport)"
        out=$(dp_psql "$pport" "$db" "SELECT count(*) FROM deploy_check WHERE port = $pport" 2>&1)
        assert_eq 1 "$out" "$n: the row is on the primary"
        wait_until 30 "[ \"\$(dp_psql $sport $db 'SELECT count(*) FROM deploy_check' 2>/dev/null)\" = 1 ]" \
            || fail "$n: the row did not reach the standby ($sport)"
        out=$(dp_psql "$port" "$db" "SHOW pool_nodes" 2>&1) || fail "$n: SHOW pool_nodes: $out"
        [ "$(printf '%s\n' "$out" | awk -F'|' '$4 == "up" || $4 == "waiting"' | wc -l)" = 2 ] \
            || fail "$n: SHOW pool_nodes does not show two nodes up:
$out"
        # the application user works too
        out=$(dp_psql "$port" "$db" "SELECT current_user" booking 2>&1) || fail "$n: user booking: $out"
        assert_eq booking "$out" "$n: application user"
    done

    # ---- PCP: pcp_node_info through each pcpd
    if [ -x "$BUILD_DIR/pcpd/pcpd" ] && [ -x "$BUILD_DIR/tools/pcp_node_info" ]; then
        for port in 9898 9899 9900; do
            out=$(PCPPASSFILE=$DP/pcppass timeout 30 "$BUILD_DIR/tools/pcp_node_info" -w -h localhost -p "$port" -U pgpool 2>&1) \
                || fail "pcp_node_info -p $port: $out"
            [ "$(printf '%s\n' "$out" | grep -c ' up ')" = 2 ] || fail "pcp_node_info -p $port: not two nodes up:
$out"
        done
    else
        note "pcpd or the pcp tools are not built: PCP not checked"
    fi

    # ---- a second start is a no-op
    rc=0
    out=$(dp_env "$DP_ROOT/scripts/start-pgpool.sh" 2>&1) || rc=$?
    printf '%s\n' "$out" > "$DP/start2.log"
    [ "$rc" = 0 ] || fail "second start-pgpool.sh failed (exit $rc): $(tail -n 30 "$DP/start2.log")"
    assert_contains "$out" "already up: everything was running, nothing changed" "second start says so"
    if printf '%s\n' "$out" | grep -E ' (started|created|initdb|pg_basebackup)( |$)'; then
        fail "second start started or created something"
    fi

    # ---- stop: no process, no port
    rc=0
    out=$(dp_env "$DP_ROOT/scripts/stop-pgpool.sh" 2>&1) || rc=$?
    [ "$rc" = 0 ] || fail "stop-pgpool.sh failed (exit $rc): $out"
    out=$(dp_our_processes)
    [ -z "$out" ] || fail "processes left after stop-pgpool.sh: $out"
    for port in $DEPLOY_PORTS; do
        dp_port_open "$port" && fail "port $port still open after stop-pgpool.sh"
    done
    [ -d "$DP/data/pg/auth/primary" ] || fail "stop-pgpool.sh removed the data"

    # ---- start after stop: the same data, nothing created
    rc=0
    out=$(dp_env "$DP_ROOT/scripts/start-pgpool.sh" 2>&1) || rc=$?
    printf '%s\n' "$out" > "$DP/start3.log"
    [ "$rc" = 0 ] || fail "start after stop failed (exit $rc): $(tail -n 30 "$DP/start3.log")"
    if printf '%s\n' "$out" | grep -E 'initdb|pg_basebackup|created'; then
        fail "start after stop re-created something"
    fi
    out=$(dp_env "$DP_ROOT/scripts/check-health.sh" --wait 90 2>&1) || fail "not healthy after restart: $out"
    out=$(dp_psql 5434 booking_system_ticket "SELECT count(*) FROM deploy_check" 2>&1)
    assert_eq 1 "$out" "data kept across stop/start"

    # ---- stop --purge
    out=$(dp_env "$DP_ROOT/scripts/stop-pgpool.sh" --purge 2>&1) || fail "stop-pgpool.sh --purge: $out"
    [ ! -e "$DP/data" ] || fail "--purge left $DP/data"
    out=$(dp_our_processes)
    [ -z "$out" ] || fail "processes left after --purge: $out"
    for port in $DEPLOY_PORTS; do
        dp_port_open "$port" && fail "port $port still open after stop-pgpool.sh --purge"
    done
    trap - EXIT TERM INT
    return 0
}

# make install DESTDIR=... : every file in the place the README names.
it_test deployment_make_install 600
t_deployment_make_install() {
    [ -f "$BUILD_DIR/Makefile" ] || skip "no Makefile in $BUILD_DIR"
    local dest=$WORK/destdir out dirs sbindir pgpoolddir unitdir man1dir man8dir f missing=()
    out=$(make -C "$BUILD_DIR" install DESTDIR="$dest" 2>&1) || fail "make install DESTDIR failed: $(printf '%s\n' "$out" | tail -n 30)"
    # shellcheck disable=SC2016
    printf 'print-install-dirs:\n\t@echo $(sbindir) $(pgpoolddir) $(systemdsystemunitdir) $(man1dir) $(man8dir)\n' > "$WORK/dirs.mk"
    dirs=$(make -s -C "$BUILD_DIR" -f Makefile -f "$WORK/dirs.mk" print-install-dirs) || fail "cannot read the install folders"
    read -r sbindir pgpoolddir unitdir man1dir man8dir <<< "$dirs"
    for f in pgpoold pcpd pcp_node_info pcp_attach_node pcp_detach_node pcp_promote_node pcp_node_count \
             pcp_pool_status pcp_proc_info pcp_proc_count pcp_health_check_stats pcp_stop_pgpool \
             pcp_reload_config pcp_recovery_node pcp_watchdog_info; do
        [ -x "$dest$sbindir/$f" ] || missing+=("$sbindir/$f")
    done
    for f in pgpool-common.conf pgpool-auth.conf pgpool-event.conf pgpool-ticket.conf pool_hba.conf \
             pool_passwd pcp.conf failover.sh follow_primary.sh env.example pgpoold.conf.sample pgpoold.logrotate; do
        [ -f "$dest$pgpoolddir/$f" ] || missing+=("$pgpoolddir/$f")
    done
    [ -x "$dest$pgpoolddir/failover.sh" ] || missing+=("$pgpoolddir/failover.sh (executable)")
    [ "$(stat -c %a "$dest$pgpoolddir/pool_passwd" 2>/dev/null)" = 600 ] || missing+=("$pgpoolddir/pool_passwd (mode 600)")
    for f in pgpoold@.service pcpd@.service; do
        [ -f "$dest$unitdir/$f" ] || missing+=("$unitdir/$f")
    done
    for f in "$man8dir/pgpoold.8" "$man8dir/pcpd.8" "$man1dir/pcp_tools.1" "$man1dir/pcp_node_info.1"; do
        [ -f "$dest$f" ] || missing+=("$f")
    done
    [ "${#missing[@]}" -eq 0 ] || fail "make install DESTDIR did not install: ${missing[*]}"
    grep -q "^ExecStart=$sbindir/pgpoold -n -f $pgpoolddir/pgpool-%i.conf\$" "$dest$unitdir/pgpoold@.service" \
        || fail "pgpoold@.service ExecStart: $(grep ExecStart "$dest$unitdir/pgpoold@.service")"
    grep -q "^failover_command = \"$pgpoolddir/failover.sh " "$dest$pgpoolddir/pgpool-common.conf" \
        || fail "installed pgpool-common.conf does not call $pgpoolddir/failover.sh"
    # the installed samples are valid configurations
    for f in auth event ticket; do
        out=$("$dest$sbindir/pgpoold" -t -f "$dest$pgpoolddir/pgpool-$f.conf" 2>&1) \
            || fail "pgpoold -t rejects the installed pgpool-$f.conf: $out"
    done
    # the units pass systemd-analyze verify (with the units' paths made real)
    if command -v systemd-analyze >/dev/null 2>&1; then
        local sd=$WORK/sdverify
        mkdir -p "$sd"
        sed -e "s|$sbindir/|$dest$sbindir/|g" -e 's|^Documentation=.*||' "$dest$unitdir/pgpoold@.service" > "$sd/pgpoold@.service"
        sed -e "s|$sbindir/|$dest$sbindir/|g" -e 's|^Documentation=.*||' "$dest$unitdir/pcpd@.service" > "$sd/pcpd@.service"
        ln -sf pgpoold@.service "$sd/pgpoold@auth.service"
        ln -sf pcpd@.service "$sd/pcpd@auth.service"
        out=$(systemd-analyze verify "$sd/pgpoold@auth.service" "$sd/pcpd@auth.service" 2>&1) || {
            if printf '%s' "$out" | grep -qiE 'pgpoold@|pcpd@'; then
                fail "systemd-analyze verify: $out"
            fi
            note "systemd-analyze verify could not run here: $out"
        }
    fi
    make -C "$BUILD_DIR" uninstall DESTDIR="$dest" >/dev/null 2>&1 || fail "make uninstall DESTDIR failed"
    return 0
}

# ---------------------------------------------------------------- standalone
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    export IT_DIR
    # shellcheck source=lib.sh
    . "$IT_DIR/lib.sh"
    BUILD_DIR=$(cd "${1:-$IT_DIR/../..}" && pwd)
    export BUILD_DIR PGPOOLD=$BUILD_DIR/pgpoold/pgpoold IT_DIRECT=0
    pgc_find_bin || { echo "not ok - setup: no PostgreSQL binaries"; exit 1; }
    export PGBIN PSQL=$PGBIN/psql
    PYTHON=$(command -v python3); export PYTHON
    WORK=$(mktemp -d /tmp/pgpoold-deploy-it.XXXXXX); chmod 755 "$WORK"; export WORK
    passed=0 failed=0 skipped=0
    for t in deployment_booking deployment_make_install; do
        rc=0
        ( set -eEo pipefail; cd "$WORK"; "t_$t" ) > "$WORK/$t.out" 2>&1 || rc=$?
        if [ "$rc" = 0 ]; then echo "ok - $t"; passed=$((passed + 1))
        elif [ "$rc" = 77 ]; then echo "ok - $t # SKIP $(sed -n 's/^SKIP: //p' "$WORK/$t.out" | head -n1)"; skipped=$((skipped + 1))
        else echo "not ok - $t (exit $rc)"; tail -n 40 "$WORK/$t.out" | sed 's/^/#   /'; failed=$((failed + 1)); fi
    done
    if [ "${IT_KEEP:-0}" = 1 ]; then echo "# work directory kept: $WORK"; else rm -rf "$WORK"; fi
    if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
    else echo "$passed passed, $failed failed"; fi
    [ "$failed" = 0 ]
fi
