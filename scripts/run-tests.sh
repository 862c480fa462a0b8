#!/usr/bin/env bash
# scripts/run-tests.sh - build pgpoold and run every test: the Check unit
# tests (make check), a valgrind pass over them, and the integration tests
# against a real PostgreSQL 15 primary + standby started on 127.0.0.1.
#
#   scripts/run-tests.sh [--no-build] [--unit-only | --integration-only] [REGEX]
#
# On a Debian 12 machine as root it first installs whatever is missing
# (apt-get update only when something is), and creates the `postgres` OS
# user that runs the test servers.  As another user it uses sudo for apt-get
# when packages are missing (and PostgreSQL then runs as that user).
#
# REGEX picks integration tests by name (see t/integration/run.sh).
# The last line is the integration runner's "N passed, N failed".  The exit
# status is 0 only if the build, the unit tests and the integration tests
# all passed.
#
# A whole run (no REGEX, not --unit-only / --integration-only), each step
# failing the run on any report:
#   fuzz      t/fuzz/run.sh: every libFuzzer target FUZZ_SECONDS (60) each,
#             FUZZ_JOBS (2) at a time; skipped with a message without clang's
#             fuzzer runtime
#   asan      a second build, out of tree from a copy of the sources, with
#             -fsanitize=address,undefined, and the WHOLE integration suite
#             on it (ASAN_OPTIONS=detect_leaks=1:abort_on_error=1,
#             UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1): the suite
#             runs once, on this build, so that every test is also a memory
#             test; its summary line closes the output
#   valgrind  an integration subset with the plain build's pgpoold under
#             valgrind memcheck (--error-exitcode, zero errors, zero definite
#             leaks)
#   tsan      a -fsanitize=thread build running the multi-worker tests
#             (workers = 2: pgbench, 500 clients, backend reuse, connect cycles)
# A filtered run (REGEX) or --integration-only runs the suite on the plain
# build; so does a whole run with PLAIN_IT=1 (or NO_ASAN=1, or without a
# working -fsanitize=address).  The sanitizer builds live in $SAN_DIR
# (default /tmp/pgpoold-san-<hash of the checkout's path>).
#
# Environment: IT_KEEP=1 keeps the integration work dir; IT_DIRECT=1 runs
# the integration tests against PostgreSQL itself (checks the tests);
# NO_VALGRIND=1 skips the valgrind pass over the unit tests; NO_FUZZ=1,
# NO_IT_VALGRIND=1, NO_TSAN=1 skip those steps; NO_SECURITY=1 all of them
# (the suite then runs on the plain build).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

BUILD=1 UNIT=1 INTEGRATION=1 FILTER=""
for a in "$@"; do
    case "$a" in
        --no-build) BUILD=0 ;;
        --unit-only) INTEGRATION=0 ;;
        --integration-only) UNIT=0 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
        -*) echo "run-tests.sh: unknown option $a" >&2; exit 2 ;;
        *) FILTER=$a ;;
    esac
done

step() { printf '\n==== %s\n' "$*"; }
status=0

# ------------------------------------------------------------------ packages
# Build dependencies, then what the tests run.
PACKAGES=(build-essential autoconf automake libtool pkg-config
          libconfig-dev libssl-dev libpq-dev libpcre2-dev check valgrind
          libpg-query-dev libprotobuf-c-dev libsystemd-dev
          postgresql-15 postgresql-client-15 python3 perl util-linux procps
          clang libclang-rt-14-dev openssl
          pgpool2)   # only its pcp_* client tools: pcpd is compared with them

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
            missing+=("$p")
        fi
    done
fi
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing missing packages: ${missing[*]}"
    SUDO=()
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo -n)
        else
            echo "run-tests.sh: missing packages (${missing[*]}) and no sudo; install them as root" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q || { echo "apt-get update failed" >&2; exit 1; }
    # Packages with a service (pgpool2, postgresql) must not start one: the
    # tests start their own servers, and Debian's pgpool2 would take PCP
    # port 9898.  policy-rc.d says so to invoke-rc.d (where none exists yet).
    POLICY=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null && "${SUDO[@]}" chmod 755 "$POLICY" && made_policy=1
    fi
    rc=0
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    [ "$made_policy" = 1 ] && "${SUDO[@]}" rm -f "$POLICY"
    [ "$rc" = 0 ] || { echo "apt-get install failed" >&2; exit 1; }
fi

# PostgreSQL refuses to run as root: the test servers run as `postgres`.
if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
    step "creating the postgres OS user"
    useradd --system --user-group --home-dir /var/lib/postgresql --create-home \
            --shell /bin/bash postgres || { echo "useradd postgres failed" >&2; exit 1; }
fi

# ------------------------------------------------------------------ build
if [ "$BUILD" = 1 ]; then
    step "build: ./autogen.sh && ./configure --enable-werror && make -j2"
    if ! { ./autogen.sh && ./configure --enable-werror && make -j2; } > build.log 2>&1; then
        tail -n 60 build.log
        echo "run-tests.sh: build failed (full log: $ROOT/build.log)"
        exit 1
    fi
    grep -E 'warning|error' build.log | grep -v '^configure' | head -n 20 || true
    echo "build ok"
fi

# ------------------------------------------------------------------ unit tests
if [ "$UNIT" = 1 ]; then
    step "unit tests: make check"
    rc=0
    timeout -k 10 900 make -j2 check > check.log 2>&1 || rc=$?
    for f in t/unit/*.log; do
        [ -f "$f" ] || continue
        echo "---- $f"
        cat "$f"
    done
    if [ "$rc" != 0 ]; then
        tail -n 40 check.log
        [ -f test-suite.log ] && cat test-suite.log
        echo "make check failed (exit $rc)"
        status=1
    fi
    if [ "${NO_VALGRIND:-0}" != 1 ] && [ -x t/unit/check_unit ] && command -v valgrind >/dev/null 2>&1; then
        # Processes that a test forks itself are scaffolding and are not
        # checked (--child-silent-after-fork); with CK_FORK=no Check forks none.
        step "unit tests under valgrind (memcheck, CK_FORK=no)"
        rc=0
        CK_FORK=no CK_VERBOSITY=silent timeout -k 10 900 valgrind -q --error-exitcode=99 --child-silent-after-fork=yes \
            --leak-check=full --errors-for-leak-kinds=definite \
            t/unit/check_unit > valgrind-unit.log 2>&1 || rc=$?
        if [ "$rc" = 99 ] || grep -q '^==[0-9]*==' valgrind-unit.log; then
            grep '^==[0-9]*==' valgrind-unit.log | head -n 60
            echo "valgrind found errors in the unit tests (full log: $ROOT/valgrind-unit.log)"
            status=1
        elif [ "$rc" != 0 ]; then
            tail -n 20 valgrind-unit.log
            echo "unit tests failed under valgrind (exit $rc)"
            status=1
        else
            echo "valgrind: no errors"
        fi
    fi
fi

# ------------------------------------------------------------------ security steps
[ "${NO_SECURITY:-0}" = 1 ] && { NO_FUZZ=1; NO_ASAN=1; NO_IT_VALGRIND=1; NO_TSAN=1; }
[ "${PLAIN_IT:-0}" = 1 ] && NO_ASAN=1
# only on a whole run (not --unit-only, not a filtered integration run)
if [ "$INTEGRATION" = 1 ] && [ "$UNIT" = 1 ] && [ -z "$FILTER" ]; then
    SECURITY=1
else
    SECURITY=0
fi
# one per checkout, so that two checkouts testing at once do not collide
SAN_DIR=${SAN_DIR:-/tmp/pgpoold-san-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)}
secs() { printf '%ds' $((SECONDS - $1)); }

# A copy of the sources (tracked and untracked, not ignored), then an
# out-of-tree build of it with extra CFLAGS: san_build NAME CFLAGS.
# (The main build above configures in the tree, and automake refuses an
# out-of-tree build of an already configured tree.)
SAN_SRC_READY=0
san_build() {
    local name=$1 cflags=$2 dir=$SAN_DIR/$1
    if [ "$SAN_SRC_READY" = 0 ]; then
        rm -rf "$SAN_DIR/src"; mkdir -p "$SAN_DIR/src"
        git ls-files -z -co --exclude-standard \
            | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$SAN_DIR/src" || return 1
        (cd "$SAN_DIR/src" && ./autogen.sh) > "$SAN_DIR/autogen.log" 2>&1 || { tail -n 20 "$SAN_DIR/autogen.log"; return 1; }
        SAN_SRC_READY=1
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    if ! (cd "$dir" && "$SAN_DIR/src/configure" CFLAGS="$cflags" && make -j2) > "$dir/build.log" 2>&1; then
        tail -n 40 "$dir/build.log"
        echo "run-tests.sh: $name build failed (full log: $dir/build.log)"
        return 1
    fi
}

if [ "$SECURITY" = 1 ] && [ "${NO_FUZZ:-0}" != 1 ]; then
    step "fuzz: t/fuzz/run.sh (${FUZZ_SECONDS:-60} s per target, ${FUZZ_JOBS:-2} at a time)"
    t0=$SECONDS rc=0
    FUZZ_JOBS=${FUZZ_JOBS:-2} FUZZ_OUT=$SAN_DIR/fuzz timeout -k 30 1200 t/fuzz/run.sh "${FUZZ_SECONDS:-60}" || rc=$?
    if [ "$rc" = 77 ]; then
        echo "fuzz: SKIPPED (no libFuzzer runtime; install clang and libclang-rt-14-dev)"
    elif [ "$rc" != 0 ]; then
        echo "fuzz: FAILED (crash artifacts in $SAN_DIR/fuzz) [$(secs "$t0")]"
        status=1
    else
        echo "fuzz: ok [$(secs "$t0")]"
    fi
fi

# The integration suite: on the ASan+UBSan build in a whole run, else on
# the plain one.  Output tee'd to integration.log (its summary line closes
# the run's output).
it_run() {   # BUILD_DIR [REGEX]
    local rc=0
    timeout -k 30 2400 t/integration/run.sh "$@" 2>&1 | tee "$ROOT/integration.log"
    rc=${PIPESTATUS[0]}
    # (on a timeout the runner still prints its summary line)
    [ "$rc" = 0 ] || status=1
    return "$rc"
}
if [ "$INTEGRATION" = 1 ]; then
    IT_BUILD=$ROOT
    if [ "$SECURITY" = 1 ] && [ "${NO_ASAN:-0}" != 1 ]; then
        step "ASan+UBSan build ($SAN_DIR/asan)"
        t0=$SECONDS
        if san_build asan "-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"; then
            echo "asan build ok [$(secs "$t0")]"
            IT_BUILD=$SAN_DIR/asan
        else
            echo "run-tests.sh: the ASan+UBSan build failed: the integration suite runs on the plain build"
            status=1
        fi
    fi
    if [ "$IT_BUILD" = "$ROOT" ]; then
        step "integration tests (t/integration/run.sh, plain build)"
        it_run "$ROOT" ${FILTER:+"$FILTER"}
    else
        step "integration tests (t/integration/run.sh) on the ASan+UBSan build"
        t0=$SECONDS it_rc=0
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            IT_STOP_WAIT=15 it_run "$IT_BUILD" || it_rc=$?
        echo "integration on asan: $([ "$it_rc" = 0 ] && echo ok || echo FAILED) [$(secs "$t0")]"
    fi
fi

if [ "$SECURITY" = 1 ] && [ "${NO_IT_VALGRIND:-0}" != 1 ] && command -v valgrind >/dev/null 2>&1; then
    step "integration subset with pgpoold under valgrind memcheck"
    t0=$SECONDS rc=0
    PGPOOLD_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --num-callers=30" \
        PX_START_TIMEOUT=90 IT_STOP_WAIT=60 PSQL_TIMEOUT=120 PGWIRE_IO_TIMEOUT=30 IT_TEST_TIMEOUT=400 \
        timeout -k 30 1800 t/integration/run.sh "$ROOT" \
        '^(queries_simple|queries_extended_protocol|queries_sql_errors|copy_from_stdin|copy_to_stdout|cancel_pqcancel|auth_md5|auth_scram|auth_password_method|auth_reject|robust_malformed_startup|robust_oversize_message|robust_backend_terminated|tls_sslmode_require|tls_cert_auth|tls_channel_binding|tls_reload_certificate|tls_direct_alpn|bad_input_auth)$' \
        || rc=$?
    [ "$rc" = 0 ] || status=1
    echo "valgrind subset: $([ "$rc" = 0 ] && echo ok || echo FAILED) [$(secs "$t0")]"
fi

if [ "$SECURITY" = 1 ] && [ "${NO_TSAN:-0}" != 1 ]; then
    step "ThreadSanitizer build ($SAN_DIR/tsan) and the multi-worker tests"
    t0=$SECONDS rc=0
    if san_build tsan "-O1 -g -fsanitize=thread"; then
        TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4 suppressions=$ROOT/t/tsan.supp" \
            IT_PX_SETTINGS="workers=2" IT_STOP_WAIT=15 IT_TEST_TIMEOUT=400 timeout -k 30 1800 t/integration/run.sh "$SAN_DIR/tsan" \
            '^(pgbench_init|pgbench_simple|pgbench_extended|pgbench_prepared|pgbench_connect_each|clients_500_concurrent|clients_backend_reuse|cancel_right_session|notify_psql|bad_input_connect_cycles|txpool_clients_share_pool|txpool_many_logins_few_backends)$' \
            || rc=$?
        [ "$rc" = 0 ] || status=1
        echo "tsan: $([ "$rc" = 0 ] && echo ok || echo FAILED) [$(secs "$t0")]"
    else
        status=1
    fi
fi
# the integration runner's summary closes the output (steps above print after it)
if [ "$INTEGRATION" = 1 ] && [ -f "$ROOT/integration.log" ]; then
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$ROOT/integration.log" | tail -n 1)
    [ -n "$summary" ] && echo "$summary"
fi
exit "$status"
