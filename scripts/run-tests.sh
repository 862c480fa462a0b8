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
# Environment: IT_KEEP=1 keeps the integration work dir; IT_DIRECT=1 runs
# the integration tests against PostgreSQL itself (checks the tests);
# NO_VALGRIND=1 skips the valgrind pass over the unit tests.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

BUILD=1 UNIT=1 INTEGRATION=1 FILTER=""
for a in "$@"; do
    case "$a" in
        --no-build) BUILD=0 ;;
        --unit-only) INTEGRATION=0 ;;
        --integration-only) UNIT=0 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
          postgresql-15 postgresql-client-15 python3 perl util-linux procps)

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
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || { echo "apt-get install failed" >&2; exit 1; }
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

# ------------------------------------------------------------------ integration
if [ "$INTEGRATION" = 1 ]; then
    step "integration tests (t/integration/run.sh)"
    rc=0
    timeout -k 30 2400 t/integration/run.sh "$ROOT" ${FILTER:+"$FILTER"} || rc=$?
    # (on a timeout the runner still prints its summary line)
    [ "$rc" = 0 ] || status=1
fi
exit "$status"
