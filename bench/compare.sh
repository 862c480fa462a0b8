#!/usr/bin/env bash
# bench/compare.sh - pgbench straight to PostgreSQL, through PgBouncer,
# Pgpool-II and pgpoold, in one interleaved run: a table of TPS, p50/p99
# latency and ratios.  Also the idle-clients memory figure.
#
#   bench/compare.sh [run] [NAME=HOST:PORT ...]   the pgbench comparison
#   bench/compare.sh idle                         RSS per idle client (IDLE_CLIENTS)
#   bench/compare.sh --table RESULTS.tsv          print an earlier run's table again
#
# Servers.  When the shared harness is there (SHARED_BENCH, default
# <tree>/../shared/bench), its pgcluster.sh starts a primary + streaming
# standby (PRIMARY_PORT/REPLICA_PORT, 55435/55436) and its peers.sh starts
# PgBouncer (session 56432, transaction 56433) and Pgpool-II 4.3 (56434, load
# balancing 1:1 over both nodes) in front of them.  Without it (or PEERS=0)
# the script starts its own primary + standby (scripts/lib/pgcluster.sh,
# ports PG_PORT and PG_PORT+1) and compares direct with pgpoold only.
# PRIMARY=HOST:PORT [REPLICA=HOST:PORT] uses an existing cluster instead.
# Whatever this script started, it stops at the end (KEEP_SERVERS=1 keeps it).
#
# Three pgpoold instances run side by side (PGPOOLD_PORT, +1, +2):
#   pgpoold-session  pool_mode session, the primary only
#   pgpoold-tx       pool_mode transaction, the primary only
#   pgpoold-lb       pool_mode session, primary + standby, load balancing
#                    (weights 1:1, as the Pgpool-II peer); run only in the
#                    LB_SCENARIOS, to compare with Pgpool-II
#
# Scenarios (SCENARIOS, letters; clients in brackets):
#   S  -S -M simple    [CLIENTS 16]     E  -S -M extended [CLIENTS]
#   P  -S -M prepared  [CLIENTS]        T  TPC-B-like     [CLIENTS_T 8]
#   C  -S -C (a new connection per transaction)           [CLIENTS_C 8]
#   H  -S -M simple    [CLIENTS_H 200]  K  -S -M simple   [CLIENTS_K 2000]
# pgbench -T counts the time to connect the clients: with 200 clients
# straight to PostgreSQL (200 backend forks) that is a large part of a 10 s
# run on a loaded 2-core machine ("initial connection time" in the .raw).
# For every scenario and round each target runs once, the order rotating
# each round (and reversed in even rounds, so that a target does not always
# follow the same one), each after the machine is quiet (QUIET_BUSY).  A run is a WARMUP-second unmeasured pgbench, then
# `pgbench -n -T DURATION -j THREADS --log`; p50/p99 come from the
# per-transaction latencies of that log.  The table shows medians over
# rounds; ratios are medians of per-round ratios (runs close in time).
#
# Environment (defaults in brackets):
#   DURATION [10] WARMUP [2] ROUNDS [1] THREADS [2] SCALE [10]
#   QUIET_BUSY [25]  before each run, wait (up to SETTLE_TIMEOUT) until the
#                  CPUs are at most this % busy over a second: the previous
#                  run's aftermath (Pgpool-II forking through -C) must not
#                  land on the next target
#   SCENARIOS ["S E P T C H K"]  LB_SCENARIOS ["S E P"]
#   CLIENTS [16] CLIENTS_T [8] CLIENTS_C [8] CLIENTS_H [200] CLIENTS_K [2000]
#   SKIP ["pgbouncer-tx:P"]  TARGET:LETTERS not run (PgBouncer 1.18 in
#                  transaction mode cannot run -M prepared)
#   PEERS [auto]   1 = the shared harness must be used, 0 = never
#   SHARED_BENCH [<tree>/../shared/bench]
#   PRIMARY_PORT [55435] REPLICA_PORT [55436]    (shared cluster)
#   PG_PORT [25535]                              (own cluster: PG_PORT, PG_PORT+1)
#   PG_MAX_CONNECTIONS [700]  (not 300: pgpoold has no idle timeout for cached
#                  backends, so its two pools may hold 2 x 200 idle ones
#                  after the 200-client scenario while the next target runs)
#   PRIMARY, REPLICA  HOST:PORT of an existing cluster to use instead
#   BENCH_USER [bench] BENCH_DB [bench] BENCH_PASSWORD [bench]
#   BENCH_DIR [/tmp/pgpoold-bench]   servers, configs, logs
#   PGPOOLD [<tree>/pgpoold/pgpoold]  PGPOOLD_PORT [25540]  PGPOOLD_WORKERS [0 = one per CPU]
#   MAX_POOL [210]  CONN_LIFE [300]  (pgpoold max_pool / connection_life_time.
#                  pgpoold counts the lifetime from the backend's creation,
#                  Pgpool-II from when it went idle: a short one makes
#                  pgpoold reconnect in the middle of runs)
#   BIG_BOUNCER [1]  in scenario K, also a PgBouncer of this script's own
#                  (transaction mode, max_client_conn and open files raised)
#                  as target pgbouncer-tx-big: the peers' allow 1000 clients
#   SETTLE_TIMEOUT [60]  seconds to wait for free server slots / standby replay
#   IDLE_CLIENTS [10000]  idle mode: clients held (also through PgBouncer,
#                  IDLE_PGBOUNCER [1], a PgBouncer of its own in transaction mode)
#   KEEP_SERVERS [0]  RESULTS_DIR [<tree>/bench/results]
# Output: the table on stdout and RESULTS_DIR/compare-<stamp>.{txt,tsv,raw}
# (idle mode: idle-<stamp>.txt).  Exit status 1 if a measured run failed or
# timed out (runs of scenario K are expected to fail for some targets and
# do not count).
set -uo pipefail

PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
. "$ROOT/scripts/lib/pgcluster.sh"
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"

die() { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

MODE=run
case "${1:-}" in
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    run) shift ;;
    idle) MODE=idle; shift ;;
    --table) MODE=table; shift ;;
esac

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-1}
QUIET_BUSY=${QUIET_BUSY:-25}
THREADS=${THREADS:-2}
SCALE=${SCALE:-10}
SCENARIOS=${SCENARIOS:-S E P T C H K}
LB_SCENARIOS=${LB_SCENARIOS-S E P}
CLIENTS=${CLIENTS:-16}
CLIENTS_T=${CLIENTS_T:-8}
CLIENTS_C=${CLIENTS_C:-8}
CLIENTS_H=${CLIENTS_H:-200}
CLIENTS_K=${CLIENTS_K:-2000}
SKIP=${SKIP-pgbouncer-tx:P}
PEERS=${PEERS:-auto}
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
PRIMARY_PORT=${PRIMARY_PORT:-55435}
REPLICA_PORT=${REPLICA_PORT:-55436}
PG_PORT=${PG_PORT:-25535}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-700}
BENCH_USER=${BENCH_USER:-bench}
BENCH_DB=${BENCH_DB:-bench}
BENCH_PASSWORD=${BENCH_PASSWORD:-bench}
BENCH_DIR=${BENCH_DIR:-/tmp/pgpoold-bench}
PGPOOLD=${PGPOOLD:-$ROOT/pgpoold/pgpoold}
PGPOOLD_PORT=${PGPOOLD_PORT:-25540}
PGPOOLD_WORKERS=${PGPOOLD_WORKERS:-0}
MAX_POOL=${MAX_POOL:-210}
CONN_LIFE=${CONN_LIFE:-300}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-60}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
IDLE_PGBOUNCER=${IDLE_PGBOUNCER:-1}
BIG_BOUNCER=${BIG_BOUNCER:-1}
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
export PGPASSWORD=$BENCH_PASSWORD PGCONNECT_TIMEOUT=10 PGSSLMODE=disable

{ mkdir -p "$RESULTS_DIR" 2>/dev/null && [ -w "$RESULTS_DIR" ]; } || RESULTS_DIR=${TMPDIR:-/tmp}/pgpoold-bench-results
mkdir -p "$RESULTS_DIR" || die "cannot create $RESULTS_DIR"

# ------------------------------------------------------------------ table
# TSV: "# targets: NAME..." line, a header, then one row per run:
# scenario round target clients tps p50_ms p99_ms lat_avg_ms status note
table() {   # TSV
    awk -F'\t' '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
        return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    function ratio(s, y, base,   rk, rr, b, t, list) {
        list = ""
        for (rk in rounds) {
            split(rk, rr, SUBSEP); if (rr[1] != s) continue
            b = s SUBSEP rr[2] SUBSEP base; t = s SUBSEP rr[2] SUBSEP y
            if ((b in rt) && (t in rt) && rt[b] > 0) list = list " " (rt[t] / rt[b])
        }
        return list == "" ? "-" : sprintf("%.2f", median(list))
    }
    /^# targets:/ { nn = split(substr($0, 12), N, " "); next }
    /^#/ || $1 == "scenario" { next }
    {
        k = $1 SUBSEP $3; cl[$1] = $4; runs[k]++
        if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1 }
        if ($9 == "ok" && $5 != "") {
            nok[k]++; tps[k] = tps[k] " " $5; p50[k] = p50[k] " " $6; p99[k] = p99[k] " " $7
            rt[$1 SUBSEP $2 SUBSEP $3] = $5; rounds[$1 SUBSEP $2] = 1
        } else if ($9 != "") { bad[k] = $9; if ($10 != "") note[k] = $10 }
    }
    END {
        lab["S"] = "-S simple"; lab["E"] = "-S extended"; lab["P"] = "-S prepared"; lab["T"] = "tpcb-like"
        lab["C"] = "-S -C"; lab["H"] = "-S simple"; lab["K"] = "-S simple"
        for (y = 1; y <= nn; y++) has[N[y]] = 1
        hdr = sprintf("%-18s %-18s %10s %8s %8s %7s %7s", "scenario", "target", "tps", "p50_ms", "p99_ms", "p99/p50", "vs_dir")
        if ("pgbouncer-session" in has) hdr = hdr sprintf(" %7s", "vs_pgbs")
        if ("pgpool2" in has) hdr = hdr sprintf(" %7s", "vs_pgp2")
        print hdr "  note"
        for (x = 1; x <= ns; x++) {
            s = order[x]; first = 1
            for (y = 1; y <= nn; y++) {
                k = s SUBSEP N[y]
                if (!(k in runs)) continue
                label = first ? sprintf("%s c%s", lab[s] == "" ? s : lab[s], cl[s]) : ""; first = 0
                if (nok[k]) {
                    a = median(p50[k]); b = median(p99[k])
                    line = sprintf("%-18s %-18s %10.0f %8.3f %8.3f %7.1f %7s", label, N[y], median(tps[k]), a, b,
                                   a > 0 ? b / a : 0, ratio(s, N[y], "direct"))
                    if ("pgbouncer-session" in has) line = line sprintf(" %7s", ratio(s, N[y], "pgbouncer-session"))
                    if ("pgpool2" in has) line = line sprintf(" %7s", ratio(s, N[y], "pgpool2"))
                    n = (nok[k] < runs[k]) ? sprintf("  %d/%d rounds ok; %s: %s", nok[k], runs[k], bad[k], note[k]) : ""
                    print line n
                } else {
                    line = sprintf("%-18s %-18s %10s %8s %8s %7s %7s", label, N[y], bad[k] == "" ? "-" : bad[k], "-", "-", "-", "-")
                    if ("pgbouncer-session" in has) line = line sprintf(" %7s", "-")
                    if ("pgpool2" in has) line = line sprintf(" %7s", "-")
                    print line (note[k] != "" ? "  " note[k] : "")
                }
            }
        }
    }' "$1"
}

if [ "$MODE" = table ]; then
    [ $# -eq 1 ] && [ -f "$1" ] || die "usage: $PROG --table RESULTS.tsv"
    table "$1"
    exit 0
fi

for v in DURATION THREADS ROUNDS SCALE CLIENTS CLIENTS_T CLIENTS_C CLIENTS_H CLIENTS_K MAX_POOL SETTLE_TIMEOUT IDLE_CLIENTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be an integer >= 0"
[[ $QUIET_BUSY =~ ^[0-9]+$ ]] || die "QUIET_BUSY must be an integer >= 0"
[[ $CONN_LIFE =~ ^[0-9]+$ ]] || die "CONN_LIFE must be an integer >= 0"
[ -x "$PGPOOLD" ] || die "no pgpoold binary at $PGPOOLD (build it, or set PGPOOLD=/path/to/pgpoold)"
pgc_find_bin || die "PostgreSQL binaries not found (apt-get install postgresql-15)"
PSQL=$PGBIN/psql; PGBENCH=$PGBIN/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench) || die "pgbench not found"

# 2,000 pgbench clients, 10,000 idle clients: every one is a socket in
# pgbench/python and in the proxy (and a backend socket for some).  Children
# (pgpoold, peers started from here, pgbench) inherit the limit.
want_nofile=$(( (IDLE_CLIENTS > CLIENTS_K ? IDLE_CLIENTS : CLIENTS_K) * 2 + 4096 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_nofile" ]; then
    ulimit -Hn "$want_nofile" 2>/dev/null || true
    ulimit -Sn "$want_nofile" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
fi
NOFILE=$(ulimit -n)

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
STAMP=$(date +%Y%m%d-%H%M%S)

# ------------------------------------------------------------------ cleanup
STARTED_OWN=0 STARTED_CLUSTER=0 STARTED_PEERS=0
PX_PIDS=() BOUNCER_PID= IDLE_PID=
cleanup() {
    trap - EXIT INT TERM
    local p
    [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null
    for p in "${PX_PIDS[@]}" ${BOUNCER_PID:+"$BOUNCER_PID"}; do
        kill -0 "$p" 2>/dev/null || continue
        kill -INT "$p" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    [ "${KEEP_SERVERS:-0}" = 1 ] && { info "KEEP_SERVERS=1: servers left running"; return; }
    if [ "$STARTED_PEERS" = 1 ]; then
        info "stopping the peers"
        PGCLUSTER_DIR=$CL_DIR "$SHARED_BENCH/peers.sh" stop all "$PEER_DIR" >/dev/null 2>&1
    fi
    if [ "$STARTED_CLUSTER" = 1 ]; then
        info "stopping the shared-harness cluster"
        "$SHARED_BENCH/pgcluster.sh" stop "$CL_DIR" >/dev/null 2>&1
    fi
    if [ "$STARTED_OWN" = 1 ]; then
        info "stopping the cluster"
        pgc_stop "$OWN_DIR/standby"
        pgc_stop "$OWN_DIR/primary"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ cluster
PG_HOST=127.0.0.1 RP_HOST= RP_PORT= USE_PEERS=0
if [ "$PEERS" != 0 ] && [ -x "$SHARED_BENCH/pgcluster.sh" ] && [ -x "$SHARED_BENCH/peers.sh" ] && [ -z "${PRIMARY:-}" ]; then
    USE_PEERS=1
elif [ "$PEERS" = 1 ]; then
    die "PEERS=1 but no $SHARED_BENCH/{pgcluster,peers}.sh (or PRIMARY is set)"
fi

own_roles() {   # SETUP of pgc_trust_pair: the bench's role and database
    STARTED_OWN=$PGC_STARTED PG_PORT=$PGC_PRIMARY_PORT
    a() { pgc_admin "$OWN_DIR/run" "$PG_PORT" "$1"; }
    [ "$(a "SELECT 1 FROM pg_roles WHERE rolname = '$BENCH_USER'")" = 1 ] ||
        a "CREATE ROLE \"$BENCH_USER\" LOGIN PASSWORD '$BENCH_PASSWORD'" >/dev/null || die "CREATE ROLE failed"
    [ "$(a "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")" = 1 ] ||
        a "CREATE DATABASE \"$BENCH_DB\" OWNER \"$BENCH_USER\"" >/dev/null || die "CREATE DATABASE failed"
}

own_cluster() {   # primary + standby of our own, scripts/lib/pgcluster.sh
    OWN_DIR=$BENCH_DIR/own
    local rc conf="max_connections = $PG_MAX_CONNECTIONS
shared_buffers = 256MB
synchronous_commit = off
hot_standby_feedback = on
log_min_messages = warning"
    pgc_trust_pair "$OWN_DIR" "$PG_PORT" "$BENCH_PASSWORD" "$conf" "" own_roles
    rc=$?
    STARTED_OWN=$PGC_STARTED
    case $rc in
        0) PG_PORT=$PGC_PRIMARY_PORT RP_PORT=$PGC_STANDBY_PORT RP_HOST=127.0.0.1 ;;
        2) PG_PORT=$PGC_PRIMARY_PORT; info "no standby, no load balancing" ;;
        *) die "no cluster of our own in $OWN_DIR" ;;
    esac
}

if [ -n "${PRIMARY:-}" ]; then
    [[ $PRIMARY =~ ^([^:]+):([0-9]+)$ ]] || die "PRIMARY must be HOST:PORT"
    PG_HOST=${BASH_REMATCH[1]} PG_PORT=${BASH_REMATCH[2]}
    if [ -n "${REPLICA:-}" ]; then
        [[ $REPLICA =~ ^([^:]+):([0-9]+)$ ]] || die "REPLICA must be HOST:PORT"
        RP_HOST=${BASH_REMATCH[1]} RP_PORT=${BASH_REMATCH[2]}
    fi
    info "using the existing primary $PRIMARY${REPLICA:+ and standby $REPLICA}"
elif [ "$USE_PEERS" = 1 ]; then
    CL_DIR=$BENCH_DIR/shared-cluster PEER_DIR=$BENCH_DIR/peers
    export BENCH_USER BENCH_DB BENCH_PASSWORD PG_MAX_CONNECTIONS
    if ! "$SHARED_BENCH/pgcluster.sh" status "$CL_DIR" >/dev/null 2>&1; then
        info "starting the shared harness's primary+standby on $PRIMARY_PORT/$REPLICA_PORT"
        STARTED_CLUSTER=1
        "$SHARED_BENCH/pgcluster.sh" start "$CL_DIR" "$PRIMARY_PORT" "$REPLICA_PORT" > "$BENCH_DIR/pgcluster.log" 2>&1 ||
            { tail -n 20 "$BENCH_DIR/pgcluster.log" >&2; die "pgcluster.sh start failed"; }
    fi
    if [ "$MODE" = run ] && ! PGCLUSTER_DIR=$CL_DIR "$SHARED_BENCH/peers.sh" status all "$PEER_DIR" >/dev/null 2>&1; then
        info "starting PgBouncer (session, transaction) and Pgpool-II"
        STARTED_PEERS=1
        PGCLUSTER_DIR=$CL_DIR "$SHARED_BENCH/peers.sh" start all "$PEER_DIR" > "$BENCH_DIR/peers.log" 2>&1 ||
            { tail -n 20 "$BENCH_DIR/peers.log" >&2; die "peers.sh start failed"; }
    fi
    PG_PORT=$PRIMARY_PORT RP_HOST=127.0.0.1 RP_PORT=$REPLICA_PORT
else
    info "no shared harness: direct and pgpoold only, on a cluster of our own"
    own_cluster
fi

q() {   # HOST PORT SQL [USER]: one value
    timeout -k 5 120 "$PSQL" -X -qAt -h "$1" -p "$2" -U "${4:-$BENCH_USER}" -d "$BENCH_DB" -c "$3" 2>/dev/null
}
qp() { q "$PG_HOST" "$PG_PORT" "$1" "${2:-$BENCH_USER}"; }
qp "SELECT 1" >/dev/null || die "cannot connect to $PG_HOST:$PG_PORT as $BENCH_USER"

if [ "$MODE" = run ]; then
    have=$(qp "SELECT count(*) FROM pgbench_branches" || echo 0)
    if [ "$have" != "$SCALE" ]; then
        info "pgbench -i -s $SCALE"
        timeout -k 5 900 "$PGBENCH" -i -q -s "$SCALE" -h "$PG_HOST" -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
            > "$BENCH_DIR/pgbench-init.log" 2>&1 || die "pgbench -i failed (see $BENCH_DIR/pgbench-init.log)"
    fi
fi

# ------------------------------------------------------------------ pgpoold
maxk=$CLIENTS_K; [ "$MODE" = idle ] && maxk=$IDLE_CLIENTS
start_pgpoold() {   # NAME PORT MODE LB(0|1)
    local name=$1 port=$2 mode=$3 lb=$4 d=$BENCH_DIR/px-$1 pid backends
    mkdir -p "$d"
    bench_px_files "$d" "$BENCH_PASSWORD" "$BENCH_USER" postgres
    backends="  { hostname = \"$PG_HOST\"; port = $PG_PORT; weight = 1.0; application_name = \"node0\"; }"
    if [ "$lb" = 1 ]; then
        backends="$backends,
  { hostname = \"$RP_HOST\"; port = $RP_PORT; weight = 1.0; application_name = \"node1\"; }"
    fi
    pgc_can_bind "$port" || die "port $port (pgpoold $name) is taken"
    { echo "# written by bench/compare.sh"; bench_px_conf "$d" "$port"; cat <<EOF
workers = $PGPOOLD_WORKERS;
max_clients = $((maxk + 200));
max_pool = $MAX_POOL;
pool_mode = "$mode";
connection_life_time = $CONN_LIFE;
client_idle_limit = 0;
reset_query_list = "ABORT; DISCARD ALL";
log_connections = false;
load_balance_mode = $([ "$lb" = 1 ] && echo true || echo false);
sr_check_period = $([ "$lb" = 1 ] && echo 5 || echo 0);
sr_check_user = "postgres";
health_check_period = $([ "$lb" = 1 ] && echo 5 || echo 0);
health_check_user = "postgres";
backends = (
$backends
);
EOF
    } > "$d/pgpoold.conf"
    "$PGPOOLD" -t -f "$d/pgpoold.conf" > "$d/check.log" 2>&1 || { cat "$d/check.log" >&2; die "pgpoold -t rejected $d/pgpoold.conf"; }
    "$PGPOOLD" -n -D -f "$d/pgpoold.conf" > "$d/pgpoold.log" 2>&1 < /dev/null &
    pid=$!
    PX_PIDS+=("$pid")
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$d/pgpoold.log" >&2; die "pgpoold $name exited"; }
        q 127.0.0.1 "$port" "SELECT 1" >/dev/null && break
        sleep 0.2
    done
    q 127.0.0.1 "$port" "SELECT 1" >/dev/null || die "pgpoold $name does not answer on $port"
    info "pgpoold $name (pool_mode $mode$([ "$lb" = 1 ] && echo ", load balancing")) pid $pid on 127.0.0.1:$port"
    eval "PID_$(echo "$name" | tr -c 'a-z0-9\n' _)=$pid"
}

# A PgBouncer of our own in transaction mode (the peers' allow 1000 clients
# and run with 1024 open files): the idle-clients figure and scenario K.
start_bouncer() {   # PORT MAX_CLIENTS
    local bd=$BENCH_DIR/own-pgbouncer bport=$1
    mkdir -p "$bd"; [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$bd"
    pgc_can_bind "$bport" || die "port $bport (own PgBouncer) is taken"
    printf '"%s" "%s"\n' "$BENCH_USER" "$BENCH_PASSWORD" > "$bd/userlist.txt"
    cat > "$bd/pgbouncer.ini" <<EOF
[databases]
* = host=$PG_HOST port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $bd/userlist.txt
pool_mode = transaction
max_client_conn = $(($2 + 200))
default_pool_size = 20
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
logfile = $bd/pgbouncer.log
pidfile = $bd/pgbouncer.pid
log_connections = 0
log_disconnections = 0
EOF
    [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$bd"/*
    rm -f "$bd/pgbouncer.pid"
    # runuser's pam_limits resets the soft open-files limit (1024 here): raise it again
    pgc_as_pg sh -c "ulimit -n $NOFILE 2>/dev/null || ulimit -n \$(ulimit -Hn); exec pgbouncer -d '$bd/pgbouncer.ini'" \
        > "$bd/start.log" 2>&1 || { cat "$bd/start.log" >&2; die "pgbouncer did not start"; }
    for _ in $(seq 1 50); do [ -s "$bd/pgbouncer.pid" ] && break; sleep 0.1; done
    BOUNCER_PID=$(cat "$bd/pgbouncer.pid")
    for _ in $(seq 1 50); do q 127.0.0.1 "$bport" "SELECT 1" >/dev/null && break; sleep 0.2; done
    info "own pgbouncer (transaction, max_client_conn $(($2 + 200))) pid $BOUNCER_PID on 127.0.0.1:$bport, open files $(awk '/open files/ { print $4 }' "/proc/$BOUNCER_PID/limits")"
}

# ================================================================== idle mode
if [ "$MODE" = idle ]; then
    TXT=$RESULTS_DIR/idle-$STAMP.txt
    rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
    hold() {   # NAME PORT PID: open IDLE_CLIENTS idle clients, print the RSS figures
        local name=$1 port=$2 pid=$3 out=$BENCH_DIR/idle-$1.out before after rc n gone
        q 127.0.0.1 "$port" "SELECT 1" >/dev/null   # a backend connection in the cache already
        sleep 1
        before=$(rss "$pid")
        : > "$out"
        python3 "$SCRIPT_DIR/idle_clients.py" 127.0.0.1 "$port" "$BENCH_USER" "$BENCH_DB" "$IDLE_CLIENTS" \
            --password "$BENCH_PASSWORD" > "$out" 2>&1 &
        IDLE_PID=$!
        for _ in $(seq 1 1200); do
            grep -q '^holding' "$out" && break
            kill -0 "$IDLE_PID" 2>/dev/null || break
            sleep 0.5
        done
        sleep 2
        after=$(rss "$pid")
        n=$(sed -n 's/^holding \([0-9]*\).*/\1/p' "$out")
        kill "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null; IDLE_PID=
        sleep 2
        gone=$(rss "$pid")
        if [ -z "$n" ] || [ "$n" = 0 ]; then
            printf '%-18s no clients held: %s\n' "$name" "$(tail -n 3 "$out" | tr '\n' ' ')"
            return
        fi
        printf '%-18s %8s %10s %10s %10s %10s  %s\n' "$name" "$n" "$before" "$after" \
            "$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n }')" "$gone" \
            "$(sed -n 's/^holding [0-9]* \(.*\)/\1/p' "$out")"
    }
    {
        echo "# idle clients: $IDLE_CLIENTS requested; $(nproc) CPUs; ulimit -n $NOFILE; load average $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "# each client completes startup + authentication (trust) and then sends nothing"
        printf '%-18s %8s %10s %10s %10s %10s  %s\n' target clients rss0_KiB rss_KiB KiB/client rss_after "client-side note"
    } | tee "$TXT"
    start_pgpoold pgpoold-tx "$PGPOOLD_PORT" transaction 0
    hold pgpoold-tx "$PGPOOLD_PORT" "$PID_pgpoold_tx" | tee -a "$TXT"
    if [ "$IDLE_PGBOUNCER" = 1 ] && command -v pgbouncer >/dev/null; then
        start_bouncer $((PGPOOLD_PORT + 5)) "$IDLE_CLIENTS"
        hold pgbouncer-tx $((PGPOOLD_PORT + 5)) "$BOUNCER_PID" | tee -a "$TXT"
    fi
    echo "# $TXT"
    exit 0
fi

# ================================================================== run mode
NAMES=(direct) HOSTS=("$PG_HOST") PORTS=("$PG_PORT") USES_STANDBY=(0)
add_target() { NAMES+=("$1"); HOSTS+=("$2"); PORTS+=("$3"); USES_STANDBY+=("${4:-0}"); }
if [ "$USE_PEERS" = 1 ]; then
    add_target pgbouncer-session 127.0.0.1 "${PGBOUNCER_SESSION_PORT:-56432}"
    add_target pgbouncer-tx 127.0.0.1 "${PGBOUNCER_TX_PORT:-56433}"
    add_target pgpool2 127.0.0.1 "${PGPOOL_PORT:-56434}" 1
fi
start_pgpoold pgpoold-session "$PGPOOLD_PORT" session 0
add_target pgpoold-session 127.0.0.1 "$PGPOOLD_PORT"
start_pgpoold pgpoold-tx $((PGPOOLD_PORT + 1)) transaction 0
add_target pgpoold-tx 127.0.0.1 $((PGPOOLD_PORT + 1))
if [ "$BIG_BOUNCER" = 1 ] && [[ " $SCENARIOS " == *" K "* ]] && command -v pgbouncer >/dev/null; then
    start_bouncer $((PGPOOLD_PORT + 5)) "$CLIENTS_K"
    add_target pgbouncer-tx-big 127.0.0.1 $((PGPOOLD_PORT + 5))
fi
if [ -n "$RP_PORT" ] && [ -n "$LB_SCENARIOS" ]; then
    start_pgpoold pgpoold-lb $((PGPOOLD_PORT + 2)) session 1
    add_target pgpoold-lb 127.0.0.1 $((PGPOOLD_PORT + 2)) 1
fi
for t in "$@"; do
    [[ $t =~ ^([A-Za-z0-9_.-]+)=([^:]+):([0-9]+)$ ]] || die "bad target '$t' (want NAME=HOST:PORT)"
    add_target "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
done
NT=${#NAMES[@]}

TSV=$RESULTS_DIR/compare-$STAMP.tsv
RAW=$RESULTS_DIR/compare-$STAMP.raw
TXT=$RESULTS_DIR/compare-$STAMP.txt
LATDIR=$BENCH_DIR/latlog
{ echo "# targets: ${NAMES[*]}"
  printf 'scenario\tround\ttarget\tclients\ttps\tp50_ms\tp99_ms\tlat_avg_ms\tstatus\tnote\n'; } > "$TSV"
: > "$RAW"

scen_clients() {
    case $1 in S|E|P) echo "$CLIENTS" ;; T) echo "$CLIENTS_T" ;; C) echo "$CLIENTS_C" ;; H) echo "$CLIENTS_H" ;; K) echo "$CLIENTS_K" ;; esac
}
scen_opts() {
    case $1 in
        S|H|K) echo "-S -M simple" ;; E) echo "-S -M extended" ;; P) echo "-S -M prepared" ;;
        T) echo "-M simple" ;; C) echo "-S -C -M simple" ;;
    esac
}
for s in $SCENARIOS; do [[ $s =~ ^[SEPTCHK]$ ]] || die "unknown scenario '$s' (S E P T C H K)"; done

runs_here() {   # TARGET_INDEX SCENARIO: does this target run this scenario?
    local name=${NAMES[$1]} p
    if [ "$name" = pgpoold-lb ]; then [[ " $LB_SCENARIOS " == *" $2 "* ]] || return 1; fi
    if [ "$name" = pgbouncer-tx-big ]; then [ "$2" = K ] || return 1; fi
    return 0
}
skipped() {
    local p
    for p in $SKIP; do [ "${p%%:*}" = "$1" ] && [[ ${p#*:} == *"$2"* ]] && return 0; done
    return 1
}

MAXC=$(qp "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int" postgres)
free_slots() {   # HOST PORT
    q "$1" "$2" "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename <> 'postgres'" postgres
}
wait_capacity() {   # CLIENTS USES_STANDBY: earlier runs' pools may still hold idle server connections
    local need=$(( $1 + 5 )) f deadline=$((SECONDS + SETTLE_TIMEOUT)) srv servers=("$PG_HOST:$PG_PORT")
    [ "$need" -gt $((MAXC - 10)) ] && need=$((MAXC - 10))
    [ "$2" = 1 ] && [ -n "$RP_PORT" ] && servers+=("$RP_HOST:$RP_PORT")
    for srv in "${servers[@]}"; do
        while :; do
            f=$(free_slots "${srv%:*}" "${srv##*:}"); f=${f:-0}
            [ "$f" -ge "$need" ] && break
            [ $SECONDS -ge $deadline ] && { info "only $f free server slots on $srv (want $need); running anyway"; break; }
            sleep 1
        done
    done
}
# CPU busy % (all CPUs) over the next second, from /proc/stat.
cpu_busy_pct() {
    local a b i idle=0 total=0
    read -r -a a < /proc/stat; sleep 1; read -r -a b < /proc/stat
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
    [ "$total" -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
wait_quiet() {
    local deadline=$((SECONDS + SETTLE_TIMEOUT)) busy
    while :; do
        busy=$(cpu_busy_pct)
        [ "$busy" -le "$QUIET_BUSY" ] && return 0
        [ $SECONDS -ge $deadline ] && { info "CPUs still ${busy}% busy after ${SETTLE_TIMEOUT}s; running anyway"; return 0; }
    done
}
wait_replica() {
    [ -n "$RP_PORT" ] || return 0
    local lsn ok deadline=$((SECONDS + SETTLE_TIMEOUT))
    lsn=$(qp "SELECT pg_current_wal_lsn()" postgres) || return 0
    while :; do
        ok=$(q "$RP_HOST" "$RP_PORT" "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$lsn') >= 0" postgres)
        [ "$ok" = t ] && return 0
        [ $SECONDS -ge $deadline ] && { info "standby not caught up after ${SETTLE_TIMEOUT}s"; return 0; }
        sleep 0.3
    done
}

# p50 p99 (ms) of the latencies (µs, 3rd field) in pgbench's per-transaction logs
percentiles() {   # FILE...
    awk '$3 ~ /^[0-9]+$/ { print $3 }' "$@" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- -"; exit }
            i = int(NR * 0.50); if (i < NR * 0.50) i++; if (i < 1) i = 1
            j = int(NR * 0.99); if (j < NR * 0.99) j++; if (j < 1) j = 1
            printf "%.3f %.3f\n", v[i] / 1000, v[j] / 1000
        }'
}

failures=0
run_one() {   # SCENARIO ROUND TARGET_INDEX
    local s=$1 r=$2 i=$3 name=${NAMES[$3]} c opts out rc tps lat pct p50 p99 status note grace=60
    c=$(scen_clients "$s"); opts=$(scen_opts "$s")
    if skipped "$name" "$s"; then
        printf '%s\t%s\t%s\t%s\t\t\t\t\tn/a\t\n' "$s" "$r" "$name" "$c" >> "$TSV"; return
    fi
    [ "$c" -ge 1000 ] && grace=180
    wait_capacity "$c" "${USES_STANDBY[$i]}"
    if [ "$s" = T ]; then
        qp "VACUUM pgbench_branches" >/dev/null; qp "VACUUM pgbench_tellers" >/dev/null
        qp "TRUNCATE pgbench_history" >/dev/null
    fi
    [ "${USES_STANDBY[$i]}" = 1 ] && wait_replica
    wait_quiet
    if [ "$WARMUP" -gt 0 ]; then
        # shellcheck disable=SC2086
        timeout -k 10 $((WARMUP + grace)) "$PGBENCH" -n -T "$WARMUP" -j "$THREADS" -c "$c" $opts \
            -h "${HOSTS[$i]}" -p "${PORTS[$i]}" -U "$BENCH_USER" "$BENCH_DB" > /dev/null 2>&1
    fi
    rm -rf "$LATDIR"; mkdir -p "$LATDIR"
    rc=0
    # shellcheck disable=SC2086
    out=$(cd "$LATDIR" && timeout -k 10 $((DURATION + grace)) "$PGBENCH" -n -T "$DURATION" -j "$THREADS" -c "$c" $opts \
            -l --log-prefix=lat -h "${HOSTS[$i]}" -p "${PORTS[$i]}" -U "$BENCH_USER" "$BENCH_DB" 2>&1) || rc=$?
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out" | head -n1)
    pct=$(percentiles "$LATDIR"/lat.* 2>/dev/null); p50=${pct% *} p99=${pct#* }
    [ "$p50" = - ] && p50= p99=
    rm -rf "$LATDIR"
    note=$(grep -m1 -iE 'error|fatal|abort|sorry|timeout expired' <<<"$out" | cut -c1-160 | tr '\t' ' ')
    [ -n "$note" ] || note="$(sed -n 's/^number of transactions actually processed: /processed /p; s/^initial connection time = /connecting took /p' <<<"$out" | paste -sd ' ')"
    status=ok
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status=timeout
    elif [ $rc -ne 0 ] || [ -z "$tps" ] || grep -q 'Run was aborted' <<<"$out"; then status=fail
    fi
    if [ "$status" = ok ]; then note=
    elif [ "$s" != K ]; then failures=$((failures + 1)); fi
    {
        echo "===== $s round $r $name (${HOSTS[$i]}:${PORTS[$i]}) $(date -Is) load $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "\$ pgbench -n -T $DURATION -j $THREADS -c $c $opts -l"
        echo "$out"; echo "(exit $rc; p50 ${p50:--} ms, p99 ${p99:--} ms)"
    } >> "$RAW"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$name" "$c" "${tps:-}" "${p50:-}" "${p99:-}" "${lat:-}" "$status" "$note" >> "$TSV"
    info "$(printf '%s c%-5s round %s %-18s tps=%-10s p50=%-7s p99=%-8s %s %s' "$s" "$c" "$r" "$name" "${tps:--}" "${p50:--}" "${p99:--}" "$status" "$note")"
}

HEAD="# compare.sh $STAMP on $(hostname): $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
# $("$PGBENCH" --version); server $(qp 'SHOW server_version'), max_connections $(qp 'SHOW max_connections'); ulimit -n $NOFILE
# pgbench -n -T $DURATION -j $THREADS --log (after ${WARMUP}s warm-up), scale $SCALE, $ROUNDS round(s), medians
# pgpoold $PGPOOLD: workers=$PGPOOLD_WORKERS max_pool=$MAX_POOL connection_life_time=$CONN_LIFE
# targets: $(for i in $(seq 0 $((NT - 1))); do printf '%s=%s:%s ' "${NAMES[$i]}" "${HOSTS[$i]}" "${PORTS[$i]}"; done)
# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$HEAD"
for s in $SCENARIOS; do
    idx=()
    for i in $(seq 0 $((NT - 1))); do runs_here "$i" "$s" && idx+=("$i"); done
    n=${#idx[@]}
    for r in $(seq 1 "$ROUNDS"); do
        for k in $(seq 0 $((n - 1))); do
            # even rounds go backwards: a rotation alone keeps every target
            # behind the same one, and the aftermath of a heavy run (Pgpool-II
            # forking through -C) would always fall on the same neighbour
            j=$k; [ $((r % 2)) = 0 ] && j=$((n - 1 - k))
            run_one "$s" "$r" "${idx[$(( (j + r - 1) % n ))]}"
        done
    done
done

# reads per node of the load-balancing targets (SHOW pool_nodes: node_id, role, select_cnt)
lbinfo=
for i in $(seq 0 $((NT - 1))); do
    [ "${USES_STANDBY[$i]}" = 1 ] || continue
    lbinfo+="# ${NAMES[$i]} SHOW pool_nodes select_cnt:$(q "${HOSTS[$i]}" "${PORTS[$i]}" "SHOW pool_nodes" | awk -F'|' '{ printf " node %s (%s) %s;", $1, $7, $9 }')
"
done
{
    echo "$HEAD"
    echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%s' "$lbinfo"
    echo
    table "$TSV"
    echo
    echo "# vs_dir, vs_pgbs, vs_pgp2: TPS over direct, PgBouncer session, Pgpool-II (median of per-round ratios)"
    echo "# raw pgbench output: $RAW"
} > "$TXT"
echo
sed -n '/^# load average at end/,$p' "$TXT"
echo "# table: $TXT"
[ "$failures" = 0 ] || { echo "$PROG: $failures measured run(s) failed or timed out (scenario K not counted); see $RAW" >&2; exit 1; }
exit 0
