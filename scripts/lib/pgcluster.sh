# shellcheck shell=bash
# scripts/lib/pgcluster.sh - helpers to run throw-away PostgreSQL servers for
# the integration tests (t/integration/run.sh) and the benchmark
# (bench/compare.sh).  Source it; it defines pgc_* functions and sets nothing
# else until they are called.
#
# Servers listen on 127.0.0.1 only, keep their unix sockets in a private
# directory, and run as the `postgres` OS user when we are root (PostgreSQL
# refuses to run as root); as an ordinary user they run as that user.
#
#   pgc_find_bin                 sets PGBIN (PostgreSQL 15 preferred)
#   pgc_as_pg CMD...             run CMD as the server owner
#   pgc_can_bind PORT            can a listener bind 127.0.0.1:PORT now?
#   pgc_pick_port PORT...        print the first bindable port of the list
#   pgc_initdb DATA PWFILE       initdb (UTF8, C locale, superuser postgres)
#   pgc_write_conf DATA PORT SOCKDIR NAME [EXTRA_LINES]
#   pgc_start DATA LOGFILE       pg_ctl start, bounded
#   pgc_stop DATA                pg_ctl stop -m fast, bounded; immediate as a fallback
#   pgc_basebackup HOST PORT USER PASSWORD DATA   standby via pg_basebackup -R
#   pgc_admin SOCKDIR PORT SQL [DB]               superuser SQL over the socket

PGC_OS_USER=${PGC_OS_USER:-postgres}
PGC_IS_ROOT=0
[ "$(id -u)" = 0 ] && PGC_IS_ROOT=1

pgc_find_bin() {
    if [ -n "${PGBIN:-}" ] && [ -x "$PGBIN/initdb" ]; then return 0; fi
    if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        PGBIN=/usr/lib/postgresql/15/bin
        return 0
    fi
    local d best=""
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && best=$d
    done
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    [ -n "$best" ] || return 1
    PGBIN=$best
}

pgc_as_pg() {
    if [ "$PGC_IS_ROOT" = 1 ]; then
        runuser -u "$PGC_OS_USER" -- "$@"
    else
        "$@"
    fi
}

# Create the postgres OS user when we are root and it is missing.
pgc_ensure_os_user() {
    [ "$PGC_IS_ROOT" = 1 ] || return 0
    id -u "$PGC_OS_USER" >/dev/null 2>&1 && return 0
    useradd --system --user-group --home-dir /var/lib/postgresql \
            --create-home --shell /bin/bash "$PGC_OS_USER"
}

# A port is usable when nothing listens on it and a listener with
# SO_REUSEADDR can bind it (a client socket in TIME_WAIT that owns the port
# as its local end blocks that even with SO_REUSEADDR).
pgc_can_bind() {
    local port=$1
    if command -v perl >/dev/null 2>&1; then
        perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalAddr => "127.0.0.1",
            LocalPort => $ARGV[0], Listen => 1, ReuseAddr => 1, Proto => "tcp") or exit 1' \
            "$port" 2>/dev/null
    else
        python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
PY
    fi
}

pgc_pick_port() {
    local p
    for p in "$@"; do
        if pgc_can_bind "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

pgc_initdb() {   # DATA PWFILE
    pgc_as_pg "$PGBIN/initdb" -D "$1" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --pwfile="$2"
}

pgc_write_conf() {   # DATA PORT SOCKDIR NAME [EXTRA_LINES]
    local data=$1 port=$2 sockdir=$3 name=$4 extra=${5:-}
    pgc_as_pg tee "$data/pgtest.conf" >/dev/null <<CONF
# written by scripts/lib/pgcluster.sh on every start
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
cluster_name = '$name'
wal_level = replica
max_wal_senders = 5
hot_standby = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
lc_messages = 'C'
$extra
CONF
    if ! grep -q "^include_if_exists = 'pgtest.conf'" "$data/postgresql.conf"; then
        echo "include_if_exists = 'pgtest.conf'" | pgc_as_pg tee -a "$data/postgresql.conf" >/dev/null
    fi
}

pgc_running() {   # DATA
    [ -f "$1/postmaster.pid" ] && pgc_as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

pgc_start() {   # DATA LOGFILE
    pgc_as_pg timeout -k 10 150 "$PGBIN/pg_ctl" -D "$1" -l "$2" -w -t 120 start >/dev/null
}

pgc_stop() {   # DATA
    [ -f "$1/postmaster.pid" ] || return 0
    pgc_as_pg timeout -k 10 70 "$PGBIN/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1 && return 0
    pgc_as_pg timeout -k 10 40 "$PGBIN/pg_ctl" -D "$1" -m immediate -w -t 30 stop >/dev/null 2>&1
}

pgc_basebackup() {   # HOST PORT USER PASSWORD DATA
    pgc_as_pg env PGPASSWORD="$4" PGCONNECT_TIMEOUT=10 timeout -k 10 180 \
        "$PGBIN/pg_basebackup" -h "$1" -p "$2" -U "$3" -D "$5" -R -X stream -c fast
}

pgc_admin() {   # SOCKDIR PORT SQL [DB]
    PGCONNECT_TIMEOUT=10 timeout -k 5 120 "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 \
        -h "$1" -p "$2" -U postgres -d "${4:-postgres}" -c "$3"
}
