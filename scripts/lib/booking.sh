# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are used by the scripts that source it
# scripts/lib/booking.sh - what start-pgpool.sh, stop-pgpool.sh and
# check-health.sh share: the settings (.env), the three instances, the
# folders, and small process helpers.  Source it after setting ROOT.
#
# Layout under $DATA_DIR:
#   etc/                 pgpool-{common,auth,event,ticket}.conf, pool_passwd,
#                        pool_hba.conf, pcp.conf, failover.sh,
#                        follow_primary.sh, pgpass, pcppass, logrotate.conf
#   pg/<inst>/primary    PostgreSQL data folders (node 0 and node 1)
#   pg/<inst>/standby
#   run/                 unix sockets, pgpoold-<inst>.pid, pcpd-<inst>.pid
#   log/<inst>/          pgpoold.log pcpd.log primary.log standby.log
#   status/<inst>/       pgpoold's node status file (pgpool_status)

BK_INSTANCES=(auth event ticket)
BK_MARKER=.pgpoold-booking

bk_say() { printf '%s\n' "$*"; }
bk_warn() { printf 'WARNING: %s\n' "$*" >&2; }
bk_die() { printf '%s: %s\n' "${BK_PROG:-pgpoold-booking}" "$*" >&2; exit 1; }

BK_IS_ROOT=0
[ "$(id -u)" = 0 ] && BK_IS_ROOT=1

# The person who runs the script: the sudo caller when run with sudo.
bk_invoker() {
    if [ "$BK_IS_ROOT" = 1 ] && [ -n "${SUDO_USER:-}" ] && [ "${SUDO_USER}" != root ] &&
       id -u "$SUDO_USER" >/dev/null 2>&1; then
        echo "$SUDO_USER"
    else
        id -un
    fi
}
bk_home_of() { getent passwd "$1" | cut -d: -f6; }

# .env: KEY=VALUE lines (optional quotes, # comments).  A variable already
# set in the environment wins.
bk_load_env() {
    ENV_FILE=${ENV_FILE:-$ROOT/.env}
    [ -f "$ENV_FILE" ] || return 0
    [ -r "$ENV_FILE" ] || bk_die "cannot read $ENV_FILE"
    local line k v
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        k=${BASH_REMATCH[2]} v=${BASH_REMATCH[3]}
        if [[ $v =~ ^\"(.*)\"[[:space:]]*(#.*)?$ ]] || [[ $v =~ ^\'(.*)\'[[:space:]]*(#.*)?$ ]]; then
            v=${BASH_REMATCH[1]}
        else
            v=${v%%[[:space:]]#*}
            v=${v%"${v##*[![:space:]]}"}
        fi
        [ -n "${!k+x}" ] && continue
        printf -v "$k" '%s' "$v"
    done < "$ENV_FILE"
}

# Defaults for everything .env may set (see etc/env.example).
bk_defaults() {
    BK_INVOKER=$(bk_invoker)
    BK_INVOKER_HOME=$(bk_home_of "$BK_INVOKER")
    [ -n "$BK_INVOKER_HOME" ] || BK_INVOKER_HOME=${HOME:-/tmp}
    if [ -z "${DATA_DIR:-}" ]; then
        if [ "$BK_IS_ROOT" = 1 ]; then
            DATA_DIR=/var/lib/pgpoold-booking
        else
            DATA_DIR=$BK_INVOKER_HOME/.local/share/pgpoold-booking
        fi
    fi
    case "$DATA_DIR" in /*) ;; *) DATA_DIR=$ROOT/$DATA_DIR ;; esac
    DATA_DIR=${DATA_DIR%/}
    : "${INSTALL_PACKAGES:=1}"
    : "${PGPOOLD_BUILD_DIR:=$ROOT}"
    : "${PGPASS_FILE:=$BK_INVOKER_HOME/.pgpass}"
    : "${PCPPASS_FILE:=$BK_INVOKER_HOME/.pcppass}"
    : "${BACKEND_HOST:=127.0.0.1}"
    : "${PGPOOL_AUTH_HOST:=localhost}" "${PGPOOL_AUTH_PORT:=5432}"
    : "${PGPOOL_EVENT_HOST:=localhost}" "${PGPOOL_EVENT_PORT:=5433}"
    : "${PGPOOL_TICKET_HOST:=localhost}" "${PGPOOL_TICKET_PORT:=5434}"
    : "${AUTH_DATABASE:=booking_system_auth}"
    : "${EVENT_DATABASE:=booking_system_event}"
    : "${TICKET_DATABASE:=booking_system_ticket}"
    : "${PCP_AUTH_PORT:=9898}" "${PCP_EVENT_PORT:=9899}" "${PCP_TICKET_PORT:=9900}"
    : "${AUTH_PRIMARY_PORT:=5435}" "${AUTH_STANDBY_PORT:=5436}"
    : "${EVENT_PRIMARY_PORT:=5437}" "${EVENT_STANDBY_PORT:=5438}"
    : "${TICKET_PRIMARY_PORT:=5439}" "${TICKET_STANDBY_PORT:=5440}"
    : "${POSTGRES_PASSWORD:=}" "${APP_PASSWORD:=}" "${REPLICATION_PASSWORD:=}"
    : "${HEALTH_CHECK_PASSWORD:=}" "${PCP_PASSWORD:=}"
    : "${LAG_MAX_BYTES:=16777216}"
    BK_APP_USER=booking
    BK_REPL_USER=replicator
    BK_CHECK_USER=pgpool
    BK_PCP_USER=pgpool

    BK_ETC=$DATA_DIR/etc
    BK_RUN=$DATA_DIR/run
    # PostgreSQL and, as root, pgpoold/pcpd run as this OS user
    if [ "$BK_IS_ROOT" = 1 ]; then BK_PG_USER=postgres; else BK_PG_USER=$(id -un); fi
}

# Per-instance values: bk_get auth PORT -> $PGPOOL_AUTH_PORT, etc.
bk_get() {   # INSTANCE WHAT
    local u=${1^^} var
    case "$2" in
        host) var=PGPOOL_${u}_HOST ;;
        port) var=PGPOOL_${u}_PORT ;;
        pcp_port) var=PCP_${u}_PORT ;;
        primary_port) var=${u}_PRIMARY_PORT ;;
        standby_port) var=${u}_STANDBY_PORT ;;
        database) var=${u}_DATABASE ;;
        *) return 1 ;;
    esac
    printf '%s\n' "${!var}"
}
bk_node_dir() { printf '%s/pg/%s/%s\n' "$DATA_DIR" "$1" "$2"; }   # INSTANCE primary|standby
bk_log_dir() { printf '%s/log/%s\n' "$DATA_DIR" "$1"; }
bk_conf() { printf '%s/pgpool-%s.conf\n' "$BK_ETC" "$1"; }
bk_pgpoold_pidfile() { printf '%s/pgpoold-%s.pid\n' "$BK_RUN" "$1"; }
bk_pcpd_pidfile() { printf '%s/pcpd-%s.pid\n' "$BK_RUN" "$1"; }

# Every TCP port of the deployment, "NAME PORT" per line.
bk_ports() {
    local i
    for i in "${BK_INSTANCES[@]}"; do
        echo "$i-pgpoold $(bk_get "$i" port)"
        echo "$i-pcpd $(bk_get "$i" pcp_port)"
        echo "$i-primary $(bk_get "$i" primary_port)"
        echo "$i-standby $(bk_get "$i" standby_port)"
    done
}

# PostgreSQL binaries (15 preferred).
bk_find_pgbin() {
    if [ -n "${PGBIN:-}" ] && [ -x "$PGBIN/initdb" ]; then return 0; fi
    local d
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then PGBIN=$d; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1; then PGBIN=$(dirname "$(command -v initdb)"); return 0; fi
    PGBIN=
    return 1
}

# psql for clients (any psql will do).
bk_find_psql() {
    if [ -n "${PGBIN:-}" ] && [ -x "$PGBIN/psql" ]; then BK_PSQL=$PGBIN/psql; return 0; fi
    if [ -x /usr/lib/postgresql/15/bin/psql ]; then BK_PSQL=/usr/lib/postgresql/15/bin/psql; return 0; fi
    BK_PSQL=$(command -v psql 2>/dev/null) || { BK_PSQL=; return 1; }
}

# pgpoold, pcpd and the pcp tools: the build tree, else installed ones.
bk_find_binaries() {
    local b=$PGPOOLD_BUILD_DIR
    BK_PGPOOLD='' BK_PCPD='' BK_TOOLS=''
    if [ -x "$b/pgpoold/pgpoold" ]; then BK_PGPOOLD=$b/pgpoold/pgpoold
    elif command -v pgpoold >/dev/null 2>&1; then BK_PGPOOLD=$(command -v pgpoold); fi
    if [ -x "$b/pcpd/pcpd" ]; then BK_PCPD=$b/pcpd/pcpd
    elif command -v pcpd >/dev/null 2>&1; then BK_PCPD=$(command -v pcpd); fi
    if [ -x "$b/tools/pcp_node_info" ]; then BK_TOOLS=$b/tools
    elif command -v pcp_node_info >/dev/null 2>&1; then BK_TOOLS=$(dirname "$(command -v pcp_node_info)"); fi
    return 0
}

# Run a command as the PostgreSQL OS user.
bk_as_pg() {
    if [ "$BK_IS_ROOT" = 1 ] && [ "$BK_PG_USER" != root ]; then
        runuser -u "$BK_PG_USER" -- "$@"
    else
        "$@"
    fi
}

# Is PID alive (zombies count as dead) and is its command line one of ours
# (it names WORD and, when given, has MUST as an argument)?  No forks: the
# pid scans below run it for every process.
bk_pid_is() {   # PID WORD [MUST]
    local pid=$1 stat a
    local -a args=()
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    case "${stat%% *}" in Z|X|'') return 1 ;; esac
    { mapfile -d '' -t args < "/proc/$pid/cmdline"; } 2>/dev/null || return 1
    [ "${#args[@]}" -gt 0 ] || return 1
    case " ${args[*]} " in *"$2"*) ;; *) return 1 ;; esac
    [ -z "${3:-}" ] && return 0
    for a in "${args[@]}"; do [ "$a" = "$3" ] && return 0; done
    return 1
}

# The pid in FILE if that process is alive and ours.
bk_pid_from_file() {   # FILE WORD MUST
    local pid=
    [ -f "$1" ] || return 1
    { read -r pid < "$1"; } 2>/dev/null
    pid=${pid//[!0-9]/}
    bk_pid_is "$pid" "$2" "$3" || return 1
    echo "$pid"
}

# Pids of the processes called WORD (pgpoold, pcpd) whose arguments include
# MUST (a config file of ours): finds daemons whose pid file went missing.
bk_pids_by_arg() {   # WORD MUST
    local d pid comm
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        { read -r comm < "$d/comm"; } 2>/dev/null || continue
        [ "$comm" = "$1" ] || continue
        bk_pid_is "$pid" "$1" "$2" && echo "$pid"
    done
    return 0
}

# Does anything accept TCP connections on 127.0.0.1:PORT (or localhost)?
bk_port_open() {   # PORT [HOST]
    # shellcheck disable=SC2016
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${2:-127.0.0.1}" "$1" 2>/dev/null
}

# Who listens on PORT, for messages.
bk_port_owner() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1
    fi
}

# Is PostgreSQL running in DATA?
bk_pg_running() {   # DATA
    [ -f "$1/postmaster.pid" ] || return 1
    bk_as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}
