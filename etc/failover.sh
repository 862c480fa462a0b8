#!/bin/sh
# failover.sh - pgpoold's failover_command for the booking deployment.
#
#   failover_command = "/etc/pgpoold/failover.sh %d %h %p %D %m %H %M %P %r %R %N %S"
#
# pgpoold runs it (with /bin/sh, as the user pgpoold runs as) after it has
# detached a node.  When the detached node was the primary, this promotes
# the new main node (%m) - the standby pgpoold chose - so writes have
# somewhere to go; pgpoold then finds the new primary by itself.  When a
# standby was detached there is nothing to do.
#
# Promotion is "SELECT pg_promote()" over a normal connection (works for a
# local or a remote standby); if that fails and the standby's data folder is
# here, "pg_ctl promote" is tried.  Connection settings, from the
# environment or this folder:
#   FAILOVER_USER   superuser to connect as (default postgres)
#   PGPASSFILE      default: pgpass beside this script, when it exists
#                   (host:port:*:postgres:password lines for every backend)
#   PGBIN           folder of pg_ctl (default: PostgreSQL 15's)
# Exit status 0 when there was nothing to do or the promotion worked.

failed_id=$1 failed_host=$2 failed_port=$3 failed_data=$4
new_id=$5 new_host=$6 old_main=$7 old_primary=$8 new_port=$9
new_data=${10:-} old_primary_host=${11:-} old_primary_port=${12:-}

log() { echo "failover.sh: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PGPASSFILE:-}" ] && [ -f "$here/pgpass" ]; then
    PGPASSFILE=$here/pgpass
    export PGPASSFILE
fi
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PSQL=psql
[ -x "$PGBIN/psql" ] && PSQL=$PGBIN/psql
user=${FAILOVER_USER:-postgres}

log "node $failed_id ($failed_host:$failed_port, ${failed_data:-no data folder}) detached; old primary: node $old_primary" \
    "($old_primary_host:$old_primary_port), old main $old_main, new main: node $new_id ($new_host:$new_port)"

if [ "$failed_id" != "$old_primary" ]; then
    log "a standby failed: nothing to promote"
    exit 0
fi
if [ -z "$new_id" ] || [ "$new_id" -lt 0 ] 2>/dev/null; then
    log "no node left to promote; the cluster has no primary until one is attached"
    exit 0
fi

in_recovery=$(PGCONNECT_TIMEOUT=10 "$PSQL" -X -w -qAt -h "$new_host" -p "$new_port" -U "$user" \
    -d postgres -c "SELECT pg_is_in_recovery()" 2>&1)
if [ "$in_recovery" = f ]; then
    log "node $new_id is already a primary"
    exit 0
fi

out=$(PGCONNECT_TIMEOUT=10 "$PSQL" -X -w -qAt -h "$new_host" -p "$new_port" -U "$user" \
    -d postgres -c "SELECT pg_promote(true, 60)" 2>&1)
if [ "$out" = t ]; then
    log "promoted node $new_id ($new_host:$new_port)"
    exit 0
fi
log "pg_promote() on $new_host:$new_port failed: $out"

if [ -n "$new_data" ] && [ -f "$new_data/PG_VERSION" ] && [ -x "$PGBIN/pg_ctl" ]; then
    if "$PGBIN/pg_ctl" -D "$new_data" -w -t 60 promote >&2; then
        log "promoted node $new_id with pg_ctl promote -D $new_data"
        exit 0
    fi
fi
log "could not promote node $new_id: promote it by hand (pg_ctl promote, or SELECT pg_promote())"
exit 1
