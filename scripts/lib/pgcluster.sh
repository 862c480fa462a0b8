# shellcheck shell=bash
# scripts/lib/pgcluster.sh - helpers to run throw-away PostgreSQL servers for
# the integration tests (t/integration/run.sh) and the benchmark
# (bench/compare.sh, bench/booking/run.sh).  Source it; it defines pgc_* functions and sets nothing
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
#   pgc_trust_pair DIR PORT PASSWORD CONF_LINES [NAME_PREFIX [SETUP]]
#                                start or reuse a primary + streaming standby

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

# Progress and failure messages of the pgc_* functions, prefixed like the
# calling script's own.
pgc_say() {
    echo "${0##*/}: $*" >&2
}

# pgc_trust_pair DIR PORT PASSWORD CONF_LINES [NAME_PREFIX [SETUP]]
#   Start, or reuse when already running, a primary in DIR/primary and a
#   streaming standby of it in DIR/standby: trust authentication (local and
#   127.0.0.1, replication included), unix sockets in DIR/run, server logs in
#   DIR/log.  Missing directories are created (owned by the server owner when
#   we are root); a missing primary is initdb'ed, a missing standby cloned
#   with pg_basebackup.
#     DIR          the cluster's directory
#     PORT         the primary's port; PORT+10, then PORT+20 when it is taken.
#                  A running primary keeps its port (read from pgtest.conf).
#                  The standby listens on the primary's port + 1.
#     PASSWORD     the password of the superuser postgres (initdb, base backup)
#     CONF_LINES   extra postgresql.conf lines for both (see pgc_write_conf)
#     NAME_PREFIX  cluster_name prefix: NAME_PREFIXprimary, NAME_PREFIXstandby
#     SETUP        command run once the primary is up and before the standby
#                  is cloned (roles, databases); PGC_PRIMARY_PORT and
#                  PGC_STARTED are already set, so a SETUP that may exit can
#                  record what to stop.  Its failure fails the primary.
#   Sets PGC_PRIMARY_PORT, PGC_STANDBY_PORT (empty when there is no standby)
#   and PGC_STARTED (1 when this call started a server, else 0).
#   Returns 0; 1 when the primary failed (initdb, port, start, SETUP);
#   2 when the standby could not be cloned or started (the primary is up);
#   3 when the standby's port is taken.  Failures are reported on stderr.
# shellcheck disable=SC2034  # PGC_* are the caller's results
pgc_trust_pair() {
    local dir=$1 port=$2 password=$3 conf=$4 prefix=${5:-} setup=${6:-}
    local sock=$1/run log=$1/log pw=$1/.pw
    PGC_PRIMARY_PORT='' PGC_STANDBY_PORT='' PGC_STARTED=0
    pgc_ensure_os_user || { pgc_say "cannot create the $PGC_OS_USER OS user"; return 1; }
    mkdir -p "$dir" "$sock" "$log" || { pgc_say "cannot create $dir"; return 1; }
    if [ "$PGC_IS_ROOT" = 1 ]; then chown "$PGC_OS_USER:" "$dir" "$sock" "$log"; fi
    if [ ! -f "$dir/primary/PG_VERSION" ]; then
        pgc_say "initdb $dir/primary"
        mkdir -p "$dir/primary"
        if [ "$PGC_IS_ROOT" = 1 ]; then chown "$PGC_OS_USER:" "$dir/primary"; fi
        printf '%s\n' "$password" > "$pw"
        if [ "$PGC_IS_ROOT" = 1 ]; then chown "$PGC_OS_USER:" "$pw"; fi
        chmod 600 "$pw"
        if ! pgc_initdb "$dir/primary" "$pw" > "$log/initdb.log" 2>&1; then
            rm -f "$pw"
            pgc_say "initdb failed (see $log/initdb.log)"
            return 1
        fi
        rm -f "$pw"
        pgc_as_pg sh -c "printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' 'host replication all 127.0.0.1/32 trust' > '$dir/primary/pg_hba.conf'"
    fi
    if pgc_running "$dir/primary"; then
        PGC_PRIMARY_PORT=$(sed -n 's/^port = //p' "$dir/primary/pgtest.conf")
    else
        PGC_PRIMARY_PORT=$(pgc_pick_port "$port" $((port + 10)) $((port + 20))) ||
            { PGC_PRIMARY_PORT=''; pgc_say "no free port near $port"; return 1; }
        pgc_write_conf "$dir/primary" "$PGC_PRIMARY_PORT" "$sock" "${prefix}primary" "$conf"
        pgc_start "$dir/primary" "$log/primary.log" ||
            { pgc_say "the primary did not start (see $log/primary.log)"; return 1; }
        PGC_STARTED=1
    fi
    if [ -n "$setup" ]; then "$setup" || return 1; fi
    if [ ! -f "$dir/standby/PG_VERSION" ]; then
        pgc_say "pg_basebackup $dir/standby"
        rm -rf "$dir/standby"
        pgc_basebackup 127.0.0.1 "$PGC_PRIMARY_PORT" postgres "$password" "$dir/standby" > "$log/basebackup.log" 2>&1 ||
            { pgc_say "pg_basebackup failed (see $log/basebackup.log)"; return 2; }
    fi
    if ! pgc_running "$dir/standby"; then
        pgc_can_bind $((PGC_PRIMARY_PORT + 1)) ||
            { pgc_say "port $((PGC_PRIMARY_PORT + 1)) is taken (the standby's)"; return 3; }
        pgc_write_conf "$dir/standby" $((PGC_PRIMARY_PORT + 1)) "$sock" "${prefix}standby" "$conf"
        pgc_start "$dir/standby" "$log/standby.log" ||
            { pgc_say "the standby did not start (see $log/standby.log)"; return 2; }
        PGC_STARTED=1
    fi
    PGC_STANDBY_PORT=$((PGC_PRIMARY_PORT + 1))
}
