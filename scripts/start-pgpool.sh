#!/usr/bin/env bash
# scripts/start-pgpool.sh - bring up the booking deployment on this machine:
# three PostgreSQL 15 clusters (primary + streaming standby each), and in
# front of each a pgpoold and its pcpd.
#
#   scripts/start-pgpool.sh            # create what is missing, start what is stopped
#   scripts/start-pgpool.sh --help
#
#   instance  pgpoold  pcpd  primary  standby  database
#   auth      5432     9898  5435     5436     booking_system_auth
#   event     5433     9899  5437     5438     booking_system_event
#   ticket    5434     9900  5439     5440     booking_system_ticket
#
# On a fresh Debian 12 machine, as root or as a user with sudo, it installs
# the missing packages (apt-get), builds pgpoold if it is not built, creates
# the clusters (databases, users, passwords, pg_hba.conf on loopback only
# with scram-sha-256) in DATA_DIR, writes the pgpoold configuration from
# etc/, and starts everything.  Generated passwords go to .env and to the
# caller's ~/.pgpass and ~/.pcppass (merged: other lines are kept).
# Running it again starts whatever is stopped and creates nothing that
# exists; with everything up it changes nothing and says so.
#
# PostgreSQL runs as the `postgres` OS user when started as root (pgpoold and
# pcpd too, when they can run the binaries), as the caller otherwise.
# Settings: etc/env.example (copied to .env).  Stop: scripts/stop-pgpool.sh.
# Exit status 0 when every part is up.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BK_PROG=start-pgpool.sh
# shellcheck source=lib/booking.sh
. "$ROOT/scripts/lib/booking.sh"

for a in "$@"; do
    case "$a" in
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "start-pgpool.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
    esac
done

bk_load_env
bk_defaults
unset NOTIFY_SOCKET PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS 2>/dev/null || true
umask 022

step() { printf '\n== %s\n' "$*"; }
FAILED=()
STARTED_ANY=0   # set when this run created, started, attached or reloaded anything

# ------------------------------------------------------------------ packages
RUNTIME_PACKAGES=(postgresql-15 postgresql-client-15 util-linux)
BUILD_PACKAGES=(build-essential autoconf automake libtool pkg-config
                libconfig-dev libssl-dev libpq-dev libpcre2-dev
                libpg-query-dev libprotobuf-c-dev libsystemd-dev)
INSTALLED_PG_NOW=0

sudo_cmd() {   # run as root: directly, or with sudo
    if [ "$BK_IS_ROOT" = 1 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {   # PACKAGE...
    local p missing=()
    command -v dpkg-query >/dev/null 2>&1 || return 0    # not Debian: trust the admin
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$INSTALL_PACKAGES" != 1 ]; then
        bk_die "missing packages: ${missing[*]} (INSTALL_PACKAGES=0: install them yourself)"
    fi
    if [ "$BK_IS_ROOT" != 1 ] && ! command -v sudo >/dev/null 2>&1; then
        bk_die "missing packages: ${missing[*]}, and no sudo: install them as root"
    fi
    step "installing missing packages: ${missing[*]}"
    case " ${missing[*]} " in *" postgresql-15 "*) INSTALLED_PG_NOW=1 ;; esac
    sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -q || bk_die "apt-get update failed"
    sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || bk_die "apt-get install ${missing[*]} failed"
}

install_missing "${RUNTIME_PACKAGES[@]}"
bk_find_pgbin || bk_die "PostgreSQL server binaries (initdb) not found: install postgresql-15"
bk_find_psql || bk_die "psql not found: install postgresql-client-15"

# ------------------------------------------------------------------ OS users
if [ "$BK_IS_ROOT" = 1 ] && ! id -u "$BK_PG_USER" >/dev/null 2>&1; then
    step "creating the $BK_PG_USER OS user"
    useradd --system --user-group --home-dir /var/lib/postgresql --create-home \
        --shell /bin/bash "$BK_PG_USER" || bk_die "useradd $BK_PG_USER failed"
fi

# ------------------------------------------------------------------ Debian's own cluster
# postgresql-common creates and starts a cluster "main" on 5432 on install;
# our pgpoold needs that port.  If we installed it just now it is empty:
# stop it and keep it from starting at boot.  Otherwise say what to do.
check_debian_clusters() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    local ports ver name port status _ conf
    ports=" $(bk_ports | awk '{print $2}' | tr '\n' ' ') "
    while read -r ver name port status _; do
        [[ $port =~ ^[0-9]+$ ]] || continue
        case "$ports" in *" $port "*) ;; *) continue ;; esac
        conf=/etc/postgresql/$ver/$name/start.conf
        if [ "$status" = online ] || [[ $status == online,* ]]; then
            if [ "$INSTALLED_PG_NOW" = 1 ] || [ "${STOP_DEBIAN_CLUSTER:-0}" = 1 ]; then
                step "stopping Debian's cluster $ver/$name on port $port (created by the package install) and setting it to manual"
                sudo_cmd pg_ctlcluster "$ver" "$name" stop || true
                [ -f "$conf" ] && echo manual | sudo_cmd tee "$conf" >/dev/null
            else
                bk_die "Debian's PostgreSQL cluster $ver/$name runs on port $port, which the booking deployment needs.
  Stop it and keep it from starting at boot:
    sudo pg_ctlcluster $ver $name stop && echo manual | sudo tee $conf
  (or run again with STOP_DEBIAN_CLUSTER=1), or move the deployment's ports in .env."
            fi
        elif [ -f "$conf" ] && grep -q '^auto' "$conf" 2>/dev/null; then
            if [ "$INSTALLED_PG_NOW" = 1 ] || [ "${STOP_DEBIAN_CLUSTER:-0}" = 1 ]; then
                echo manual | sudo_cmd tee "$conf" >/dev/null
            else
                bk_warn "Debian's cluster $ver/$name (stopped) is set to start at boot on port $port, which the booking deployment uses: echo manual | sudo tee $conf"
            fi
        fi
    done < <(pg_lsclusters -h 2>/dev/null)
}
check_debian_clusters

# Before anything is created: every port of the deployment is either free or
# served by our own running process.
preflight_ports() {
    local i node port conflicts=() who
    for i in "${BK_INSTANCES[@]}"; do
        for node in primary standby; do
            port=$(bk_get "$i" "${node}_port")
            bk_pg_running "$(bk_node_dir "$i" "$node")" && continue
            bk_port_open "$port" && conflicts+=("$port ($i $node)")
        done
        port=$(bk_get "$i" port)
        if ! bk_pid_from_file "$(bk_pgpoold_pidfile "$i")" pgpoold "$(bk_conf "$i")" >/dev/null &&
           bk_port_open "$port"; then
            conflicts+=("$port ($i pgpoold)")
        fi
        port=$(bk_get "$i" pcp_port)
        if [ -n "$BK_PCPD" ] && ! bk_pid_from_file "$(bk_pcpd_pidfile "$i")" pcpd "$(bk_conf "$i")" >/dev/null &&
           bk_port_open "$port"; then
            conflicts+=("$port ($i pcpd)")
        fi
    done
    [ "${#conflicts[@]}" -eq 0 ] && return 0
    for i in "${conflicts[@]}"; do
        who=$(bk_port_owner "${i%% *}")
        echo "port $i is in use${who:+ by $who}" >&2
    done
    bk_die "ports of the booking deployment are taken by other programs (above): stop them, or move the ports in .env"
}
bk_find_binaries
preflight_ports

# ------------------------------------------------------------------ build
if [ -z "$BK_PGPOOLD" ] || { [ -z "$BK_PCPD" ] && [ -f "$ROOT/pcpd/main.c" ]; } ||
   { [ -z "$BK_TOOLS" ] && [ -f "$ROOT/tools/pcp_tool.c" ]; }; then
    install_missing "${BUILD_PACKAGES[@]}"
    BUILD_LOG=$PGPOOLD_BUILD_DIR/build.log
    step "building pgpoold in $PGPOOLD_BUILD_DIR (log: $BUILD_LOG)"
    build_as=()
    # built files belong to whoever called sudo, not to root
    if [ "$BK_IS_ROOT" = 1 ] && [ "$BK_INVOKER" != root ] &&
       [ "$(stat -c %U "$ROOT")" = "$BK_INVOKER" ]; then
        build_as=(runuser -u "$BK_INVOKER" --)
    fi
    mkdir -p "$PGPOOLD_BUILD_DIR"
    # shellcheck disable=SC2016
    if ! "${build_as[@]}" bash -c '
            set -e
            cd "$1"
            [ -x "$2/configure" ] || (cd "$2" && ./autogen.sh)
            [ -f Makefile ] || "$2/configure"
            make -j"$(nproc 2>/dev/null || echo 2)"' _ "$PGPOOLD_BUILD_DIR" "$ROOT" > "$BUILD_LOG" 2>&1; then
        tail -n 30 "$BUILD_LOG" >&2
        bk_die "build failed (full log: $BUILD_LOG)"
    fi
    bk_find_binaries
    echo "built: ${BK_PGPOOLD:-no pgpoold}${BK_PCPD:+, $BK_PCPD}${BK_TOOLS:+, $BK_TOOLS/pcp_*}"
fi
[ -n "$BK_PGPOOLD" ] || bk_die "pgpoold is not built (no $PGPOOLD_BUILD_DIR/pgpoold/pgpoold)"
[ -n "$BK_PCPD" ] || bk_warn "pcpd is not built (no $PGPOOLD_BUILD_DIR/pcpd/pcpd): the PCP ports 9898-9900 will not be served"

# pgpoold and pcpd run as the PostgreSQL OS user when it can run them
BK_DAEMON_USER=$BK_PG_USER
if [ "$BK_IS_ROOT" = 1 ]; then
    for b in "$BK_PGPOOLD" ${BK_PCPD:+"$BK_PCPD"}; do
        if ! runuser -u "$BK_PG_USER" -- test -x "$b"; then
            BK_DAEMON_USER=root
            bk_warn "$BK_PG_USER cannot run $b (a folder on its path is closed to it): pgpoold and pcpd run as root"
            break
        fi
    done
fi
as_daemon() {
    if [ "$BK_IS_ROOT" = 1 ] && [ "$BK_DAEMON_USER" != root ]; then
        runuser -u "$BK_DAEMON_USER" -- "$@"
    else
        "$@"
    fi
}

# ------------------------------------------------------------------ passwords
gen_password() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-24; }

# Set KEY=VALUE in the env file: replace an empty KEY= line, or append.
env_file_set() {   # KEY VALUE
    local k=$1 v=$2 tmp
    tmp=$(mktemp "$ENV_FILE.XXXXXX") || bk_die "cannot write next to $ENV_FILE"
    awk -v k="$k" -v v="$v" '
        BEGIN { done = 0 }
        !done && $0 ~ "^[[:space:]]*(export[[:space:]]+)?" k "=[[:space:]]*(\"\"|\x27\x27)?[[:space:]]*$" {
            print k "=" v; done = 1; next }
        { print }
        END { if (!done) print k "=" v }' "$ENV_FILE" > "$tmp" && chmod 600 "$tmp" && mv -f "$tmp" "$ENV_FILE"
}

ensure_passwords() {
    local k generated=()
    for k in POSTGRES_PASSWORD APP_PASSWORD REPLICATION_PASSWORD HEALTH_CHECK_PASSWORD PCP_PASSWORD; do
        if [ -z "${!k}" ]; then
            printf -v "$k" '%s' "$(gen_password)"
            generated+=("$k")
        elif ! [[ ${!k} =~ ^[A-Za-z0-9._~+=-]+$ ]]; then
            bk_die "$k may only hold letters, digits and ._~+=- (it goes into pgpass, pool_passwd and SQL)"
        fi
    done
    [ "${#generated[@]}" -eq 0 ] && return 0
    if [ ! -f "$ENV_FILE" ]; then
        cp "$ROOT/etc/env.example" "$ENV_FILE" || bk_die "cannot create $ENV_FILE"
        chmod 600 "$ENV_FILE"
    fi
    for k in "${generated[@]}"; do env_file_set "$k" "${!k}"; done
    if [ "$BK_IS_ROOT" = 1 ] && [ "$BK_INVOKER" != root ]; then
        chown "$BK_INVOKER:" "$ENV_FILE" 2>/dev/null || true
    fi
    echo "generated ${generated[*]} (saved in $ENV_FILE)"
}
ensure_passwords

# ------------------------------------------------------------------ folders
if [ "$BK_IS_ROOT" = 1 ]; then
    case "$DATA_DIR/" in
        /root/*) bk_die "DATA_DIR=$DATA_DIR is inside /root, which the $BK_PG_USER user cannot reach: pick another (.env)" ;;
    esac
fi
if [ -d "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR" 2>/dev/null)" ] && [ ! -f "$DATA_DIR/$BK_MARKER" ]; then
    bk_die "DATA_DIR=$DATA_DIR exists and is not a booking deployment folder (no $BK_MARKER): pick another"
fi
mkdir -p "$DATA_DIR" || bk_die "cannot create $DATA_DIR"
touch "$DATA_DIR/$BK_MARKER"
chmod 755 "$DATA_DIR"
for d in etc run pg status log; do mkdir -p "$DATA_DIR/$d"; done
for i in "${BK_INSTANCES[@]}"; do mkdir -p "$DATA_DIR/pg/$i" "$DATA_DIR/status/$i" "$(bk_log_dir "$i")"; done
chmod 700 "$BK_ETC"
chmod 755 "$BK_RUN" "$DATA_DIR/log"
if [ "$BK_IS_ROOT" = 1 ]; then
    chown "$BK_PG_USER:" "$DATA_DIR" "$DATA_DIR/pg" "$DATA_DIR/status" "$DATA_DIR/log" "$DATA_DIR"/pg/* "$DATA_DIR"/log/*
    chown "$BK_DAEMON_USER:" "$BK_ETC" "$BK_RUN" "$DATA_DIR"/status/*
    # the daemons write their logs next to PostgreSQL's
    [ "$BK_DAEMON_USER" = root ] || chown "$BK_DAEMON_USER:" "$DATA_DIR"/log/*
fi
# every parent folder must be passable for the PostgreSQL user
if [ "$BK_IS_ROOT" = 1 ] && ! runuser -u "$BK_PG_USER" -- test -x "$DATA_DIR/pg"; then
    bk_die "$BK_PG_USER cannot reach $DATA_DIR (a parent folder is closed): pick another DATA_DIR"
fi

# write_file DEST MODE OWNER : stdin to DEST if the content changed.
# Returns 0 when it wrote (changed), 1 when DEST already had that content.
write_file() {
    local dest=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp "$dest.XXXXXX") || bk_die "cannot write $dest"
    cat > "$tmp"
    if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        chmod "$mode" "$dest"
        return 1
    fi
    chmod "$mode" "$tmp"
    [ "$BK_IS_ROOT" = 1 ] && [ -n "$owner" ] && chown "$owner:" "$tmp"
    mv -f "$tmp" "$dest"
    return 0
}

# ------------------------------------------------------------------ port checks
# Every port we are about to listen on must be free.  (Ours, already
# running, are skipped by the callers.)
require_free_port() {   # PORT WHAT
    if bk_port_open "$1"; then
        local who; who=$(bk_port_owner "$1")
        bk_die "port $1 ($2) is already in use${who:+ by $who}: stop that, or move the port in .env"
    fi
}

# ------------------------------------------------------------------ PostgreSQL

pg_node_conf() {   # INSTANCE NODE(0|1) PORT
    cat <<CONF
# written by scripts/start-pgpool.sh on every start (change etc/ or .env, not this)
listen_addresses = '$BACKEND_HOST'
port = $3
unix_socket_directories = '$BK_RUN'
cluster_name = '$1_node$2'
max_connections = 200
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '256MB'
max_slot_wal_keep_size = '4GB'
hot_standby = on
hot_standby_feedback = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
lc_messages = 'C'
CONF
}

pg_write_conf() {   # INSTANCE NODE PORT DATA
    local data=$4 tmp
    tmp=$(mktemp) || return 1
    pg_node_conf "$1" "$2" "$3" > "$tmp"
    chmod 644 "$tmp"
    if ! bk_as_pg cmp -s "$tmp" "$data/booking.conf" 2>/dev/null; then
        bk_as_pg tee "$data/booking.conf" < "$tmp" >/dev/null || { rm -f "$tmp"; return 1; }
    fi
    rm -f "$tmp"
    if ! bk_as_pg grep -q "^include_if_exists = 'booking.conf'" "$data/postgresql.conf"; then
        echo "include_if_exists = 'booking.conf'" | bk_as_pg tee -a "$data/postgresql.conf" >/dev/null
    fi
    bk_as_pg tee "$data/pg_hba.conf" >/dev/null <<HBA
# written by scripts/start-pgpool.sh: loopback only, scram-sha-256
# TYPE  DATABASE     USER         ADDRESS          METHOD
local   all          postgres                      peer map=owner
host    all          all          127.0.0.1/32     scram-sha-256
host    all          all          ::1/128          scram-sha-256
host    replication  $BK_REPL_USER   127.0.0.1/32     scram-sha-256
host    replication  $BK_REPL_USER   ::1/128          scram-sha-256
HBA
    bk_as_pg tee "$data/pg_ident.conf" >/dev/null <<IDENT
# written by scripts/start-pgpool.sh: the OS user that owns the cluster is "postgres" over the socket
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
owner      $BK_PG_USER         postgres
IDENT
}

# The log file exists and belongs to the PostgreSQL user (pg_ctl -l appends as it).
pg_log_file() {   # LOGFILE
    touch "$1"
    [ "$BK_IS_ROOT" = 1 ] && chown "$BK_PG_USER:" "$1"
    return 0
}

pg_start() {   # DATA LOGFILE
    pg_log_file "$2"
    bk_as_pg timeout -k 10 150 "$PGBIN/pg_ctl" -D "$1" -l "$2" -w -t 120 start >/dev/null
}

pg_admin() {   # PORT SQL [DB]  (superuser, over the socket)
    bk_as_pg env PGCONNECT_TIMEOUT=10 timeout -k 5 120 "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 \
        -h "$BK_RUN" -p "$1" -U postgres -d "${3:-postgres}" -c "$2"
}

# Roles, passwords and the database: safe to run again.
pg_apply_roles() {   # INSTANCE PORT (of the primary)
    local i=$1 port=$2 db
    db=$(bk_get "$i" database)
    pg_admin "$port" "
SET client_min_messages = warning;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$BK_REPL_USER') THEN
    CREATE ROLE $BK_REPL_USER WITH REPLICATION LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$BK_CHECK_USER') THEN
    CREATE ROLE $BK_CHECK_USER WITH LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$BK_APP_USER') THEN
    CREATE ROLE $BK_APP_USER WITH LOGIN; END IF;
END \$\$;
SET password_encryption = 'scram-sha-256';
ALTER ROLE postgres PASSWORD '$POSTGRES_PASSWORD';
ALTER ROLE $BK_REPL_USER PASSWORD '$REPLICATION_PASSWORD';
ALTER ROLE $BK_CHECK_USER PASSWORD '$HEALTH_CHECK_PASSWORD';
ALTER ROLE $BK_APP_USER PASSWORD '$APP_PASSWORD';
GRANT pg_monitor TO $BK_CHECK_USER;" >/dev/null || return 1
    if [ "$(pg_admin "$port" "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ]; then
        pg_admin "$port" "CREATE DATABASE $db OWNER $BK_APP_USER" >/dev/null || return 1
        echo "  created database $db"
    fi
}

# An initdb/basebackup that did not finish leaves a folder without its
# ".ready" mark: stop it if it runs and remove it, then start over.
pg_clear_unfinished() {   # DATA
    local data=$1
    [ -d "$data" ] || return 0
    [ -f "$data.ready" ] && return 0
    echo "  removing the unfinished $data from an earlier run"
    if [ -f "$data/postmaster.pid" ]; then
        bk_as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$data"
}

# Node N of an instance: folder, port, log.  Node 0 lives in pg/<i>/primary
# and node 1 in pg/<i>/standby: the folders keep their names when a failover
# swaps the roles.
node_dir() { if [ "$2" = 0 ]; then bk_node_dir "$1" primary; else bk_node_dir "$1" standby; fi; }
node_port() { if [ "$2" = 0 ]; then bk_get "$1" primary_port; else bk_get "$1" standby_port; fi; }
node_log() { if [ "$2" = 0 ]; then echo "$(bk_log_dir "$1")/primary.log"; else echo "$(bk_log_dir "$1")/standby.log"; fi; }
node_is_standby() { bk_as_pg test -f "$1/standby.signal"; }   # DATA
node_timeline() {   # DATA: the timeline of its last checkpoint
    bk_as_pg env LC_ALL=C "$PGBIN/pg_controldata" "$1" 2>/dev/null |
        sed -n "s/^Latest checkpoint's TimeLineID: *//p"
}

pg_initdb_node() {   # INSTANCE NODE
    local i=$1 n=$2 data port log pwfile
    data=$(node_dir "$i" "$n"); port=$(node_port "$i" "$n"); log=$(node_log "$i" "$n")
    require_free_port "$port" "$i node $n"
    echo "  node $n: initdb $data"
    pwfile=$BK_ETC/.pwfile.$$
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"; chmod 600 "$pwfile"
    [ "$BK_IS_ROOT" = 1 ] && chown "$BK_PG_USER:" "$pwfile" && chmod 711 "$BK_ETC"
    if ! bk_as_pg "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 -k \
            --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwfile" >> "$log" 2>&1; then
        rm -f "$pwfile"; chmod 700 "$BK_ETC"
        echo "  initdb failed; see $log"; return 1
    fi
    rm -f "$pwfile"; chmod 700 "$BK_ETC"
    pg_write_conf "$i" "$n" "$port" "$data" || return 1
    pg_start "$data" "$log" || { echo "  node $n did not start; see $log"; return 1; }
    pg_apply_roles "$i" "$port" || { echo "  creating roles/databases failed; see $log"; return 1; }
    bk_as_pg touch "$data.ready"
    STARTED_ANY=1
    echo "  node $n: primary $BACKEND_HOST:$port created and started"
}

pg_basebackup_node() {   # INSTANCE NODE FROM-PORT
    local i=$1 n=$2 from=$3 data port log slot=${1}_node${2}
    data=$(node_dir "$i" "$n"); port=$(node_port "$i" "$n"); log=$(node_log "$i" "$n")
    require_free_port "$port" "$i node $n"
    pg_admin "$from" "SELECT pg_create_physical_replication_slot('$slot')
        WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '$slot')" >/dev/null \
        || { echo "  could not create replication slot $slot on port $from"; return 1; }
    echo "  node $n: pg_basebackup from $BACKEND_HOST:$from to $data"
    if ! bk_as_pg env PGPASSWORD="$REPLICATION_PASSWORD" PGCONNECT_TIMEOUT=10 timeout -k 10 300 \
            "$PGBIN/pg_basebackup" -h "$BACKEND_HOST" -p "$from" -U "$BK_REPL_USER" -D "$data" \
            -R -X stream -c fast -S "$slot" >> "$log" 2>&1; then
        echo "  pg_basebackup failed; see $log"; return 1
    fi
    pg_write_conf "$i" "$n" "$port" "$data" || return 1
    pg_start "$data" "$log" || { echo "  node $n did not start; see $log"; return 1; }
    bk_as_pg touch "$data.ready"
    STARTED_ANY=1
    echo "  node $n: standby $BACKEND_HOST:$port created and started"
}

pg_start_node() {   # INSTANCE NODE ROLE
    local i=$1 n=$2 role=$3 data port log
    data=$(node_dir "$i" "$n"); port=$(node_port "$i" "$n"); log=$(node_log "$i" "$n")
    if bk_pg_running "$data"; then
        echo "  node $n: $role $BACKEND_HOST:$port already running"
        return 0
    fi
    require_free_port "$port" "$i node $n"
    pg_write_conf "$i" "$n" "$port" "$data" || return 1
    pg_start "$data" "$log" || { echo "  node $n ($role) did not start; see $log"; return 1; }
    if [ "$role" = primary ]; then
        pg_apply_roles "$i" "$port" || { echo "  applying roles/passwords failed"; return 1; }
    fi
    STARTED_ANY=1
    echo "  node $n: $role $BACKEND_HOST:$port started"
}

# Both nodes of an instance, whichever is the primary now.  A folder that
# would start as a second primary (a former primary after a failover) is
# not started: the one on the later timeline is the primary.
pg_ensure_instance() {   # INSTANCE
    local i=$1 n d0 d1 prim='' tl0 tl1 stale=''
    d0=$(node_dir "$i" 0); d1=$(node_dir "$i" 1)
    pg_clear_unfinished "$d0"
    pg_clear_unfinished "$d1"
    if [ ! -d "$d0" ] && [ ! -d "$d1" ]; then
        pg_initdb_node "$i" 0 || return 1
        pg_basebackup_node "$i" 1 "$(node_port "$i" 0)" || return 2
        return 0
    elif [ -d "$d0" ] && [ -d "$d1" ] && ! node_is_standby "$d0" && ! node_is_standby "$d1"; then
        # the later timeline is the promoted one; on a tie (no checkpoint on
        # the new timeline yet) the one that runs
        tl0=$(node_timeline "$d0"); tl1=$(node_timeline "$d1")
        if [ "${tl1:-0}" -gt "${tl0:-0}" ]; then prim=1 stale=0
        elif [ "${tl1:-0}" = "${tl0:-0}" ] && bk_pg_running "$d1" && ! bk_pg_running "$d0"; then prim=1 stale=0
        else prim=0 stale=1; fi
        echo "  node $stale ($(node_dir "$i" "$stale")) is a former primary (timeline ${tl0:-?} vs ${tl1:-?}):"
        echo "    not started, so that there are not two primaries.  To make it a standby of node $prim,"
        echo "    remove its folder and start again (start-pgpool.sh copies node $prim with pg_basebackup):"
        echo "      rm -rf $(node_dir "$i" "$stale") $(node_dir "$i" "$stale").ready && $ROOT/scripts/start-pgpool.sh"
        if bk_pg_running "$(node_dir "$i" "$stale")"; then
            echo "    (it is running now: stop it first with pg_ctl -D $(node_dir "$i" "$stale") stop)"
        fi
    elif [ -d "$d0" ] && ! node_is_standby "$d0"; then
        prim=0
    elif [ -d "$d1" ] && ! node_is_standby "$d1"; then
        prim=1
    else
        echo "  no primary: every existing node of $i is a standby ($d0, $d1); promote one (pg_ctl promote)"
        return 1
    fi
    pg_start_node "$i" "$prim" primary || return 1
    n=$((1 - prim))
    if [ "$n" = "$stale" ]; then
        return 2
    elif [ ! -d "$(node_dir "$i" "$n")" ]; then
        pg_basebackup_node "$i" "$n" "$(node_port "$i" "$prim")" || return 2
    else
        pg_start_node "$i" "$n" standby || return 2
    fi
}

# ------------------------------------------------------------------ pgpoold configuration
md5_of() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# Copy an etc/ config, replacing the values of the given top-level keys and
# of the backends' keys (backend.N.KEY).  Every other line stays as it is.
rewrite_conf() {   # SRC KEY=VALUE...
    local src=$1; shift
    awk '
        BEGIN {
            for (i = 1; i < ARGC; i++) {
                eq = index(ARGV[i], "="); set[substr(ARGV[i], 1, eq - 1)] = substr(ARGV[i], eq + 1)
            }
            ARGC = 1; node = -1; inb = 0
        }
        /^[ \t]*backends[ \t]*=/ { inb = 1 }
        inb && /\{/ { node++ }
        {
            if (match($0, /^[ \t]*[a-z_]+[ \t]*=/)) {
                key = $0; sub(/^[ \t]*/, "", key); sub(/[ \t]*=.*/, "", key)
                k = inb ? "backend." node "." key : key
                if (k in set) {
                    indent = $0; sub(/[^ \t].*/, "", indent)
                    print indent key " = " set[k] ";"
                    next
                }
            }
            print
        }' "$@" < "$src"
}

write_pgpoold_configs() {
    local i changed=0 q='"' owner=$BK_DAEMON_USER
    rewrite_conf "$ROOT/etc/pgpool-common.conf" \
        "unix_socket_directories=$q$BK_RUN$q" "pcp_socket_dir=$q$BK_RUN$q" \
        "failover_command=$q$BK_ETC/failover.sh %d %h %p %D %m %H %M %P %r %R %N %S$q" \
        | write_file "$BK_ETC/pgpool-common.conf" 600 "$owner" && changed=1
    for i in "${BK_INSTANCES[@]}"; do
        rewrite_conf "$ROOT/etc/pgpool-$i.conf" \
            "port=$(bk_get "$i" port)" "pcp_port=$(bk_get "$i" pcp_port)" \
            "pid_file_name=$q$(bk_pgpoold_pidfile "$i")$q" \
            "logdir=$q$DATA_DIR/status/$i$q" "log_directory=$q$(bk_log_dir "$i")$q" \
            "follow_primary_command=$q$BK_ETC/follow_primary.sh %d %h %p %D %m %H %M %P %r %R $(bk_get "$i" pcp_port)$q" \
            "backend.0.hostname=$q$BACKEND_HOST$q" "backend.0.port=$(bk_get "$i" primary_port)" \
            "backend.0.data_directory=$q$(bk_node_dir "$i" primary)$q" \
            "backend.1.hostname=$q$BACKEND_HOST$q" "backend.1.port=$(bk_get "$i" standby_port)" \
            "backend.1.data_directory=$q$(bk_node_dir "$i" standby)$q" \
            | write_file "$(bk_conf "$i")" 600 "$owner" && changed=1
    done
    write_file "$BK_ETC/pool_hba.conf" 600 "$owner" < "$ROOT/etc/pool_hba.conf" && changed=1
    sed -e "s/@POSTGRES_PASSWORD@/$POSTGRES_PASSWORD/" -e "s/@APP_PASSWORD@/$APP_PASSWORD/" \
        -e "s/@HEALTH_CHECK_PASSWORD@/$HEALTH_CHECK_PASSWORD/" "$ROOT/etc/pool_passwd" \
        | write_file "$BK_ETC/pool_passwd" 600 "$owner" && changed=1
    sed -e "s/@PCP_PASSWORD_MD5@/$(md5_of "$PCP_PASSWORD")/" "$ROOT/etc/pcp.conf" \
        | write_file "$BK_ETC/pcp.conf" 600 "$owner" && changed=1
    write_file "$BK_ETC/failover.sh" 755 "$owner" < "$ROOT/etc/failover.sh" || true
    write_file "$BK_ETC/follow_primary.sh" 755 "$owner" < "$ROOT/etc/follow_primary.sh" || true
    # for failover.sh / follow_primary.sh: superuser and PCP passwords
    printf '%s:*:*:postgres:%s\nlocalhost:*:*:postgres:%s\n' "$BACKEND_HOST" "$POSTGRES_PASSWORD" "$POSTGRES_PASSWORD" \
        | write_file "$BK_ETC/pgpass" 600 "$owner" || true
    printf '*:*:%s:%s\n' "$BK_PCP_USER" "$PCP_PASSWORD" | write_file "$BK_ETC/pcppass" 600 "$owner" || true
    {
        echo "# written by scripts/start-pgpool.sh: rotate the booking deployment's logs"
        echo "#   logrotate -s $BK_RUN/logrotate.status $BK_ETC/logrotate.conf    (from cron, e.g. hourly)"
        echo "$DATA_DIR/log/*/*.log {"
        [ "$BK_IS_ROOT" = 1 ] && echo "	su $BK_PG_USER $BK_PG_USER"
        printf '\tsize 50M\n\trotate 10\n\tcompress\n\tdelaycompress\n\tmissingok\n\tnotifempty\n\tcopytruncate\n}\n'
    } | write_file "$BK_ETC/logrotate.conf" 644 root || true
    CONFIG_CHANGED=$changed
    for i in "${BK_INSTANCES[@]}"; do
        out=$(as_daemon "$BK_PGPOOLD" -t -f "$(bk_conf "$i")" 2>&1) \
            || bk_die "pgpoold rejects $(bk_conf "$i"):
$out"
    done
}

# ------------------------------------------------------------------ pgpoold / pcpd
# run_daemon CMD...: as the daemon user, in the daemons' environment
# (failover.sh and follow_primary.sh find psql, pg_ctl and pcp_attach_node
# on this PATH)
run_daemon() {
    # (runuser's PAM session resets the soft descriptor limit: raise it again)
    # shellcheck disable=SC2016
    as_daemon bash -c 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"' _ \
        env PATH="${BK_TOOLS:+$BK_TOOLS:}$PGBIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        PGBIN="$PGBIN" PCP_USER="$BK_PCP_USER" "$@"
}

wait_port() {   # PORT SECONDS PID-FILE WORD CONF
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$end" ]; do
        if bk_port_open "$1" && bk_pid_from_file "$3" "$4" "$5" >/dev/null; then return 0; fi
        sleep 0.3
    done
    return 1
}

# launch_daemon INSTANCE WORD PORT SECONDS PID-FILE LOG CONF COMMAND... :
# start a daemon (pgpoold or pcpd) that detaches and writes PID-FILE, and
# wait until it listens on PORT.
launch_daemon() {
    local i=$1 word=$2 port=$3 secs=$4 pidf=$5 log=$6 conf=$7
    shift 7
    require_free_port "$port" "$i $word"
    rm -f "$pidf"
    as_daemon touch "$log" 2>/dev/null
    ( cd "$DATA_DIR" && run_daemon "$@" >>"$log" 2>&1 </dev/null ) \
        || echo "  $word -f $conf exited with status $?"
    if ! wait_port "$port" "$secs" "$pidf" "$word" "$conf"; then
        echo "  $word on port $port did not come up; last lines of $log:"
        tail -n 15 "$log" | sed 's/^/    /'
        return 1
    fi
    STARTED_ANY=1
    printf '  %-9s localhost:%s started (pid %s)\n' "$word" "$port" "$(bk_pid_from_file "$pidf" "$word" "$conf")"
}

start_pgpoold() {   # INSTANCE
    local i=$1 conf pidf port log pid
    conf=$(bk_conf "$i"); pidf=$(bk_pgpoold_pidfile "$i"); port=$(bk_get "$i" port)
    log=$(bk_log_dir "$i")/pgpoold.log
    if pid=$(bk_pid_from_file "$pidf" pgpoold "$conf") || pid=$(bk_pids_by_arg pgpoold "$conf" | head -n1) && [ -n "$pid" ]; then
        if [ "$CONFIG_CHANGED" = 1 ]; then
            kill -HUP "$pid" 2>/dev/null && STARTED_ANY=1 &&
                echo "  pgpoold   localhost:$port already running (pid $pid); configuration changed: sent SIGHUP" \
                     "(pool_hba.conf and pool_passwd are re-read; other settings need stop-pgpool.sh + start-pgpool.sh)"
        else
            echo "  pgpoold   localhost:$port already running (pid $pid)"
        fi
        return 0
    fi
    # daemon mode: pgpoold detaches, writes $pidf and logs to $log
    launch_daemon "$i" pgpoold "$port" 60 "$pidf" "$log" "$conf" "$BK_PGPOOLD" -f "$conf"
}

start_pcpd() {   # INSTANCE
    local i=$1 conf pidf port log pid
    conf=$(bk_conf "$i"); pidf=$(bk_pcpd_pidfile "$i"); port=$(bk_get "$i" pcp_port)
    log=$(bk_log_dir "$i")/pcpd.log
    if [ -z "$BK_PCPD" ]; then
        echo "  pcpd      not built: PCP port $port not served"
        return 0
    fi
    if pid=$(bk_pid_from_file "$pidf" pcpd "$conf") || pid=$(bk_pids_by_arg pcpd "$conf" | head -n1) && [ -n "$pid" ]; then
        echo "  pcpd      localhost:$port already running (pid $pid)"
        return 0
    fi
    launch_daemon "$i" pcpd "$port" 30 "$pidf" "$log" "$conf" "$BK_PCPD" -f "$conf" -p "$pidf"
}

# A node pgpoold holds as down although its PostgreSQL runs (a standby that
# was stopped and has just been started again): attach it through pcpd.
# pgpoold refuses to attach a second primary, so this cannot undo a failover.
attach_down_nodes() {   # INSTANCE
    local i=$1 port db out id st
    [ -n "$BK_PCPD" ] && [ -n "$BK_TOOLS" ] || return 0
    port=$(bk_get "$i" port); db=$(bk_get "$i" database)
    out=$(PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=5 timeout 20 "$BK_PSQL" -X -w -qAt -F ' ' \
          -h localhost -p "$port" -U postgres -d "$db" -c "SHOW pool_nodes" 2>/dev/null) || return 0
    while read -r id _ nport st _; do
        [ "$st" = down ] || continue
        if ! PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=5 timeout 10 "$BK_PSQL" -X -w -qAt \
               -h "$BACKEND_HOST" -p "$nport" -U postgres -d postgres -c "SELECT 1" >/dev/null 2>&1; then
            echo "  node $id ($BACKEND_HOST:$nport) is down and does not answer: left detached"
            continue
        fi
        if out=$(PCPPASSFILE=$BK_ETC/pcppass timeout 60 "$BK_TOOLS/pcp_attach_node" -w -h localhost \
                 -p "$(bk_get "$i" pcp_port)" -U "$BK_PCP_USER" -n "$id" 2>&1) && ! grep -q ERROR <<< "$out"; then
            echo "  node $id ($BACKEND_HOST:$nport) was detached; attached it again"
            STARTED_ANY=1
        else
            echo "  node $id ($BACKEND_HOST:$nport) is detached; pcp_attach_node: $out"
        fi
    done <<< "$out"
}

# ------------------------------------------------------------------ password files
# Merge LINES into FILE: lines of FILE with the same first KEYFIELDS fields
# are replaced, every other line is kept.  Mode 0600, owned by the caller.
merge_passfile() {   # FILE KEYFIELDS LINE...
    local file=$1 nkey=$2 tmp; shift 2
    local dir; dir=$(dirname "$file")
    mkdir -p "$dir" || return 1
    tmp=$(mktemp "$file.XXXXXX") || return 1
    {
        [ -f "$file" ] && awk -v n="$nkey" -v ours="$(printf '%s\n' "$@")" '
            BEGIN { m = split(ours, o, "\n"); for (j = 1; j <= m; j++) if (o[j] != "") { split(o[j], f, ":"); k = f[1]; for (x = 2; x <= n; x++) k = k ":" f[x]; mine[k] = 1 } }
            { split($0, f, ":"); k = f[1]; for (x = 2; x <= n; x++) k = k ":" f[x]; if (!(k in mine)) print }' "$file"
        printf '%s\n' "$@"
    } > "$tmp"
    chmod 600 "$tmp"
    if [ "$BK_IS_ROOT" = 1 ] && [ "$BK_INVOKER" != root ]; then
        chown "$BK_INVOKER:" "$tmp"
    fi
    if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"; chmod 600 "$file"; return 1
    fi
    mv -f "$tmp" "$file"
}

write_passfiles() {
    local lines=() pcp=() h i p
    for h in localhost 127.0.0.1; do
        for i in "${BK_INSTANCES[@]}"; do
            for p in "$(bk_get "$i" port)" "$(bk_get "$i" primary_port)" "$(bk_get "$i" standby_port)"; do
                lines+=("$h:$p:*:postgres:$POSTGRES_PASSWORD" "$h:$p:*:$BK_APP_USER:$APP_PASSWORD")
            done
            pcp+=("$h:$(bk_get "$i" pcp_port):$BK_PCP_USER:$PCP_PASSWORD")
        done
    done
    for i in "${BK_INSTANCES[@]}"; do
        h=$(bk_get "$i" host)
        case "$h" in localhost|127.0.0.1) continue ;; esac
        lines+=("$h:$(bk_get "$i" port):*:postgres:$POSTGRES_PASSWORD" "$h:$(bk_get "$i" port):*:$BK_APP_USER:$APP_PASSWORD")
        pcp+=("$h:$(bk_get "$i" pcp_port):$BK_PCP_USER:$PCP_PASSWORD")
    done
    if merge_passfile "$PGPASS_FILE" 4 "${lines[@]}"; then
        echo "  $PGPASS_FILE: booking lines added/updated (other lines kept)"
    else
        echo "  $PGPASS_FILE: already up to date"
    fi
    if merge_passfile "$PCPPASS_FILE" 3 "${pcp[@]}"; then
        echo "  $PCPPASS_FILE: booking lines added/updated (other lines kept)"
    else
        echo "  $PCPPASS_FILE: already up to date"
    fi
}

# ------------------------------------------------------------------ main
# max_clients = 1000 per pgpoold needs more than the usual 1024 descriptors
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
for i in "${BK_INSTANCES[@]}"; do
    step "$i: PostgreSQL node 0 $BACKEND_HOST:$(bk_get "$i" primary_port), node 1 $BACKEND_HOST:$(bk_get "$i" standby_port)"
    rc=0
    pg_ensure_instance "$i" || rc=$?
    case "$rc" in
        0) ;;
        2) FAILED+=("$i standby") ;;
        *) FAILED+=("$i primary") ;;
    esac
done

step "pgpoold configuration in $BK_ETC"
write_pgpoold_configs
if [ "$CONFIG_CHANGED" = 1 ]; then echo "  written (pgpool-*.conf, pool_passwd, pool_hba.conf, pcp.conf)"; else echo "  unchanged"; fi

for i in "${BK_INSTANCES[@]}"; do
    step "$i: pgpoold localhost:$(bk_get "$i" port), pcpd localhost:$(bk_get "$i" pcp_port)"
    case " ${FAILED[*]} " in
        *" $i primary "*) echo "  not started: the primary is not running"; continue ;;
    esac
    if start_pgpoold "$i"; then
        start_pcpd "$i" || FAILED+=("$i pcpd")
        attach_down_nodes "$i"
    else
        FAILED+=("$i pgpoold")
    fi
done

step "password files"
write_passfiles

# Every pgpoold answers a query, with the password from the pgpass file.
step "checking a query through each pgpoold"
for i in "${BK_INSTANCES[@]}"; do
    port=$(bk_get "$i" port); db=$(bk_get "$i" database); out=
    end=$((SECONDS + 30))
    while :; do
        out=$(PGPASSFILE=$PGPASS_FILE PGCONNECT_TIMEOUT=5 timeout 15 "$BK_PSQL" -X -w -qAt \
              -h localhost -p "$port" -U postgres -d "$db" -c "SELECT current_database()" 2>&1) && break
        [ "$SECONDS" -ge "$end" ] && break
        sleep 1
    done
    if [ "$out" = "$db" ]; then
        echo "  $i: localhost:$port -> $db ok"
    else
        echo "  $i: localhost:$port does not answer: $out"
        FAILED+=("$i query")
    fi
done

# ------------------------------------------------------------------ summary
pgpass_prefix=
[ "$PGPASS_FILE" = "$BK_INVOKER_HOME/.pgpass" ] || pgpass_prefix="PGPASSFILE=$PGPASS_FILE "
pcppass_prefix=
[ "$PCPPASS_FILE" = "$BK_INVOKER_HOME/.pcppass" ] || pcppass_prefix="PCPPASSFILE=$PCPPASS_FILE "
pcp_cmd=pcp_node_info
if [ -n "$BK_TOOLS" ] && [ "$(command -v pcp_node_info 2>/dev/null)" != "$BK_TOOLS/pcp_node_info" ]; then
    pcp_cmd=$BK_TOOLS/pcp_node_info
fi
echo
if [ "${#FAILED[@]}" -eq 0 ] && [ "$STARTED_ANY" = 0 ]; then
    echo "The booking deployment was already up: everything was running, nothing changed (data in $DATA_DIR)."
elif [ "${#FAILED[@]}" -eq 0 ]; then
    echo "The booking deployment is up (data in $DATA_DIR)."
else
    echo "The booking deployment is NOT fully up; failed: ${FAILED[*]}"
fi
echo
printf '  %-8s %-16s %-16s %-18s %-18s %s\n' instance pgpoold pcpd primary standby database
for i in "${BK_INSTANCES[@]}"; do
    printf '  %-8s %-16s %-16s %-18s %-18s %s\n' "$i" "localhost:$(bk_get "$i" port)" \
        "$([ -n "$BK_PCPD" ] && echo "localhost:$(bk_get "$i" pcp_port)" || echo "(not built)")" \
        "$BACKEND_HOST:$(bk_get "$i" primary_port)" "$BACKEND_HOST:$(bk_get "$i" standby_port)" "$(bk_get "$i" database)"
done
echo
echo "Connect (passwords are in $PGPASS_FILE, nothing to type):"
for i in "${BK_INSTANCES[@]}"; do
    echo "  ${pgpass_prefix}psql -h localhost -p $(bk_get "$i" port) -U postgres -d $(bk_get "$i" database)"
done
echo "  (the application user: -U $BK_APP_USER; all passwords: $ENV_FILE)"
if [ -n "$BK_PCPD" ] && [ -n "$BK_TOOLS" ]; then
    echo "PCP (password in $PCPPASS_FILE):"
    echo "  ${pcppass_prefix}$pcp_cmd -h localhost -p $(bk_get auth pcp_port) -U $BK_PCP_USER -w"
fi
echo "SQL:     SHOW pool_nodes;   SHOW pool_processes;   SHOW pool_version;"
env_prefix=
[ "$ENV_FILE" = "$ROOT/.env" ] || env_prefix="ENV_FILE=$ENV_FILE "
echo "Health:  ${env_prefix}$ROOT/scripts/check-health.sh        Stop: ${env_prefix}$ROOT/scripts/stop-pgpool.sh"
echo "Logs:    $DATA_DIR/log/<instance>/{pgpoold,pcpd,primary,standby}.log   (rotation: $BK_ETC/logrotate.conf)"
[ "${#FAILED[@]}" -eq 0 ]
