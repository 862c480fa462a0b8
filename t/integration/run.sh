#!/usr/bin/env bash
# t/integration/run.sh - integration tests of pgpoold against a real
# PostgreSQL 15 primary + streaming standby on 127.0.0.1.
#
#   t/integration/run.sh BUILD_DIR [REGEX]
#
# BUILD_DIR holds the built tree (pgpoold/pgpoold).  REGEX (grep -E) picks
# tests by name.  Prints "ok - NAME" / "not ok - NAME" (with diagnostics:
# the test's output and the tail of the pgpoold logs) per test and ends with
# "N passed, N failed" (", N skipped" when some were skipped).  Exit status
# 0 only if nothing failed.
#
# Environment:
#   IT_DIRECT=1          run the tests against PostgreSQL itself instead of
#                        pgpoold (checks the tests; pgpoold-only ones skip)
#   IT_KEEP=1            keep the work directory (/tmp/pgpoold-it.*)
#   IT_TEST_TIMEOUT=180  seconds one test may take before it is killed
#   IT_PG_PORTS="25435 25436"  preferred primary/standby ports (alternatives
#                        are tried when busy)
#   PGPOOLD_WRAPPER="valgrind ..."  command prefix for every pgpoold started
#
# Sanitizer and valgrind reports (AddressSanitizer, LeakSanitizer, UBSan
# "runtime error:", ThreadSanitizer, valgrind "ERROR SUMMARY: N errors" with
# N > 0 or "definitely lost" bytes) in the log of any pgpoold or pcpd a test
# started, or in the shared instance's log during the test, fail that test;
# the shared instance is stopped before the summary so that its exit-time
# reports (leaks) count too ("sanitizer_reports_main").
#   IT_PX_SETTINGS='KEY=VALUE ...'  settings added to every pgpoold config
#                        (libconfig values, no spaces inside a value)
#   PGBIN                PostgreSQL bin directory (default: 15's)
#   IT_STOP_WAIT=5       seconds a pgpoold gets to exit on SIGINT before KILL
set -uo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export IT_DIR
# shellcheck source=lib.sh
. "$IT_DIR/lib.sh"

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac
BUILD_DIR=$(cd "$1" && pwd) || { echo "run.sh: no such build dir: $1" >&2; exit 2; }
FILTER=${2:-}
export BUILD_DIR
export IT_DIRECT=${IT_DIRECT:-0}
export PGPOOLD=$BUILD_DIR/pgpoold/pgpoold
TEST_TIMEOUT=${IT_TEST_TIMEOUT:-180}

say() { printf '%s\n' "$*"; }
die_setup() {
    say "not ok - setup: $*"
    [ -n "${1:-}" ] && [ -n "${SETUP_LOG:-}" ] && [ -f "$SETUP_LOG" ] && tail -n 40 "$SETUP_LOG" | sed 's/^/#   /'
    say "0 passed, 1 failed"
    exit 1
}

# ---------------------------------------------------------------- tools
pgc_find_bin || die_setup "PostgreSQL server binaries (initdb) not found; install postgresql-15"
export PGBIN
export PSQL=$PGBIN/psql PGBENCH=$PGBIN/pgbench
[ -x "$PSQL" ] || PSQL=$(command -v psql) || die_setup "psql not found"
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench) || die_setup "pgbench not found"
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3) || die_setup "python3 not found"; fi
export PYTHON
if [ "$IT_DIRECT" != 1 ] && [ ! -x "$PGPOOLD" ]; then
    die_setup "$PGPOOLD not built"
fi
# 500 clients through one proxy need > 1000 descriptors in pgpoold
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---------------------------------------------------------------- work dir
WORK=$(mktemp -d /tmp/pgpoold-it.XXXXXX) || die_setup "mktemp failed"
chmod 755 "$WORK"
export WORK
SETUP_LOG=$WORK/setup.log
: > "$SETUP_LOG"
mkdir -p "$WORK/pg" "$WORK/run" "$WORK/px" "$WORK/auth" "$WORK/out"
if [ "$PGC_IS_ROOT" = 1 ]; then
    pgc_ensure_os_user >>"$SETUP_LOG" 2>&1 || die_setup "could not create the postgres OS user"
    chown "$PGC_OS_USER:" "$WORK/pg" "$WORK/run"
fi
export PGSOCK=$WORK/run
export PGUSER=app PGDATABASE=appdb PGCONNECT_TIMEOUT=10
unset PGPASSWORD PGHOST PGPORT PGOPTIONS PGSERVICE PGSSLMODE PGAPPNAME 2>/dev/null || true
export PGSSLMODE=disable

CUR_TEST_PID=
cleanup() {
    local rc=$? pid name
    trap - EXIT INT TERM
    if [ -n "$CUR_TEST_PID" ] && pid_alive "$CUR_TEST_PID"; then
        kill -TERM "$CUR_TEST_PID" 2>/dev/null
        bg_wait "$CUR_TEST_PID" 10 >/dev/null 2>&1
    fi
    for f in "$WORK"/pids.*; do
        [ -f "$f" ] || continue
        while read -r pid name; do
            stop_pid "$pid"
        done < "$f"
    done
    # servers a test started for itself under $WORK/pg (e.g. 75-tls.sh's)
    for f in "$WORK"/pg/*/postmaster.pid; do
        [ -f "$f" ] || continue
        case "$f" in */primary/*|*/standby/*) continue ;; esac
        pgc_stop "$(dirname "$f")"
    done
    [ -f "$WORK/pg/standby/postmaster.pid" ] && pgc_stop "$WORK/pg/standby"
    [ -f "$WORK/pg/primary/postmaster.pid" ] && pgc_stop "$WORK/pg/primary"
    if [ "${IT_KEEP:-0}" = 1 ] || [ ! -d "$WORK" ]; then
        [ -d "$WORK" ] && echo "# work directory kept: $WORK" >&2
    else
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
# Interrupted (Ctrl-C, or a timeout around the whole run): count the test
# that was running as failed and still print the summary line.
PASSED=0; FAILED=0; SKIPPED=0; CUR_TEST=
interrupted() {
    local sig=$1
    trap '' INT TERM
    if [ -n "$CUR_TEST" ]; then
        say "not ok - $CUR_TEST (interrupted by SIG$sig)"
        FAILED=$((FAILED + 1))
    fi
    say "$PASSED passed, $FAILED failed"
    [ "$sig" = INT ] && exit 130
    exit 143
}
trap cleanup EXIT
trap 'interrupted INT' INT
trap 'interrupted TERM' TERM

# Stop one pgpoold we started (only if it still is a pgpoold: pids recycle).
stop_pid() {
    local pid=$1
    pid_alive "$pid" || return 0
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q pgpoold || return 0
    kill -INT "$pid" 2>/dev/null
    for _ in $(seq 1 $(( ${IT_STOP_WAIT:-5} * 10 ))); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- cluster
# Primary + streaming standby.  Users and auth:
#   app        trust          (owner of appdb, reusedb)
#   md5user    md5            password md5pass (stored as md5)
#   pwuser     md5            password pwpass  (stored as md5; pool_hba: password)
#   scramuser  scram-sha-256  password scrampass
#   scramplain scram-sha-256  password plainpass
#   postgres   scram-sha-256  password pgsecret (superuser)
#   rejectuser, nohba, app2  trust
setup_cluster() {
    local ports p s
    read -r -a ports <<< "${IT_PG_PORTS:-25435 25436}"
    p=$(pgc_pick_port "${ports[0]}" 25445 25455 25465 25475) || return 1
    s=$(pgc_pick_port "${ports[1]}" 25446 25456 25466 25476) || return 1
    [ "$p" != "$s" ] || s=$(pgc_pick_port 25486 25487) || return 1
    PRIMARY_PORT=$p; STANDBY_PORT=$s
    export PRIMARY_PORT STANDBY_PORT

    local pw=$WORK/pg/pwfile
    printf 'pgsecret\n' > "$pw"
    [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$pw"
    chmod 600 "$pw"
    echo "== initdb" >>"$SETUP_LOG"
    pgc_initdb "$WORK/pg/primary" "$pw" >>"$SETUP_LOG" 2>&1 || return 1
    rm -f "$pw"
    pgc_write_conf "$WORK/pg/primary" "$PRIMARY_PORT" "$PGSOCK" primary "
max_connections = 600
superuser_reserved_connections = 3
shared_buffers = 128MB
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
log_connections = off
log_min_messages = warning
log_min_error_statement = panic"
    pgc_as_pg tee "$WORK/pg/primary/pg_hba.conf" >/dev/null <<'HBA'
# written by t/integration/run.sh
local   all          all                          trust
host    replication  postgres     127.0.0.1/32    scram-sha-256
host    all          md5user      127.0.0.1/32    md5
host    all          pwuser       127.0.0.1/32    md5
host    all          scramuser    127.0.0.1/32    scram-sha-256
host    all          scramplain   127.0.0.1/32    scram-sha-256
host    all          postgres     127.0.0.1/32    scram-sha-256
host    all          all          127.0.0.1/32    trust
HBA
    echo "== start primary on $PRIMARY_PORT" >>"$SETUP_LOG"
    pgc_start "$WORK/pg/primary" "$WORK/pg/primary.log" >>"$SETUP_LOG" 2>&1 \
        || { cat "$WORK/pg/primary.log" >>"$SETUP_LOG" 2>/dev/null; return 1; }
    asql "
SET password_encryption = 'md5';
CREATE ROLE md5user LOGIN PASSWORD 'md5pass';
CREATE ROLE pwuser LOGIN PASSWORD 'pwpass';
SET password_encryption = 'scram-sha-256';
CREATE ROLE scramuser LOGIN PASSWORD 'scrampass';
CREATE ROLE scramplain LOGIN PASSWORD 'plainpass';
CREATE ROLE app LOGIN;
CREATE ROLE app2 LOGIN;
CREATE ROLE rejectuser LOGIN;
CREATE ROLE nohba LOGIN;" >>"$SETUP_LOG" 2>&1 || return 1
    asql "CREATE DATABASE appdb OWNER app" >>"$SETUP_LOG" 2>&1 || return 1
    asql "CREATE DATABASE reusedb OWNER app" >>"$SETUP_LOG" 2>&1 || return 1
    asql "CREATE DATABASE benchdb OWNER app" >>"$SETUP_LOG" 2>&1 || return 1
    asql "SELECT pg_create_physical_replication_slot('standby1')" >>"$SETUP_LOG" 2>&1 || return 1

    echo "== standby on $STANDBY_PORT" >>"$SETUP_LOG"
    if pgc_basebackup 127.0.0.1 "$PRIMARY_PORT" postgres pgsecret "$WORK/pg/standby" >>"$SETUP_LOG" 2>&1; then
        echo "primary_slot_name = 'standby1'" | pgc_as_pg tee -a "$WORK/pg/standby/postgresql.auto.conf" >/dev/null
        pgc_write_conf "$WORK/pg/standby" "$STANDBY_PORT" "$PGSOCK" standby "
max_connections = 600
superuser_reserved_connections = 3
shared_buffers = 128MB
fsync = off
hot_standby_feedback = on
log_min_messages = warning"
        pgc_start "$WORK/pg/standby" "$WORK/pg/standby.log" >>"$SETUP_LOG" 2>&1 \
            || { echo "standby failed to start" >>"$SETUP_LOG"; cat "$WORK/pg/standby.log" >>"$SETUP_LOG" 2>/dev/null; }
    else
        echo "pg_basebackup failed (standby tests will fail)" >>"$SETUP_LOG"
    fi
    return 0
}

# Auth files every pgpoold instance starts from (px_init copies them).
write_auth_files() {
    cat > "$WORK/auth/pool_hba.conf" <<'HBA'
# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       all                        trust
host    all       md5user     127.0.0.1/32   md5
host    all       pwuser      127.0.0.1/32   password
host    all       scramuser   127.0.0.1/32   scram-sha-256
host    all       scramplain  127.0.0.1/32   scram-sha-256
host    all       postgres    127.0.0.1/32   scram-sha-256
host    all       rejectuser  127.0.0.1/32   reject
host    all       app         127.0.0.1/32   trust
host    all       app2        127.0.0.1/32   trust
HBA
    {
        echo "postgres:TEXTpgsecret"
        echo "md5user:md5$(md5hex "md5passmd5user")"
        echo "pwuser:TEXTpwpass"
        echo "scramuser:TEXTscrampass"
        echo "scramplain:plainpass"
    } > "$WORK/auth/pool_passwd"
    chmod 600 "$WORK/auth/pool_passwd"
}

# ---------------------------------------------------------------- tests
TESTS=()
declare -A GROUP_OF=()
declare -A TIMEOUT_OF=()
# Group files call: it_test NAME [TIMEOUT_SECONDS]; the test is function t_NAME.
it_test() { TESTS+=("$1"); GROUP_OF[$1]=$CUR_GROUP; [ -n "${2:-}" ] && TIMEOUT_OF[$1]=$2; return 0; }
for CUR_GROUP in "$IT_DIR"/[0-9][0-9]-*.sh "$IT_DIR"/[0-9][0-9][0-9]-*.sh; do
    # shellcheck disable=SC1090
    . "$CUR_GROUP"
done

say "# pgpoold integration tests: $PGPOOLD${IT_DIRECT:+ (IT_DIRECT=$IT_DIRECT)}"
say "# work dir $WORK"
setup_cluster || die_setup "PostgreSQL primary could not be set up"
say "# PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'): primary 127.0.0.1:$PRIMARY_PORT, standby 127.0.0.1:$STANDBY_PORT"
write_auth_files

# helper C program for PQcancel
CANCEL_TEST=$WORK/cancel_test
# shellcheck disable=SC2046
if ! cc -std=c11 -Wall -o "$CANCEL_TEST" "$IT_DIR/cancel_test.c" \
        $(pkg-config --cflags --libs libpq 2>/dev/null || echo "-I/usr/include/postgresql -lpq") >>"$SETUP_LOG" 2>&1; then
    say "# cancel_test.c did not compile (see the cancel test)"
fi
export CANCEL_TEST

# the shared instance "main" (default settings), started by the runner
start_main() {
    IT_SCOPE=main px_init main
    IT_SCOPE=main px_run main
}
if [ "$IT_DIRECT" = 1 ]; then
    export MAIN_PORT=$PRIMARY_PORT
else
    ( start_main ) >>"$SETUP_LOG" 2>&1 || say "# pgpoold 'main' did not start: $(tail -n 5 "$WORK/px/main/pgpoold.log" 2>/dev/null | tr '\n' ' ')"
    MAIN_PORT=$(cat "$WORK/px/main/port"); export MAIN_PORT
    say "# pgpoold 'main' on 127.0.0.1:$MAIN_PORT (pid $(cat "$WORK/px/main/pid" 2>/dev/null))"
fi

FAILED_NAMES=()

log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# New lines of LOGFILE since byte OFFSET, last N of them, indented.
log_since() {   # LOGFILE OFFSET N
    [ -f "$1" ] || return 0
    tail -c +"$(( $2 + 1 ))" "$1" | tail -n "$3" | sed 's/^/#     /'
}

# Sanitizer / valgrind reports in the new part of a log (from byte OFFSET).
SAN_PATTERN='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|(WARNING|ERROR): ThreadSanitizer|ERROR SUMMARY: [1-9][0-9]* errors|definitely lost: [1-9]'
san_reports() {   # LOGFILE OFFSET
    [ -f "$1" ] || return 0
    tail -c +"$(( $2 + 1 ))" "$1" | grep -E -A 12 -- "$SAN_PATTERN" | head -n 40
}

run_one() {
    local name=$1 group=${GROUP_OF[$1]} secs=${TIMEOUT_OF[$1]:-$TEST_TIMEOUT}
    local out=$WORK/out/$name.out rc t0=$SECONDS
    local main_log=$WORK/px/main/pgpoold.log main_off pg_off
    main_off=$(log_size "$main_log"); pg_off=$(log_size "$WORK/pg/primary.log")
    : > "$WORK/pids.test"; : > "$WORK/logs.test"
    local main_pid; main_pid=$(cat "$WORK/px/main/pid" 2>/dev/null)
    CUR_TEST=$name
    timeout -k 10 "$secs" bash -c 'set -eEo pipefail; . "$1"; . "$2"; cd "$WORK"; "t_$3"' \
        _ "$IT_DIR/lib.sh" "$group" "$name" >"$out" 2>&1 </dev/null &
    CUR_TEST_PID=$!
    wait "$CUR_TEST_PID"; rc=$?
    CUR_TEST_PID=; CUR_TEST=
    # stop what the test started and left running
    local pid
    while read -r pid _; do stop_pid "$pid"; done < "$WORK/pids.test"
    # sanitizer reports of what the test started (all stopped now), and
    # of the shared instance during the test
    local lf hits=""
    while read -r lf; do
        [ -f "$lf" ] || continue
        hits+=$(san_reports "$lf" 0)
    done < <(sort -u "$WORK/logs.test")
    [ "$IT_DIRECT" != 1 ] && hits+=$(san_reports "$main_log" "$main_off")
    if [ -n "$hits" ]; then
        [ "$rc" = 0 ] || [ "$rc" = 77 ] && rc=1
        { echo "sanitizer/valgrind report in a pgpoold or pcpd log:"; printf '%s\n' "$hits"; } >>"$out"
    fi
    local main_died=0
    if [ "$IT_DIRECT" != 1 ] && [ -n "$main_pid" ] && ! pid_alive "$main_pid"; then
        main_died=1
        [ "$rc" = 0 ] && rc=1
        echo "pgpoold 'main' (pid $main_pid) died during this test" >>"$out"
    fi
    local dt=$((SECONDS - t0))
    if [ "$rc" = 0 ]; then
        PASSED=$((PASSED + 1)); say "ok - $name (${dt}s)"
    elif [ "$rc" = 77 ]; then
        SKIPPED=$((SKIPPED + 1)); say "ok - $name # SKIP $(grep '^SKIP:' "$out" | head -n1 | sed 's/^SKIP: //')"
    else
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name")
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            say "not ok - $name (timed out after ${secs}s)"
        else
            say "not ok - $name (${dt}s, exit $rc)"
        fi
        tail -n 60 "$out" | sed 's/^/#   /'
        local lf
        while read -r lf; do
            [ -f "$lf" ] || continue
            say "#   --- tail of $lf"
            tail -n 25 "$lf" | sed 's/^/#     /'
        done < <(sort -u "$WORK/logs.test")
        if [ "$IT_DIRECT" != 1 ] && [ -f "$main_log" ] && [ "$(log_size "$main_log")" -gt "$main_off" ]; then
            say "#   --- pgpoold 'main' log during this test (last 25 lines)"
            log_since "$main_log" "$main_off" 25
        fi
        if [ "$(log_size "$WORK/pg/primary.log")" -gt "$pg_off" ]; then
            say "#   --- PostgreSQL primary log during this test (last 10 lines)"
            log_since "$WORK/pg/primary.log" "$pg_off" 10
        fi
    fi
    if [ "$main_died" = 1 ]; then
        say "#   restarting pgpoold 'main' on port $MAIN_PORT"
        ( PX_FIXED_PORT=$MAIN_PORT start_main ) >>"$SETUP_LOG" 2>&1 \
            || say "#   pgpoold 'main' did not restart"
    fi
}

for name in "${TESTS[@]}"; do
    if [ -n "$FILTER" ] && ! printf '%s' "$name" | grep -Eq -- "$FILTER"; then
        continue
    fi
    run_one "$name"
done

# The shared instance's exit (LeakSanitizer and valgrind report then).
if [ "$IT_DIRECT" != 1 ] && [ -f "$WORK/px/main/pid" ]; then
    main_log=$WORK/px/main/pgpoold.log
    main_off=$(log_size "$main_log")
    stop_pid "$(cat "$WORK/px/main/pid")"
    sleep 0.5
    hits=$(san_reports "$main_log" 0)
    if [ -n "$hits" ]; then
        FAILED=$((FAILED + 1)); FAILED_NAMES+=(sanitizer_reports_main)
        say "not ok - sanitizer_reports_main (reports in pgpoold 'main''s log)"
        printf '%s\n' "$hits" | sed 's/^/#   /'
    fi
fi

if [ "$FAILED" -gt 0 ]; then
    say "# failed: ${FAILED_NAMES[*]}"
fi
if [ "$SKIPPED" -gt 0 ]; then
    say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    say "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
