#!/usr/bin/env bash
# t/fuzz/run.sh - build the libFuzzer targets with clang and run each for a
# bounded time.
#
#   t/fuzz/run.sh [SECONDS] [TARGET...]     (default $FUZZ_SECONDS or 60 s; all targets)
#
# Targets (sources in t/fuzz/fuzz_<target>.c):
#   pcp       libshared/pcp_codec.c: PCP framing, requests, replies, errors
#   pcpd      pcpd's session: login state machine and every command handler
#             over an in-process status segment
#   startup   libshared/proto.c startup_parse, and session.c's startup framing
#   frontend  a client's bytes: startup framing + startup_parse, the real
#             pgpoold/client_auth.c (password, md5, SCRAM, SCRAM-PLUS, cert)
#             behind iobuf_take_msg, then relay.c's message framing and body
#             reads on pgpoold/stmt.c (see the file's header for what is real
#             and what mirrors relay.c)
#   scram     libshared/scram.c: server side client-first/client-final, client
#             side server-first/server-final
#   hba       libshared/pool_hba.c hba_parse + hba_check
#   passwd    libshared/pool_passwd.c parsing, AES entries, SCRAM verifiers
#   classify  pgpoold/classify.c + sqlshape.c (run only when
#             t/fuzz/fuzz_classify.c is in the tree and libpg_query is there)
#
# Each runs on a copy of its seed corpus in t/fuzz/corpus/<target>/ so the
# tree stays clean; crashes are written to $FUZZ_OUT (default
# /tmp/pgpoold-fuzz) as crash_<target>_*.  Prints "fuzz <target>: <execs>
# execs in <s> s" per target; exits non-zero if a target crashed, leaked,
# timed out or failed to build.  Exit status 77 (and a message) when clang's
# libFuzzer runtime is not installed.
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_OUT, CLANG (default clang),
# FUZZ_JOBS (targets run at once, default 1).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SECS=${1:-${FUZZ_SECONDS:-60}}
shift || true
TARGETS=("$@")
ALL=(pcp pcpd startup frontend scram hba passwd classify)
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
OUT=${FUZZ_OUT:-/tmp/pgpoold-fuzz}
CLANG=${CLANG:-clang}
mkdir -p "$OUT"

# Is libFuzzer there?  (clang without libclang-rt-NN-dev links nothing.)
if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: $CLANG not found (install clang and libclang-rt-14-dev): fuzz targets not run"
    exit 77
fi
probe=$OUT/probe
if ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void) d; (void) n; return 0; }\n' \
        | "$CLANG" -x c -fsanitize=fuzzer,address,undefined -o "$probe" - >"$OUT/probe.log" 2>&1; then
    echo "fuzz: $CLANG cannot link -fsanitize=fuzzer,address,undefined (libclang-rt-NN-dev missing?): fuzz targets not run"
    sed 's/^/fuzz:   /' "$OUT/probe.log" | head -n 5
    exit 77
fi
rm -f "$probe"

L=$TOP/libshared
P=$TOP/pgpoold
BASE="$L/buf.c $L/util.c $L/log.c"
sources_of() {
    case "$1" in
        pcp) echo "$HERE/fuzz_pcp.c $L/pcp_codec.c $L/md5.c $BASE" ;;
        pcpd) echo "$HERE/fuzz_pcpd.c $TOP/pcpd/session.c $TOP/pcpd/commands.c $TOP/pcpd/auth.c $TOP/pcpd/context.c
                    $L/pcp_codec.c $L/md5.c $BASE $L/config.c $L/status.c $L/status_strings.c
                    $L/status_session.c $L/status_request.c $L/status_report.c $L/config_report.c" ;;
        startup) echo "$HERE/fuzz_startup.c $L/proto.c $BASE" ;;
        frontend) echo "$HERE/fuzz_frontend.c $P/client_auth.c $P/iobuf.c $P/stmt.c
                    $L/proto.c $L/md5.c $L/scram.c $L/pool_passwd.c $L/pool_hba.c $BASE" ;;
        scram) echo "$HERE/fuzz_scram.c $L/scram.c $BASE" ;;
        hba) echo "$HERE/fuzz_hba.c $L/pool_hba.c $BASE" ;;
        passwd) echo "$HERE/fuzz_passwd.c $L/pool_passwd.c $L/scram.c $L/md5.c $BASE" ;;
        classify) echo "$HERE/fuzz_classify.c $P/classify.c $P/sqlshape.c $L/util.c $L/log.c" ;;
        *) return 1 ;;
    esac
}
# pcpd/ and pgpoold/ both have a session.h, and pgpoold/limits.h must not
# hide <limits.h>: their headers are found for #include "..." only.
incs_of() {
    case "$1" in
        pcp|pcpd) echo "-iquote $TOP/pcpd" ;;
        *) echo "-iquote $P" ;;
    esac
}
libs_of() {
    case "$1" in
        frontend) echo "-lconfig -lssl -lcrypto -pthread" ;;
        classify) echo "$(pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8) -lpg_query -lcrypto -pthread" ;;
        *) echo "-lconfig -lcrypto -pthread" ;;
    esac
}

run_target() {
    local t=$1 srcs bin work log st execs
    srcs=$(sources_of "$t") || { echo "fuzz $t: unknown target"; return 1; }
    if [ "$t" = classify ] && { [ ! -f "$HERE/fuzz_classify.c" ] || [ ! -f "$P/classify.c" ]; }; then
        echo "fuzz $t: skipped (t/fuzz/fuzz_classify.c not in this tree)"
        return 0
    fi
    bin=$OUT/fuzz_$t
    # shellcheck disable=SC2046,SC2086
    if ! "$CLANG" -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -I"$L" $(incs_of "$t") -o "$bin" $srcs $(libs_of "$t") >"$OUT/build_$t.log" 2>&1; then
        echo "fuzz $t: build failed (see $OUT/build_$t.log)"
        sed 's/^/fuzz:   /' "$OUT/build_$t.log" | grep -E 'error' | head -n 10
        return 1
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
    local maxlen=4096
    [ "$t" = frontend ] && maxlen=8192
    log=$OUT/run_$t.log
    rm -f "$OUT/crash_${t}_"* "$OUT/leak_${t}_"* "$OUT/timeout_${t}_"* 2>/dev/null
    (cd "$OUT" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        timeout -k 10 $((SECS + 120)) "$bin" -max_total_time="$SECS" -max_len=$maxlen -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/crash_${t}_" "$work" >"$log" 2>&1)
    st=$?
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    if [ "$st" = 0 ]; then
        echo "fuzz $t: ${execs:-?} execs in $SECS s"
        return 0
    fi
    echo "fuzz $t: ${execs:-?} execs in $SECS s -- FAILED (exit $st, see $log)"
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:|Test unit written|^    #[0-9]' "$log" \
        | head -n 25 | sed 's/^/fuzz:   /'
    return 1
}

# FUZZ_JOBS targets at a time; each prints its lines when it is done.
JOBS=${FUZZ_JOBS:-1}
rc=0
pids=()
for t in "${TARGETS[@]}"; do
    if [ "$JOBS" -le 1 ]; then
        run_target "$t" || rc=1
        continue
    fi
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    ( run_target "$t" > "$OUT/result_$t.txt"; echo $? > "$OUT/status_$t" ) &
    pids+=($!)
done
if [ "$JOBS" -gt 1 ]; then
    wait
    for t in "${TARGETS[@]}"; do
        cat "$OUT/result_$t.txt" 2>/dev/null
        [ "$(cat "$OUT/status_$t" 2>/dev/null)" = 0 ] || rc=1
    done
fi
exit $rc
