#!/usr/bin/env bash
# t/fuzz/run.sh - build the libFuzzer targets with clang and run each for a
# bounded time.
#
#   t/fuzz/run.sh [SECONDS] [TARGET...]     (default 60 s; all targets)
#
# Targets: pcp (libshared/pcp_codec.c: PCP framing, requests, replies,
# error packets) and pcpd (pcpd's session: login state machine and every
# command handler over an in-process status segment).  Each runs on a copy of its seed corpus in t/fuzz/corpus/
# so the tree stays clean; crashes are written to $FUZZ_OUT (default
# /tmp/pgpoold-fuzz).  Prints "fuzz <target>: <execs> execs in <s> s" per
# target; exits non-zero if a target crashed or failed to build.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(pcp pcpd)
OUT=${FUZZ_OUT:-/tmp/pgpoold-fuzz}
CLANG=${CLANG:-clang}
mkdir -p "$OUT"

sources_of() {
    case "$1" in
        pcp) echo "$HERE/fuzz_pcp.c $TOP/libshared/pcp_codec.c $TOP/libshared/buf.c $TOP/libshared/md5.c $TOP/libshared/util.c $TOP/libshared/log.c" ;;
        pcpd) echo "$HERE/fuzz_pcpd.c $TOP/pcpd/session.c $TOP/pcpd/commands.c $TOP/pcpd/auth.c $TOP/pcpd/context.c
                    $TOP/libshared/pcp_codec.c $TOP/libshared/buf.c $TOP/libshared/md5.c $TOP/libshared/util.c
                    $TOP/libshared/log.c $TOP/libshared/config.c $TOP/libshared/status.c $TOP/libshared/status_strings.c
                    $TOP/libshared/status_session.c $TOP/libshared/status_request.c $TOP/libshared/status_report.c
                    $TOP/libshared/config_report.c" ;;
        *) return 1 ;;
    esac
}

rc=0
for t in "${TARGETS[@]}"; do
    srcs=$(sources_of "$t") || { echo "fuzz $t: unknown target" >&2; rc=1; continue; }
    bin=$OUT/fuzz_$t
    # shellcheck disable=SC2086
    if ! "$CLANG" -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -I"$TOP/libshared" -I"$TOP/pcpd" -o "$bin" $srcs -lconfig -lcrypto -pthread 2>"$OUT/build_$t.log"; then
        echo "fuzz $t: build failed (see $OUT/build_$t.log)"
        rc=1
        continue
    fi
    work=$OUT/corpus_$t
    rm -rf "$work"; mkdir -p "$work"
    cp "$HERE/corpus/$t"/* "$work"/ 2>/dev/null || true
    # the pcpd target reads the same packets after one state byte
    if [ "$t" = pcpd ]; then
        for f in "$HERE/corpus/pcp"/*; do
            { printf '\001'; cat "$f"; } > "$work/auth_$(basename "$f")"
            { printf '\000'; cat "$f"; } > "$work/new_$(basename "$f")"
        done
    fi
    log=$OUT/run_$t.log
    (cd "$OUT" && "$bin" -max_total_time="$SECS" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$OUT/crash_${t}_" "$work" >"$log" 2>&1)
    st=$?
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz $t: ${execs:-?} execs in $SECS s$( [ $st = 0 ] || echo " -- FAILED (exit $st, see $log)")"
    [ $st = 0 ] || rc=1
done
exit $rc
