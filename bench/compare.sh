#!/usr/bin/env bash
# bench/compare.sh - pgbench through pgpoold and straight to PostgreSQL, in
# one run, interleaved, and a table of TPS with the ratio pgpoold/direct.
#
#   bench/compare.sh [NAME=HOST:PORT ...]
#
# Starts (or reuses) a PostgreSQL 15 primary on 127.0.0.1, starts pgpoold
# (the build in this tree) in front of it, loads pgbench tables, then for
# every scenario and round runs every target once (order rotated per round):
#   direct   the primary
#   pgpoold  the proxy
#   NAME     any extra HOST:PORT given as an argument (e.g. PgBouncer or
#            Pgpool-II in front of the same primary; see bench/README.md)
# Scenarios (SCENARIOS, letters):
#   S  -S -M simple     (select only)        E  -S -M extended
#   P  -S -M prepared                        T  TPC-B-like built-in script
#   C  -S -C (a new connection per transaction)
#
# Environment (defaults in brackets):
#   DURATION [10]  seconds per measured run     WARMUP [2]  unmeasured seconds before it
#   CLIENTS [16]   clients for S E P            CLIENTS_T [8]  for T   CLIENTS_C [8]  for C
#   THREADS [2]    ROUNDS [1]    SCALE [10]     SCENARIOS ["S E P T C"]
#   PRIMARY        HOST:PORT of an existing primary to use instead of starting one
#                  (then BENCH_USER/BENCH_DB/BENCH_PASSWORD must work there)
#   BENCH_USER [bench] BENCH_DB [bench] BENCH_PASSWORD [bench]
#   BENCH_DIR [/tmp/pgpoold-bench]  server data, pgpoold config and logs
#   PG_PORT [25535]  PGPOOLD_PORT [25532]  (below the ephemeral port range)
#   PGPOOLD [<tree>/pgpoold/pgpoold]  PGPOOLD_WORKERS [2]
#   KEEP_SERVER [0]  1 = leave the primary this script started running
#   RESULTS_DIR [<tree>/bench/results]
# Output: the table on stdout, and RESULTS_DIR/compare-<stamp>.{txt,tsv,raw}.
# Exit status 1 if any measured run failed or timed out.
set -uo pipefail

PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
. "$ROOT/scripts/lib/pgcluster.sh"

die() { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

case "${1:-}" in -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CLIENTS=${CLIENTS:-16}
CLIENTS_T=${CLIENTS_T:-8}
CLIENTS_C=${CLIENTS_C:-8}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
SCALE=${SCALE:-10}
SCENARIOS=${SCENARIOS:-S E P T C}
BENCH_USER=${BENCH_USER:-bench}
BENCH_DB=${BENCH_DB:-bench}
BENCH_PASSWORD=${BENCH_PASSWORD:-bench}
BENCH_DIR=${BENCH_DIR:-/tmp/pgpoold-bench}
PG_PORT=${PG_PORT:-25535}
PGPOOLD_PORT=${PGPOOLD_PORT:-25532}
PGPOOLD=${PGPOOLD:-$ROOT/pgpoold/pgpoold}
PGPOOLD_WORKERS=${PGPOOLD_WORKERS:-2}
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
GRACE=60
export PGPASSWORD=$BENCH_PASSWORD PGCONNECT_TIMEOUT=10 PGSSLMODE=disable

for v in DURATION THREADS ROUNDS SCALE CLIENTS CLIENTS_T CLIENTS_C; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be an integer >= 0"
[ -x "$PGPOOLD" ] || die "no pgpoold binary at $PGPOOLD (build first: ./autogen.sh && ./configure && make)"
pgc_find_bin || die "PostgreSQL binaries not found (apt-get install postgresql-15)"
PSQL=$PGBIN/psql; PGBENCH=$PGBIN/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench) || die "pgbench not found"

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
PGDATA_DIR=$BENCH_DIR/primary
SOCKDIR=$BENCH_DIR/run
PX_DIR=$BENCH_DIR/pgpoold
PGLOG_DIR=$BENCH_DIR/pglog
mkdir -p "$SOCKDIR" "$PX_DIR" "$PGLOG_DIR"
[ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$SOCKDIR" "$PGLOG_DIR"

STARTED_PG=0 PX_PID=
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$PX_PID" ] && kill -0 "$PX_PID" 2>/dev/null; then
        kill -INT "$PX_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$PX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PX_PID" 2>/dev/null
    fi
    if [ "$STARTED_PG" = 1 ] && [ "${KEEP_SERVER:-0}" != 1 ]; then
        info "stopping the primary"
        pgc_stop "$PGDATA_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ primary
if [ -n "${PRIMARY:-}" ]; then
    [[ $PRIMARY =~ ^([^:]+):([0-9]+)$ ]] || die "PRIMARY must be HOST:PORT"
    PG_HOST=${BASH_REMATCH[1]}; PG_PORT=${BASH_REMATCH[2]}
    info "using the existing primary $PG_HOST:$PG_PORT"
else
    PG_HOST=127.0.0.1
    pgc_ensure_os_user || die "cannot create the postgres OS user"
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        info "initdb $PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$PGDATA_DIR"
        pw=$BENCH_DIR/.pw; printf '%s\n' "$BENCH_PASSWORD" > "$pw"
        [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$pw"
        chmod 600 "$pw"
        pgc_initdb "$PGDATA_DIR" "$pw" > "$BENCH_DIR/initdb.log" 2>&1 || { rm -f "$pw"; die "initdb failed (see $BENCH_DIR/initdb.log)"; }
        rm -f "$pw"
        pgc_as_pg sh -c "printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' > '$PGDATA_DIR/pg_hba.conf'"
    fi
    if pgc_running "$PGDATA_DIR"; then
        PG_PORT=$(sed -n 's/^port = //p' "$PGDATA_DIR/pgtest.conf")
        info "reusing the running primary on $PG_PORT"
    else
        PG_PORT=$(pgc_pick_port "$PG_PORT" $((PG_PORT + 10)) $((PG_PORT + 20))) || die "no free port for PostgreSQL near $PG_PORT"
        pgc_write_conf "$PGDATA_DIR" "$PG_PORT" "$SOCKDIR" bench "
max_connections = 300
shared_buffers = 256MB
synchronous_commit = off
log_min_messages = warning"
        info "starting the primary on 127.0.0.1:$PG_PORT"
        pgc_start "$PGDATA_DIR" "$PGLOG_DIR/primary.log" || die "PostgreSQL did not start (see $PGLOG_DIR/primary.log)"
        STARTED_PG=1
    fi
    if [ "$(pgc_admin "$SOCKDIR" "$PG_PORT" "SELECT 1 FROM pg_roles WHERE rolname = '$BENCH_USER'")" != 1 ]; then
        pgc_admin "$SOCKDIR" "$PG_PORT" "CREATE ROLE \"$BENCH_USER\" LOGIN PASSWORD '$BENCH_PASSWORD'" >/dev/null || die "CREATE ROLE failed"
    fi
    if [ "$(pgc_admin "$SOCKDIR" "$PG_PORT" "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")" != 1 ]; then
        pgc_admin "$SOCKDIR" "$PG_PORT" "CREATE DATABASE \"$BENCH_DB\" OWNER \"$BENCH_USER\"" >/dev/null || die "CREATE DATABASE failed"
    fi
fi

bsql() {   # SQL : as the bench user on the primary
    timeout -k 5 300 "$PSQL" -X -qAt -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "$1"
}
bsql "SELECT 1" >/dev/null || die "cannot connect to $PG_HOST:$PG_PORT as $BENCH_USER"

# pgbench tables at SCALE
have=$(bsql "SELECT count(*) FROM pgbench_branches" 2>/dev/null || echo 0)
if [ "$have" != "$SCALE" ]; then
    info "pgbench -i -s $SCALE"
    timeout -k 5 900 "$PGBENCH" -i -q -s "$SCALE" -h "$PG_HOST" -p "$PG_PORT" -U "$BENCH_USER" "$BENCH_DB" \
        > "$BENCH_DIR/pgbench-init.log" 2>&1 || die "pgbench -i failed (see $BENCH_DIR/pgbench-init.log)"
fi

# ------------------------------------------------------------------ pgpoold
maxc=$(( CLIENTS > CLIENTS_T ? CLIENTS : CLIENTS_T ))
cat > "$PX_DIR/pool_hba.conf" <<EOF
local all all trust
host  all all 127.0.0.1/32 trust
EOF
printf '%s:TEXT%s\n' "$BENCH_USER" "$BENCH_PASSWORD" > "$PX_DIR/pool_passwd"
chmod 600 "$PX_DIR/pool_passwd"
PGPOOLD_PORT=$(pgc_pick_port "$PGPOOLD_PORT" $((PGPOOLD_PORT + 10)) $((PGPOOLD_PORT + 20))) || die "no free port for pgpoold"
PCP_PORT=$(pgc_pick_port $((PGPOOLD_PORT + 1)) $((PGPOOLD_PORT + 11)) $((PGPOOLD_PORT + 21))) || die "no free pcp port"
cat > "$PX_DIR/pgpoold.conf" <<EOF
# written by bench/compare.sh
listen_addresses = "127.0.0.1";
port = $PGPOOLD_PORT;
unix_socket_directories = "$PX_DIR";
pcp_port = $PCP_PORT;
workers = $PGPOOLD_WORKERS;
max_clients = 1000;
max_pool = $((maxc + 8));
connection_life_time = 0;
client_idle_limit = 0;
reset_query_list = "ABORT; DISCARD ALL";
enable_pool_hba = true;
pool_hba_file = "pool_hba.conf";
pool_passwd = "pool_passwd";
pid_file_name = "pgpoold.pid";
logdir = "$PX_DIR";
log_min_messages = "warning";
log_connections = false;
backends = (
  { hostname = "$PG_HOST"; port = $PG_PORT; weight = 1.0; data_directory = "$PGDATA_DIR";
    flag = "ALLOW_TO_FAILOVER"; application_name = "node0"; }
);
EOF
"$PGPOOLD" -t -f "$PX_DIR/pgpoold.conf" > "$PX_DIR/check.log" 2>&1 || { cat "$PX_DIR/check.log" >&2; die "pgpoold -t rejected the config"; }
"$PGPOOLD" -n -f "$PX_DIR/pgpoold.conf" > "$PX_DIR/pgpoold.log" 2>&1 < /dev/null &
PX_PID=$!
for _ in $(seq 1 100); do
    kill -0 "$PX_PID" 2>/dev/null || { tail -n 20 "$PX_DIR/pgpoold.log" >&2; die "pgpoold exited"; }
    timeout 5 "$PSQL" -X -qAt -h 127.0.0.1 -p "$PGPOOLD_PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.1
done
info "pgpoold $PX_PID on 127.0.0.1:$PGPOOLD_PORT in front of $PG_HOST:$PG_PORT"

# ------------------------------------------------------------------ targets
NAMES=(direct pgpoold); HOSTS=("$PG_HOST" 127.0.0.1); PORTS=("$PG_PORT" "$PGPOOLD_PORT")
for t in "$@"; do
    [[ $t =~ ^([A-Za-z0-9_.-]+)=([^:]+):([0-9]+)$ ]] || die "bad target '$t' (want NAME=HOST:PORT)"
    NAMES+=("${BASH_REMATCH[1]}"); HOSTS+=("${BASH_REMATCH[2]}"); PORTS+=("${BASH_REMATCH[3]}")
done

mkdir -p "$RESULTS_DIR" 2>/dev/null && [ -w "$RESULTS_DIR" ] || RESULTS_DIR=${TMPDIR:-/tmp}/pgpoold-bench-results
mkdir -p "$RESULTS_DIR"
STAMP=$(date +%Y%m%d-%H%M%S)
TSV=$RESULTS_DIR/compare-$STAMP.tsv
RAW=$RESULTS_DIR/compare-$STAMP.raw
TXT=$RESULTS_DIR/compare-$STAMP.txt
printf 'scenario\tround\ttarget\tclients\ttps\tlat_ms\tstatus\n' > "$TSV"
: > "$RAW"

scenario_args() {   # LETTER -> pgbench args
    case "$1" in
        S) echo "-S -M simple -c $CLIENTS" ;;
        E) echo "-S -M extended -c $CLIENTS" ;;
        P) echo "-S -M prepared -c $CLIENTS" ;;
        T) echo "-M simple -c $CLIENTS_T" ;;
        C) echo "-S -C -M simple -c $CLIENTS_C" ;;
        *) return 1 ;;
    esac
}
scenario_label() {
    case "$1" in
        S) echo "-S simple" ;; E) echo "-S extended" ;; P) echo "-S prepared" ;;
        T) echo "tpcb-like" ;; C) echo "-S -C reconnect" ;;
    esac
}

failures=0
run_pgbench() {   # NAME HOST PORT SCENARIO ROUND
    local name=$1 host=$2 port=$3 s=$4 round=$5 args out rc tps lat status clients
    # shellcheck disable=SC2207
    args=($(scenario_args "$s"))
    clients=${args[-1]}
    if [ "$s" = T ]; then
        bsql "VACUUM pgbench_branches; VACUUM pgbench_tellers; TRUNCATE pgbench_history" >/dev/null 2>&1 || true
    fi
    if [ "$WARMUP" -gt 0 ]; then
        timeout -k 5 $((WARMUP + GRACE)) "$PGBENCH" -n -T "$WARMUP" -j "$THREADS" "${args[@]}" \
            -h "$host" -p "$port" -U "$BENCH_USER" "$BENCH_DB" >/dev/null 2>&1 || true
    fi
    rc=0
    out=$(timeout -k 5 $((DURATION + GRACE)) "$PGBENCH" -n -T "$DURATION" -j "$THREADS" "${args[@]}" \
            -h "$host" -p "$port" -U "$BENCH_USER" "$BENCH_DB" 2>&1) || rc=$?
    printf '=== %s round %s %s: pgbench %s\n%s\n' "$s" "$round" "$name" "${args[*]}" "$out" >> "$RAW"
    tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)
    lat=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' | head -n1)
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timeout
    elif [ "$rc" != 0 ] || [ -z "$tps" ]; then status=fail
    elif printf '%s\n' "$out" | grep -q '^number of failed transactions: [1-9]'; then status=fail
    else status=ok; fi
    [ "$status" = ok ] || failures=$((failures + 1))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$round" "$name" "$clients" "${tps:-}" "${lat:-}" "$status" >> "$TSV"
    info "$(printf '%-16s %-3s round %s %-14s tps=%-10s %s' "$(scenario_label "$s")" "c$clients" "$round" "$name" "${tps:--}" "$status")"
}

n=${#NAMES[@]}
for s in $SCENARIOS; do
    scenario_args "$s" >/dev/null || die "unknown scenario letter '$s' (S E P T C)"
    for round in $(seq 1 "$ROUNDS"); do
        for i in $(seq 0 $((n - 1))); do
            k=$(( (i + round - 1) % n ))
            run_pgbench "${NAMES[$k]}" "${HOSTS[$k]}" "${PORTS[$k]}" "$s" "$round"
        done
    done
done

# ------------------------------------------------------------------ table
# median TPS and latency over ok rounds; ratio = median of per-round
# target/direct TPS.
{
    echo "pgbench: -T $DURATION -j $THREADS, scale $SCALE, $ROUNDS round(s); $(nproc) CPUs; pgpoold workers=$PGPOOLD_WORKERS"
    awk -F'\t' -v names="${NAMES[*]}" -v scen="$SCENARIOS" '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j+1] = a[j]; a[j+1] = t }
        return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    NR == 1 { next }
    {
        k = $1 SUBSEP $3; cl[$1] = $4
        if ($7 == "ok") { tps[k] = tps[k] " " $5; lat[k] = lat[k] " " $6; rt[$1 SUBSEP $2 SUBSEP $3] = $5; rounds[$1 SUBSEP $2] = 1 }
        else bad[k] = $7
    }
    END {
        lab["S"] = "-S simple"; lab["E"] = "-S extended"; lab["P"] = "-S prepared"
        lab["T"] = "tpcb-like"; lab["C"] = "-S -C reconnect"
        ns = split(scen, S, " "); nn = split(names, N, " ")
        printf "%-22s %-20s %12s %10s %12s\n", "scenario", "target", "tps", "lat_ms", "vs_direct"
        for (x = 1; x <= ns; x++) {
            s = S[x]
            for (y = 1; y <= nn; y++) {
                k = s SUBSEP N[y]
                label = (y == 1) ? sprintf("%s c%s", lab[s], cl[s]) : ""
                if (tps[k] == "") { printf "%-22s %-20s %12s %10s %12s\n", label, N[y], (k in bad) ? bad[k] : "-", "-", "-"; continue }
                ratios = ""
                for (rk in rounds) {
                    split(rk, rr, SUBSEP); if (rr[1] != s) continue
                    b = s SUBSEP rr[2] SUBSEP "direct"; t = s SUBSEP rr[2] SUBSEP N[y]
                    if ((b in rt) && (t in rt) && rt[b] > 0) ratios = ratios " " (rt[t] / rt[b])
                }
                printf "%-22s %-20s %12.1f %10.3f %12s\n", label, N[y], median(tps[k]), median(lat[k]),
                    (ratios == "") ? "-" : sprintf("%.2f", median(ratios))
            }
        }
    }' "$TSV"
} | tee "$TXT"
echo "results: $TXT (raw pgbench output: $RAW)"
[ "$failures" = 0 ] || { echo "$failures run(s) failed or timed out"; exit 1; }
