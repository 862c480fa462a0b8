# shellcheck shell=bash
# t/integration/lib.sh - helpers for the integration tests.
#
# Sourced by run.sh (the runner) and, in a fresh bash per test, together with
# the group file that defines the test.  The runner exports:
#   IT_DIR WORK BUILD_DIR PGPOOLD PGBIN PSQL PGBENCH PYTHON
#   PRIMARY_PORT STANDBY_PORT PGSOCK (primary's unix socket dir)
#   MAIN_PORT (the shared pgpoold instance "main"), IT_DIRECT (1 = no proxy,
#   every "proxy" port is PostgreSQL itself: checks the tests, not pgpoold)
#   PGUSER=app PGDATABASE=appdb PGCONNECT_TIMEOUT
#
# Users (see run.sh): app (trust, owns appdb), md5user/md5pass (md5),
# scramuser/scrampass (scram, pool_passwd TEXT), scramplain/plainpass (scram,
# pool_passwd plain), pwuser/pwpass (pool_hba "password", backend md5),
# rejectuser (pool_hba reject), nohba (no pool_hba line), postgres/pgsecret.

IT_DIR=${IT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=../../scripts/lib/pgcluster.sh
. "$IT_DIR/../../scripts/lib/pgcluster.sh"

# Group files declare their tests with "it_test NAME [TIMEOUT]" (the test
# is the function t_NAME); run.sh collects them, elsewhere it is a no-op.
it_test() { :; }

# ---------------------------------------------------------------- reporting
note() { printf '# %s\n' "$*" >&2; }

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

skip() {
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

assert_eq() {   # EXPECTED ACTUAL WHAT
    if [ "$1" != "$2" ]; then
        printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$3" "$1" "$2" >&2
        exit 1
    fi
}

assert_contains() {   # HAYSTACK NEEDLE WHAT
    case "$1" in
        *"$2"*) ;;
        *) printf 'FAIL: %s\n  expected to contain: %s\n  actual: %s\n' "$3" "$2" "$1" >&2
           exit 1 ;;
    esac
}

assert_not_contains() {   # HAYSTACK NEEDLE WHAT
    case "$1" in
        *"$2"*) printf 'FAIL: %s\n  must not contain: %s\n  actual: %s\n' "$3" "$2" "$1" >&2
                exit 1 ;;
    esac
}

assert_match() {   # HAYSTACK ERE WHAT
    if ! printf '%s' "$1" | grep -Eq -- "$2"; then
        printf 'FAIL: %s\n  expected to match: %s\n  actual: %s\n' "$3" "$2" "$1" >&2
        exit 1
    fi
}

needs_pgpoold() {
    [ "${IT_DIRECT:-0}" = 1 ] && skip "needs pgpoold (IT_DIRECT=1)"
    return 0
}

# ---------------------------------------------------------------- processes
# Is PID a live process (zombies count as dead)?
pid_alive() {
    local st
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_until SECONDS CMD... : poll CMD every 0.2 s until it succeeds.
# With a single argument after SECONDS, that argument is shell code that is
# eval'ed on every poll (so $(...) in it is re-run: quote it with '').
wait_until() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    while :; do
        if [ $# -eq 1 ]; then
            eval "$1" && return 0
        else
            "$@" && return 0
        fi
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# wait_exit PID SECONDS : wait until PID is gone (not reaped: use wait after).
wait_exit() {
    wait_until "$2" "! pid_alive $1"
}

# can_connect PORT [PSQL ARGS] : a new client gets an answer through PORT.
can_connect() {
    local port=$1; shift
    PGCONNECT_TIMEOUT=5 timeout -k 2 10 "$PSQL" -X -qAt -h 127.0.0.1 -p "$port" "$@" -c 'SELECT 1' >/dev/null 2>&1
}

# bg_wait PID SECONDS : wait for a background child; kill it (KILL) if it
# is still running after SECONDS.  Returns its exit status, 124 on timeout.
bg_wait() {
    local pid=$1 secs=$2 end=$((SECONDS + $2))
    while pid_alive "$pid"; do
        if [ "$SECONDS" -ge "$end" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 124
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- ports
# Ports for pgpoold instances come from one counter in $WORK (tests run one
# after the other, each in its own process), below the ephemeral range.
alloc_port() {
    local p tries=0
    (
        flock 8
        p=$(cat "$WORK/next_port" 2>/dev/null || echo 25500)
        while :; do
            tries=$((tries + 1))
            [ "$tries" -gt 500 ] && exit 1
            if pgc_can_bind "$p"; then
                echo $((p + 1)) > "$WORK/next_port"
                echo "$p"
                exit 0
            fi
            p=$((p + 1))
            [ "$p" -ge 32000 ] && p=25500
        done
    ) 8>"$WORK/next_port.lock"
}

# ---------------------------------------------------------------- SQL
# psql through a port (the proxy by default) as $PGUSER to $PGDATABASE.
# Extra args go to psql (-U/-d/-c/-v ...; a later -U/-d wins).
px_psql() {   # PORT ARGS...
    local port=$1; shift
    timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X -h 127.0.0.1 -p "$port" "$@"
}

# psql straight to the primary over TCP (same users and auth as clients).
direct_psql() {
    timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X -h 127.0.0.1 -p "$PRIMARY_PORT" "$@"
}

# Superuser SQL on the primary through its private unix socket (trust);
# unaligned, tuples only.  asql SQL [DB]
asql() {
    PGCONNECT_TIMEOUT=10 timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X -qAt -v ON_ERROR_STOP=1 \
        -h "$PGSOCK" -p "$PRIMARY_PORT" -U postgres -d "${2:-postgres}" -c "$1"
}

# The python protocol helper (t/integration/pgwire.py).
pgwire() {
    timeout -k 5 "${PGWIRE_TIMEOUT:-60}" "$PYTHON" "$IT_DIR/pgwire.py" "$@"
}

# Sessions on the primary that are running exactly QUERY (tests use odd
# pg_sleep arguments to tell their sessions apart).
active_count() {   # QUERY
    asql "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '$1'"
}

# wait_active N QUERY [SECONDS] : until N sessions run QUERY.
wait_active() {
    local n=$1 q=$2 secs=${3:-10} end
    end=$((SECONDS + secs))
    while [ "$(active_count "$q")" != "$n" ]; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# Number of client backends on the primary for DB [and USER].
backend_count() {   # DB [USER]
    local cond="datname = '$1' AND backend_type = 'client backend'"
    [ -n "${2:-}" ] && cond="$cond AND usename = '$2'"
    asql "SELECT count(*) FROM pg_stat_activity WHERE $cond"
}

# ---------------------------------------------------------------- pgpoold
# Default settings of every instance; px_init overrides them with KEY=VALUE
# arguments (VALUE is libconfig syntax, e.g. max_clients=2 or
# reset_query_list='"DISCARD ALL"').
PX_KEYS=(listen_addresses port unix_socket_directories pcp_port workers
         max_clients max_pool connection_life_time client_idle_limit
         reset_query_list enable_pool_hba pool_hba_file pool_passwd
         pid_file_name logdir log_min_messages log_connections
         max_message_size)

# px_init NAME [KEY=VALUE ...] : create $WORK/px/NAME with pgpoold.conf,
# pool_hba.conf and pool_passwd (copies of $WORK/auth/*); sets PX_DIR,
# PX_PORT, PX_CONF, PX_LOG.  KEY=- removes a default; a KEY that is not a
# default is appended (so tests can write bad configs on purpose).
px_init() {
    local name=$1; shift
    PX_DIR=$WORK/px/$name
    mkdir -p "$PX_DIR"
    PX_CONF=$PX_DIR/pgpoold.conf
    PX_LOG=$PX_DIR/pgpoold.log
    if [ -n "${PX_FIXED_PORT:-}" ]; then
        PX_PORT=$PX_FIXED_PORT
    else
        PX_PORT=$(alloc_port) || fail "no free port for pgpoold $name"
    fi
    local pcp
    pcp=$(alloc_port) || fail "no free pcp port"
    echo "$PX_PORT" > "$PX_DIR/port"
    [ -f "$PX_DIR/pool_hba.conf" ] || cp "$WORK/auth/pool_hba.conf" "$PX_DIR/pool_hba.conf"
    [ -f "$PX_DIR/pool_passwd" ] || cp "$WORK/auth/pool_passwd" "$PX_DIR/pool_passwd"
    chmod 600 "$PX_DIR/pool_passwd"

    declare -A val=(
        [listen_addresses]='"127.0.0.1"'
        [port]=$PX_PORT
        [unix_socket_directories]="\"$PX_DIR\""
        [pcp_port]=$pcp
        [workers]=2
        [max_clients]=1000
        [max_pool]=32
        [connection_life_time]=0
        [client_idle_limit]=0
        [reset_query_list]='"ABORT; DISCARD ALL"'
        [enable_pool_hba]=true
        [pool_hba_file]='"pool_hba.conf"'
        [pool_passwd]='"pool_passwd"'
        [pid_file_name]='"pgpoold.pid"'
        [logdir]="\"$PX_DIR\""
        [log_min_messages]='"log"'
        [log_connections]=true
        [max_message_size]=1073741824
    )
    local extra=() kv k v settings=()
    # IT_PX_SETTINGS: extra KEY=VALUE words for every instance (before the
    # test's own), e.g. IT_PX_SETTINGS='workers=1 log_min_messages="debug1"'
    read -r -a settings <<< "${IT_PX_SETTINGS:-}"
    for kv in "${settings[@]}" "$@"; do
        k=${kv%%=*}; v=${kv#*=}
        if [ -n "${val[$k]+x}" ]; then
            val[$k]=$v
        else
            extra+=("$k = $v;")
        fi
    done
    {
        echo "# pgpoold instance '$name' for the integration tests"
        for k in "${PX_KEYS[@]}"; do
            [ "${val[$k]}" = - ] && continue
            echo "$k = ${val[$k]};"
        done
        for kv in "${extra[@]}"; do echo "$kv"; done
        echo "backends = ("
        echo "  { hostname = \"127.0.0.1\"; port = $PRIMARY_PORT; weight = 1.0;"
        echo "    data_directory = \"$WORK/pg/primary\"; flag = \"ALLOW_TO_FAILOVER\"; application_name = \"node0\"; }"
        echo ");"
    } > "$PX_CONF"
}

# px_run NAME [pgpoold args] : start the instance made by px_init in the
# foreground mode (-n) in the background, wait until it accepts TCP
# connections.  Sets PX_PID.  The pid is recorded so the runner stops it.
px_run() {
    local name=$1; shift
    PX_DIR=$WORK/px/$name
    PX_CONF=$PX_DIR/pgpoold.conf
    PX_LOG=$PX_DIR/pgpoold.log
    PX_PORT=$(cat "$PX_DIR/port")
    if [ "${IT_DIRECT:-0}" = 1 ]; then
        PX_PORT=$PRIMARY_PORT
        PX_PID=
        return 0
    fi
    echo "$PX_LOG" >> "$WORK/logs.${IT_SCOPE:-test}"
    # shellcheck disable=SC2086
    "$PYTHON" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' ${PGPOOLD_WRAPPER:-} "$PGPOOLD" -n -f "$PX_CONF" "$@" \
        >>"$PX_LOG" 2>&1 </dev/null &
    PX_PID=$!
    echo "$PX_PID" > "$PX_DIR/pid"
    echo "$PX_PID $name" >> "$WORK/pids.${IT_SCOPE:-test}"
    local end=$((SECONDS + ${PX_START_TIMEOUT:-20}))
    while :; do
        if ! pid_alive "$PX_PID"; then
            wait "$PX_PID" 2>/dev/null
            local rc=$?
            note "pgpoold $name exited during startup (status $rc); log:"
            tail -n 30 "$PX_LOG" | sed 's/^/#   /' >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$PX_PORT") 2>/dev/null; then
            return 0
        fi
        if [ "$SECONDS" -ge "$end" ]; then
            note "pgpoold $name does not accept connections on port $PX_PORT after ${PX_START_TIMEOUT:-20}s"
            return 1
        fi
        sleep 0.1
    done
}

# px_start NAME [KEY=VALUE ...] : px_init + px_run.
px_start() {
    local name=$1; shift
    px_init "$name" "$@"
    px_run "$name" || fail "pgpoold '$name' did not start"
}

# px_stop NAME [SIGNAL [SECONDS]] : signal the instance (INT = fast shutdown
# by default) and wait for it to exit, KILL after SECONDS (default 15).
# Returns 0 if it exited by itself, 1 if it had to be killed; PX_EXIT is
# its exit status when it was started by this shell.
px_stop() {
    local name=$1 sig=${2:-INT} secs=${3:-15} pid
    [ "${IT_DIRECT:-0}" = 1 ] && return 0
    pid=$(cat "$WORK/px/$name/pid" 2>/dev/null) || return 0
    pid_alive "$pid" || return 0
    kill -"$sig" "$pid" 2>/dev/null
    local end=$((SECONDS + secs))
    PX_EXIT=
    while pid_alive "$pid"; do
        if [ "$SECONDS" -ge "$end" ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
    PX_EXIT=$?   # 127 when the instance was not our child
    return 0
}

px_pid() { cat "$WORK/px/$1/pid"; }
px_port() { if [ "${IT_DIRECT:-0}" = 1 ]; then echo "$PRIMARY_PORT"; else cat "$WORK/px/$1/port"; fi; }

# The instance is still running (used after "the proxy keeps serving" checks).
px_assert_alive() {   # NAME
    [ "${IT_DIRECT:-0}" = 1 ] && return 0
    pid_alive "$(px_pid "$1")" || fail "pgpoold $1 is no longer running"
}

# A fresh client through PORT gets a correct answer.
assert_serving() {   # PORT [WHAT]
    local out
    out=$(px_psql "$1" -qAt -c "SELECT 'still' || 'serving'" 2>&1) \
        || fail "${2:-proxy} does not serve a new client: $out"
    assert_eq "stillserving" "$out" "${2:-proxy} answers a new client"
}

# md5 hex of a string (stdin-free helper).
md5hex() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
