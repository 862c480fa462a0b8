# shellcheck shell=bash
# pgpoold under valgrind memcheck for a short mixed workload.

it_test valgrind_memcheck 300
t_valgrind_memcheck() {
    needs_pgpoold
    command -v valgrind >/dev/null || skip "valgrind not installed"
    # the sanitizer runs of the suite: valgrind cannot run such a binary
    ldd "$PGPOOLD" 2>/dev/null | grep -Eq 'lib(a|t|ub)san' \
        && skip "pgpoold is built with a sanitizer; valgrind runs on the plain build"
    local vlog port out
    mkdir -p "$WORK/px/vg"
    vlog=$WORK/px/vg/valgrind.log
    PGPOOLD_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no --log-file=$vlog" \
        PX_START_TIMEOUT=90 px_start vg
    port=$PX_PORT
    echo "$vlog" >> "$WORK/logs.test"
    export PSQL_TIMEOUT=120
    assert_serving "$port" "pgpoold under valgrind"
    px_psql "$port" -c "SELECT 1/0" >/dev/null 2>&1 || true
    px_psql "$port" -qAt -c "SELECT count(*) FROM generate_series(1, 20000)" >/dev/null
    px_psql "$port" -c "COPY (SELECT i, md5(i::text) FROM generate_series(1, 5000) i) TO STDOUT" >/dev/null
    PGPASSWORD=md5pass px_psql "$port" -U md5user -w -c "SELECT 1" >/dev/null
    PGPASSWORD=scrampass px_psql "$port" -U scramuser -w -c "SELECT 1" >/dev/null
    PGPASSWORD=wrong px_psql "$port" -U scramuser -w -c "SELECT 1" >/dev/null 2>&1 || true
    px_psql "$port" -U rejectuser -w -c "SELECT 1" >/dev/null 2>&1 || true
    pgwire extended 127.0.0.1 "$port" app appdb >/dev/null
    PGWIRE_IO_TIMEOUT=30 pgwire malformed 127.0.0.1 "$port" >/dev/null || true
    echo 'SELECT 1;' > "$WORK/vg_select1.sql"
    out=$(timeout -k 5 120 "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U app -c 4 -j 2 -t 50 -M extended \
        -f "$WORK/vg_select1.sql" appdb 2>&1) || fail "pgbench under valgrind: $out"
    [ -x "$CANCEL_TEST" ] && timeout 60 "$CANCEL_TEST" "host=127.0.0.1 port=$port user=app dbname=appdb" >/dev/null
    px_stop vg INT 60 || fail "pgpoold under valgrind did not exit within 60 s of SIGINT"
    note "pgpoold (valgrind) exit status: $PX_EXIT"
    grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|Invalid|uninitialised' "$vlog" | head -n 20 >&2 || true
    grep -q 'ERROR SUMMARY: 0 errors' "$vlog" || fail "valgrind reported errors (see $vlog)"
    [ "$PX_EXIT" != 99 ] || fail "valgrind exit status 99 (errors)"
}
