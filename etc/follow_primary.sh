#!/bin/sh
# follow_primary.sh - pgpoold's follow_primary_command for the booking
# deployment.
#
#   follow_primary_command = "/etc/pgpoold/follow_primary.sh %d %h %p %D %m %H %M %P %r %R PCP_PORT"
#
# After a failover pgpoold runs it once for every other standby (node %d),
# which it keeps detached until this script attaches it again.  It points
# the standby at the new primary (%H:%r): primary_conninfo with the new host
# and port (ALTER SYSTEM + reload, PostgreSQL 13+), makes sure the
# replication slot exists on the new primary, waits until the standby
# streams, then attaches it with pcp_attach_node through pcpd on PCP_PORT.
# A standby that cannot follow (its history diverged) stays detached: rebuild
# it (pg_rewind, or a new pg_basebackup) and attach it by hand.
#
# Environment (or files in this folder):
#   FAILOVER_USER  superuser to connect as (default postgres)
#   PGPASSFILE     default: pgpass beside this script, when it exists
#   PCP_USER       PCP user (default pgpool)
#   PCPPASSFILE    default: pcppass beside this script, when it exists
#   PGBIN          PostgreSQL binaries (default: PostgreSQL 15's)

node=$1 host=$2 port=$3 data=$4 new_id=$5 new_host=$6 old_main=$7 old_primary=$8 new_port=$9
new_data=${10:-} pcp_port=${11:-9898}

log() { echo "follow_primary.sh: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PGPASSFILE:-}" ] && [ -f "$here/pgpass" ]; then
    PGPASSFILE=$here/pgpass; export PGPASSFILE
fi
if [ -z "${PCPPASSFILE:-}" ] && [ -f "$here/pcppass" ]; then
    PCPPASSFILE=$here/pcppass; export PCPPASSFILE
fi
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PSQL=psql
[ -x "$PGBIN/psql" ] && PSQL=$PGBIN/psql
user=${FAILOVER_USER:-postgres}

sql() {   # HOST PORT SQL
    PGCONNECT_TIMEOUT=10 "$PSQL" -X -w -qAt -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U "$user" -d postgres -c "$3"
}

if [ "$node" = "$new_id" ]; then
    log "node $node is the new primary: nothing to do"
    exit 0
fi
log "node $node ($host:$port) to follow the new primary node $new_id ($new_host:$new_port);" \
    "old primary was node $old_primary, old main $old_main, data ${data:-?} / ${new_data:-?}"

rec=$(sql "$host" "$port" "SELECT pg_is_in_recovery()" 2>&1)
if [ "$rec" != t ]; then
    log "node $node is not a running standby ($rec); leaving it detached"
    exit 1
fi

conninfo=$(sql "$host" "$port" "SHOW primary_conninfo" 2>&1) || {
    log "could not read primary_conninfo of node $node: $conninfo"; exit 1; }
new_conninfo=$(printf '%s' "$conninfo" | sed -E \
    -e "s/(^| )host=[^ ]*/\\1host=$new_host/" -e "s/(^| )port=[^ ]*/\\1port=$new_port/")
case "$new_conninfo" in *host=*) ;; *) new_conninfo="$new_conninfo host=$new_host" ;; esac
case "$new_conninfo" in *port=*) ;; *) new_conninfo="$new_conninfo port=$new_port" ;; esac
slot=$(sql "$host" "$port" "SHOW primary_slot_name" 2>/dev/null)

if [ -n "$slot" ]; then
    sql "$new_host" "$new_port" "SELECT pg_create_physical_replication_slot('$slot')
        WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$slot')" >/dev/null 2>&1 \
        || log "could not create replication slot $slot on the new primary (continuing)"
fi
quoted=$(printf '%s' "$new_conninfo" | sed "s/'/''/g")
if ! out=$(sql "$host" "$port" "ALTER SYSTEM SET primary_conninfo = '$quoted'" 2>&1) ||
   ! out=$(sql "$host" "$port" "SELECT pg_reload_conf()" 2>&1); then
    log "could not repoint node $node: $out"
    exit 1
fi

i=0
state=
while [ "$i" -lt 30 ]; do
    state=$(sql "$host" "$port" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)
    [ "$state" = streaming ] && break
    i=$((i + 1))
    sleep 1
done
if [ "$state" != streaming ]; then
    log "node $node does not stream from the new primary after 30 s (history diverged?):" \
        "rebuild it (pg_rewind or pg_basebackup), then pcp_attach_node -n $node"
    exit 1
fi

PCP_ATTACH=pcp_attach_node
command -v pcp_attach_node >/dev/null 2>&1 || PCP_ATTACH=$here/pcp_attach_node
if out=$("$PCP_ATTACH" -w -h localhost -p "$pcp_port" -U "${PCP_USER:-pgpool}" -n "$node" 2>&1); then
    log "node $node follows node $new_id and is attached again"
    exit 0
fi
log "node $node streams from the new primary but pcp_attach_node failed: $out"
exit 1
