#!/usr/bin/env bash
# bench/booking/run.sh - the booking workload (booking.c) through three
# pgpoold instances: auth, event and ticket.
#
#   bench/booking/run.sh              self-contained: starts its own cluster
#                                     and three pgpoold instances, then stops them
#   TARGET=deployment bench/booking/run.sh
#                                     against a running deployment
#                                     (scripts/start-pgpool.sh: 5432/5433/5434)
#
# Self-contained setup (the default).  One PostgreSQL primary + streaming
# standby (ports PG_PORT, PG_PORT+1) holds the three databases
# booking_system_auth, _event and _ticket; three pgpoold instances
# (PGPOOLD_PORT, +1, +2), one per service, each with both nodes as backends,
# load balancing (weights 1:1) and causal_reads.  The real deployment has a
# primary + standby per service; three clusters are too heavy for a 2-core
# machine, and a shared cluster still exercises every routing decision the
# deployment makes (reads to the standby, writes and FOR UPDATE to the
# primary, read-your-writes).  The tables are the bench's own (bk_*),
# created by `booking --setup` through the proxies.
#
# Environment (defaults in brackets):
#   DURATION [20]  THREADS ["4,6,4"]  (connections for auth, event, ticket)
#   USERS [10000] EVENTS [200] SEATS [1000] HOT [5]  (hot events: most
#                  reservations compete for their seats)
#   CAUSAL_READS [on]  SR_CHECK_PERIOD [5]  DELAY_THRESHOLD [16777216]
#   POOL_MODE [session]  PGPOOLD_WORKERS [1]  MAX_POOL [16]
#   PGPOOLD [<tree>/pgpoold/pgpoold]   PG_PORT [25555]  PGPOOLD_PORT [25560]
#   BK_DIR [/tmp/pgpoold-booking]      KEEP_SERVERS [0]
#   TARGET=deployment: AUTH_PORT [5432] EVENT_PORT [5433] TICKET_PORT [5434]
#                  PGHOST [localhost] BK_USER [postgres]; passwords from
#                  ~/.pgpass or PGPASSWORD.  The bk_* tables are created in
#                  the booking_system_* databases (dropped and created again).
# Exit status: booking's (0 ok; 1 double bookings or errors; 3 stale reads).
set -uo pipefail

PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
# shellcheck source=../../scripts/lib/pgcluster.sh
. "$ROOT/scripts/lib/pgcluster.sh"
# shellcheck source=../lib.sh
. "$ROOT/bench/lib.sh"
die() { echo "$PROG: error: $*" >&2; exit 2; }
info() { echo "$PROG: $*" >&2; }
case "${1:-}" in -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

TARGET=${TARGET:-own}
DURATION=${DURATION:-20}
THREADS=${THREADS:-4,6,4}
USERS=${USERS:-10000} EVENTS=${EVENTS:-200} SEATS=${SEATS:-1000} HOT=${HOT:-5}
CAUSAL_READS=${CAUSAL_READS:-on}
SR_CHECK_PERIOD=${SR_CHECK_PERIOD:-5}
DELAY_THRESHOLD=${DELAY_THRESHOLD:-16777216}
POOL_MODE=${POOL_MODE:-session}
PGPOOLD_WORKERS=${PGPOOLD_WORKERS:-1}
MAX_POOL=${MAX_POOL:-16}
PGPOOLD=${PGPOOLD:-$ROOT/pgpoold/pgpoold}
PG_PORT=${PG_PORT:-25555}
PGPOOLD_PORT=${PGPOOLD_PORT:-25560}
BK_DIR=${BK_DIR:-/tmp/pgpoold-booking}
PW=bench
SERVICES=(auth event ticket)

pgc_find_bin || die "PostgreSQL binaries not found"
PSQL=$PGBIN/psql
mkdir -p "$BK_DIR" && chmod 755 "$BK_DIR" || die "cannot create $BK_DIR"

# ------------------------------------------------------------------ build
BOOKING=$BK_DIR/booking
if [ ! -x "$BOOKING" ] || [ "$SCRIPT_DIR/booking.c" -nt "$BOOKING" ]; then
    inc=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
    ${CC:-cc} -O2 -Wall -pthread -o "$BOOKING" "$SCRIPT_DIR/booking.c" -I"$inc" -lpq ||
        die "cannot build booking.c (needs libpq-dev)"
fi

STARTED_PG=0 PX_PIDS=()
cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${PX_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || continue
        kill -INT "$p" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    if [ "$STARTED_PG" = 1 ] && [ "${KEEP_SERVERS:-0}" != 1 ]; then
        info "stopping the cluster"
        pgc_stop "$BK_DIR/standby"; pgc_stop "$BK_DIR/primary"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$TARGET" = deployment ]; then
    h=${PGHOST:-localhost} u=${BK_USER:-postgres}
    CI_AUTH="host=$h port=${AUTH_PORT:-5432} dbname=booking_system_auth user=$u"
    CI_EVENT="host=$h port=${EVENT_PORT:-5433} dbname=booking_system_event user=$u"
    CI_TICKET="host=$h port=${TICKET_PORT:-5434} dbname=booking_system_ticket user=$u"
    SETUP="the deployment (scripts/start-pgpool.sh) on $h:${AUTH_PORT:-5432}/${EVENT_PORT:-5433}/${TICKET_PORT:-5434}"
else
    [ -x "$PGPOOLD" ] || die "no pgpoold binary at $PGPOOLD (build it or set PGPOOLD)"
    [ "$TARGET" = own ] || die "TARGET must be own or deployment"
    # ---------------------------------------------------------- cluster
    sock=$BK_DIR/run
    bk_databases() {   # SETUP of pgc_trust_pair: role and databases
        STARTED_PG=$PGC_STARTED PG_PORT=$PGC_PRIMARY_PORT
        adm() { pgc_admin "$sock" "$PG_PORT" "$1"; }
        [ "$(adm "SELECT 1 FROM pg_roles WHERE rolname = 'booking'")" = 1 ] ||
            adm "CREATE ROLE booking LOGIN PASSWORD '$PW'" >/dev/null || die "CREATE ROLE failed"
        for s in "${SERVICES[@]}"; do
            [ "$(adm "SELECT 1 FROM pg_database WHERE datname = 'booking_system_$s'")" = 1 ] ||
                adm "CREATE DATABASE booking_system_$s OWNER booking" >/dev/null || die "CREATE DATABASE failed"
        done
    }
    conf="max_connections = 200
shared_buffers = 128MB
hot_standby_feedback = on
log_min_messages = warning"
    pgc_trust_pair "$BK_DIR" "$PG_PORT" "$PW" "$conf" bk_ bk_databases
    rc=$?
    STARTED_PG=$PGC_STARTED
    [ $rc = 0 ] || die "no primary + standby in $BK_DIR"
    PG_PORT=$PGC_PRIMARY_PORT RP_PORT=$PGC_STANDBY_PORT

    # ---------------------------------------------------------- pgpoold x3
    i=0
    for s in "${SERVICES[@]}"; do
        port=$((PGPOOLD_PORT + i)); d=$BK_DIR/px-$s; i=$((i + 1))
        mkdir -p "$d"
        bench_px_files "$d" "$PW" booking postgres
        pgc_can_bind "$port" || die "port $port (pgpoold $s) is taken"
        { echo "# written by bench/booking/run.sh: the $s service"; bench_px_conf "$d" "$port"; cat <<EOF
workers = $PGPOOLD_WORKERS;
max_clients = 500;
pool_mode = "$POOL_MODE";
max_pool = $MAX_POOL;
connection_life_time = 0;
reset_query_list = "ABORT; DISCARD ALL";
load_balance_mode = true;
disable_load_balance_on_write = "transaction";
causal_reads = $([ "$CAUSAL_READS" = on ] && echo true || echo false);
sr_check_period = $SR_CHECK_PERIOD;
sr_check_user = "postgres";
sr_check_database = "postgres";
delay_threshold = $DELAY_THRESHOLD;
health_check_period = 5;
health_check_user = "postgres";
backends = (
  { hostname = "127.0.0.1"; port = $PG_PORT; weight = 1.0; application_name = "${s}_node0"; },
  { hostname = "127.0.0.1"; port = $RP_PORT; weight = 1.0; application_name = "${s}_node1"; }
);
EOF
        } > "$d/pgpool-$s.conf"
        "$PGPOOLD" -t -f "$d/pgpool-$s.conf" > "$d/check.log" 2>&1 || { cat "$d/check.log" >&2; die "pgpoold -t rejected $d/pgpool-$s.conf"; }
        "$PGPOOLD" -n -D -f "$d/pgpool-$s.conf" > "$d/pgpoold.log" 2>&1 < /dev/null &
        PX_PIDS+=($!)
        ok=0
        for _ in $(seq 1 100); do
            kill -0 "${PX_PIDS[-1]}" 2>/dev/null || { tail -n 20 "$d/pgpoold.log" >&2; die "pgpoold $s exited"; }
            PGCONNECT_TIMEOUT=5 "$PSQL" -X -qAt -h 127.0.0.1 -p "$port" -U booking -d "booking_system_$s" -c "SELECT 1" >/dev/null 2>&1 && { ok=1; break; }
            sleep 0.2
        done
        [ $ok = 1 ] || die "pgpoold $s does not answer on $port"
        info "pgpoold $s pid ${PX_PIDS[-1]} on 127.0.0.1:$port"
    done
    ci() { echo "host=127.0.0.1 port=$1 dbname=booking_system_$2 user=booking"; }
    CI_AUTH=$(ci "$PGPOOLD_PORT" auth)
    CI_EVENT=$(ci $((PGPOOLD_PORT + 1)) event)
    CI_TICKET=$(ci $((PGPOOLD_PORT + 2)) ticket)
    SETUP="self-contained: one primary ($PG_PORT) + streaming standby ($RP_PORT) holding the three databases, three pgpoold instances ($PGPOOLD_PORT-$((PGPOOLD_PORT + 2)), pool_mode $POOL_MODE, workers $PGPOOLD_WORKERS, causal_reads $CAUSAL_READS, sr_check_period $SR_CHECK_PERIOD)"
fi
export PGCONNECT_TIMEOUT=10 PGSSLMODE=${PGSSLMODE:-disable}

echo "# booking bench $(date -Is) on $(hostname): $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $SETUP"
"$BOOKING" --auth "$CI_AUTH" --event "$CI_EVENT" --ticket "$CI_TICKET" --setup-only \
    --users "$USERS" --events "$EVENTS" --seats "$SEATS" --hot "$HOT" || die "setup failed"
if [ "$TARGET" = own ]; then
    # the standby has the new tables before the clock starts
    lsn=$(pgc_admin "$sock" "$PG_PORT" "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 300); do
        [ "$(pgc_admin "$sock" "$RP_PORT" "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$lsn') >= 0")" = t ] && break
        sleep 0.2
    done
fi
rc=0
"$BOOKING" --auth "$CI_AUTH" --event "$CI_EVENT" --ticket "$CI_TICKET" --duration "$DURATION" --threads "$THREADS" \
    --users "$USERS" --events "$EVENTS" --seats "$SEATS" --hot "$HOT" || rc=$?
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
