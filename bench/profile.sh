#!/usr/bin/env bash
# bench/profile.sh - instructions per relayed query: pgpoold under
# valgrind --tool=callgrind, a fixed number of pgbench transactions.
#
#   PRIMARY=HOST:PORT bench/profile.sh [CASE ...]
#
# CASE is MODE:PROTOCOL, MODE session|transaction, PROTOCOL
# simple|extended|prepared (default: session:prepared session:simple
# session:extended transaction:prepared).  For each case pgpoold starts
# under callgrind in front of PRIMARY (a pgbench database at scale >= 1 must
# be there: the bench user/db of bench/compare.sh), pgbench -S warms it up
# (WARM_TX per client), the counters are zeroed (callgrind_control -z), then
# `pgbench -S -M PROTOCOL -c CLIENTS -t TX` runs and the counters are dumped.
# Instructions per transaction = Ir of that dump / (CLIENTS * TX); one
# pgbench -S transaction is one query (simple: Query; extended/prepared:
# Parse?/Bind/Describe?/Execute/Sync).  The count does not drift with
# machine noise the way TPS does.
#
# Then (NATIVE=1, the default) the same case runs without valgrind, once
# under `strace -f -c` (system calls per transaction) and once under
# `perf record -e cpu-clock -g` (CPU time by object and symbol, the kernel
# included: perf stat's hardware counters are not available in this VM).
#
# Environment: CLIENTS [8] TX [2000] WARM_TX [100] PGPOOLD
# [<tree>/pgpoold/pgpoold] PGPOOLD_PORT [25550] BENCH_USER/BENCH_DB/BENCH_PASSWORD
# [bench] OUT_DIR [/tmp/pgpoold-profile] TOP [25]
# Output: per case, Ir/transaction and the top functions by self cost
# (callgrind_annotate), files in OUT_DIR.
set -uo pipefail
PROG=$(basename "$0")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# shellcheck source=lib.sh
. "$SCRIPT_DIR/lib.sh"
die() { echo "$PROG: error: $*" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

[ -n "${PRIMARY:-}" ] || die "set PRIMARY=HOST:PORT (a primary with the pgbench tables; see bench/compare.sh)"
[[ $PRIMARY =~ ^([^:]+):([0-9]+)$ ]] || die "PRIMARY must be HOST:PORT"
PG_HOST=${BASH_REMATCH[1]} PG_PORT=${BASH_REMATCH[2]}
CLIENTS=${CLIENTS:-8} TX=${TX:-2000} WARM_TX=${WARM_TX:-100} TOP=${TOP:-25}
PGPOOLD=${PGPOOLD:-$ROOT/pgpoold/pgpoold}
PORT=${PGPOOLD_PORT:-25550}
BENCH_USER=${BENCH_USER:-bench} BENCH_DB=${BENCH_DB:-bench}
export PGPASSWORD=${BENCH_PASSWORD:-bench} PGSSLMODE=disable PGCONNECT_TIMEOUT=30
OUT_DIR=${OUT_DIR:-/tmp/pgpoold-profile}
command -v valgrind >/dev/null || die "valgrind not found"
[ -x "$PGPOOLD" ] || die "no pgpoold at $PGPOOLD"
mkdir -p "$OUT_DIR"
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(session:prepared session:simple session:extended transaction:prepared)

VG_PID=
cleanup() {
    if [ -n "$VG_PID" ] && kill -0 "$VG_PID" 2>/dev/null; then
        kill -INT "$VG_PID"; for _ in $(seq 1 100); do kill -0 "$VG_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$VG_PID" 2>/dev/null
    fi
}
trap cleanup EXIT

summary=()
for c in "${CASES[@]}"; do
    mode=${c%%:*} proto=${c#*:}
    d=$OUT_DIR/$mode-$proto; rm -rf "$d"; mkdir -p "$d"
    bench_px_files "$d" "$PGPASSWORD" "$BENCH_USER"
    { bench_px_conf "$d" "$PORT"; cat <<EOF
workers = 2;
max_pool = $((CLIENTS + 4));
pool_mode = "$mode";
load_balance_mode = false;
sr_check_period = 0;
health_check_period = 0;
backends = ( { hostname = "$PG_HOST"; port = $PG_PORT; weight = 1.0; } );
EOF
    } > "$d/pgpoold.conf"
    valgrind --tool=callgrind --callgrind-out-file="$d/callgrind.out.%p" --separate-threads=no \
        "$PGPOOLD" -n -D -f "$d/pgpoold.conf" > "$d/valgrind.log" 2>&1 &
    VG_PID=$!
    for _ in $(seq 1 300); do
        psql -X -qAt -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT 1" >/dev/null 2>&1 && break
        kill -0 "$VG_PID" 2>/dev/null || { tail "$d/valgrind.log" >&2; die "pgpoold under valgrind exited"; }
        sleep 0.5
    done
    pgbench -n -S -M "$proto" -c "$CLIENTS" -j 2 -t "$WARM_TX" -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" "$BENCH_DB" > "$d/warm.log" 2>&1 ||
        { cat "$d/warm.log" >&2; die "warm-up pgbench failed ($c)"; }
    callgrind_control -z "$VG_PID" >/dev/null || die "callgrind_control -z failed"
    t0=$(date +%s.%N)
    pgbench -n -S -M "$proto" -c "$CLIENTS" -j 2 -t "$TX" -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" "$BENCH_DB" > "$d/pgbench.log" 2>&1 ||
        { cat "$d/pgbench.log" >&2; die "pgbench failed ($c)"; }
    callgrind_control -d "$VG_PID" >/dev/null || die "callgrind_control -d failed"
    sleep 1
    cleanup; VG_PID=
    dump=$(ls -t "$d"/callgrind.out.*.1 2>/dev/null | head -n1)
    [ -n "$dump" ] || dump=$(ls -t "$d"/callgrind.out.* | head -n1)
    ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$dump" | head -n1)
    [ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$dump" | head -n1)
    ntx=$((CLIENTS * TX))
    per=$(awk -v a="$ir" -v n="$ntx" 'BEGIN { printf "%.0f", a / n }')
    # self cost per function (clone/start_thread carry the whole thread's cost: left out)
    callgrind_annotate --threshold=100 "$dump" 2>/dev/null | sed -n '/file:function/,$p' |
        grep -E '^ *[0-9,]+ ' | grep -vE 'clone\.S:clone|:start_thread ' | head -n "$TOP" > "$d/top-self.txt"
    callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null | sed -n '/file:function/,$p' |
        grep -E '^ *[0-9,]+ ' | head -n "$TOP" > "$d/top-inclusive.txt"
    echo "== $c: $ir instructions / $ntx transactions = $per per transaction ($dump)"
    echo "-- top functions by self cost:"
    cat "$d/top-self.txt"
    sys_per=- perf_note=
    if [ "${NATIVE:-1}" = 1 ]; then
        # the same case natively: system calls per transaction (strace -c) and
        # where the CPU time goes, kernel included (perf record -e cpu-clock)
        "$PGPOOLD" -n -D -f "$d/pgpoold.conf" > "$d/native.log" 2>&1 &
        VG_PID=$!
        for _ in $(seq 1 100); do
            psql -X -qAt -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" -d "$BENCH_DB" -c "SELECT 1" >/dev/null 2>&1 && break
            sleep 0.2
        done
        pgbench -n -S -M "$proto" -c "$CLIENTS" -j 2 -t "$WARM_TX" -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" "$BENCH_DB" > /dev/null 2>&1
        if command -v strace >/dev/null; then
            strace -f -c -o "$d/strace.txt" -p "$VG_PID" 2>/dev/null &
            st=$!
            sleep 1
            pgbench -n -S -M "$proto" -c "$CLIENTS" -j 2 -t "$TX" -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" "$BENCH_DB" > "$d/strace-pgbench.log" 2>&1
            kill -INT "$st"; wait "$st" 2>/dev/null
            calls=$(awk '$NF == "total" { print $(NF-2) }' "$d/strace.txt")
            [ -n "$calls" ] && sys_per=$(awk -v a="$calls" -v n="$ntx" 'BEGIN { printf "%.1f", a / n }')
            echo "-- system calls during $ntx transactions (strace -f -c): $calls = $sys_per per transaction"
            sed -n '3,12p' "$d/strace.txt"
        fi
        if command -v perf >/dev/null; then
            perf record -q -e cpu-clock -g -o "$d/perf.data" -p "$VG_PID" > "$d/perf-record.log" 2>&1 &
            pr=$!
            sleep 1
            pgbench -n -S -M "$proto" -c "$CLIENTS" -j 2 -t "$TX" -h 127.0.0.1 -p "$PORT" -U "$BENCH_USER" "$BENCH_DB" > "$d/perf-pgbench.log" 2>&1
            kill -INT "$pr"; wait "$pr" 2>/dev/null
            perf report -i "$d/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -n "$TOP" > "$d/perf-top.txt"
            perf_note=$(perf report -i "$d/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' |
                awk '{ printf "%s %s; ", $2, $1 }')
            echo "-- perf (cpu-clock) by object: $perf_note"
            echo "-- perf top symbols (self):"
            cat "$d/perf-top.txt"
        fi
        cleanup; VG_PID=
    fi
    summary+=("$(printf '%-22s %8s Ir/tx (user space)  %6s syscalls/tx' "$c" "$per" "$sys_per")")
done
echo
echo "instructions per relayed query (pgpoold, callgrind, pgbench -S -c $CLIENTS -t $TX):"
printf '  %s\n' "${summary[@]}"
