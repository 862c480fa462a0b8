# shellcheck shell=bash
# Bad input against a running pgpoold and pcpd (issue 7): broken framing
# and protocol versions, garbage after SSLRequest, TLS handshakes that stop
# half way, a slowloris client, 10,000 connect/disconnect cycles with file
# descriptors and memory measured, backends killed mid-COPY and mid-result,
# unknown users, wrong passwords in a loop, SCRAM abuse, and PCP garbage to
# pcpd.  Every case must get the error PostgreSQL (Pgpool-II for PCP) would
# give, and a pgbench run beside it must see zero errors throughout.

# shellcheck source=lib-tls.sh
. "$IT_DIR/lib-tls.sh"

# ---------------------------------------------------------------- helpers
# bg_pgbench_start PORT : pgbench runs of 3 s each, one after the other,
# until bg_pgbench_stop; every run's output is kept.
bg_pgbench_start() {
    local port=$1 dir=$WORK/bgpgb.$$
    rm -rf "$dir"; mkdir -p "$dir"
    BGPGB_DIR=$dir
    printf 'SELECT 1;\nSELECT count(*) FROM pg_class WHERE relname = %s;\n' "'pg_proc'" > "$dir/script.sql"
    (
        i=0
        while [ ! -f "$dir/stop" ] && [ "$i" -lt 200 ]; do
            i=$((i + 1))
            timeout -k 5 30 "$PGBENCH" -n -h 127.0.0.1 -p "$port" -U app -c 2 -j 1 -T 3 -f "$dir/script.sql" appdb \
                > "$dir/run.$i" 2>&1
            echo $? > "$dir/rc.$i"
        done
    ) &
    BGPGB_PID=$!
    wait_until 10 "[ -f '$dir/rc.1' ] || grep -q 'number of clients' '$dir/run.1' 2>/dev/null" || true
}

# bg_pgbench_stop : stop after the current run; fail unless every run
# exited 0 with no failed transactions and no aborted client.
bg_pgbench_stop() {
    local dir=$BGPGB_DIR f n=0 tx=0 rc failed processed
    touch "$dir/stop"
    bg_wait "$BGPGB_PID" 40 || true
    for f in "$dir"/rc.*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        rc=$(cat "$f")
        local out=${f/rc./run.}
        failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
        processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
        if [ "$rc" != 0 ] || [ "${failed:-0}" != 0 ] || grep -qi 'abort' "$out" || [ -z "$processed" ]; then
            sed 's/^/#   /' "$out" | tail -n 15 >&2
            fail "the concurrent pgbench run $(basename "$out") had errors (exit $rc, failed ${failed:-?})"
        fi
        tx=$((tx + processed))
    done
    [ "$n" -ge 1 ] || fail "the concurrent pgbench never ran"
    note "concurrent pgbench: $n runs, $tx transactions, 0 errors"
}

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# pgpoold built with a sanitizer (ASan's quarantine and TSan's shadow make
# RSS meaningless as a leak signal there)
px_sanitized() { ldd "$PGPOOLD" 2>/dev/null | grep -Eq 'lib(asan|tsan)'; }

bad_start() {   # NAME [KEY=VALUE ...]: a TLS-enabled instance, authentication_timeout = 3
    local name=$1; shift
    tls_certs
    mkdir -p "$WORK/px/$name"
    # a catch-all scram line: unknown users get a SCRAM exchange (mock
    # authentication) and 28P01, as PostgreSQL gives them
    { cat "$WORK/auth/pool_hba.conf"; echo "host all all 127.0.0.1/32 scram-sha-256"; } > "$WORK/px/$name/pool_hba.conf"
    # shellcheck disable=SC2046
    px_start "$name" $(tls_px_settings) authentication_timeout=3 "$@"
}

# ---------------------------------------------------------------- tests
it_test bad_input_framing 180
t_bad_input_framing() {
    needs_pgpoold
    bad_start badf
    local port=$PX_PORT out p1 p2 p3 p4 rc=0
    bg_pgbench_start "$port"
    out=$(secwire bad-input 127.0.0.1 "$port" 2>&1) || fail "bad framing: $out"
    note "$out"
    out=$(pgwire malformed 127.0.0.1 "$port" 2>&1) || fail "malformed startup packets: $out"
    out=$(secwire ssl-garbage 127.0.0.1 "$port" S 2>&1) || fail "SSLRequest + unencrypted bytes: $out"
    note "$out"
    out=$(secwire ssl-then-garbage 127.0.0.1 "$port" 2>&1) || fail "garbage instead of a ClientHello: $out"
    out=$(secwire ssl-garbage 127.0.0.1 "$MAIN_PORT" N 2>&1) || fail "SSLRequest + bytes with TLS off: $out"
    # slow and stalled clients, all at once: each dropped by authentication_timeout (3 s)
    secwire half-tls 127.0.0.1 "$port" sslrequest 10 > "$WORK/half1.out" 2>&1 & p1=$!
    secwire half-tls 127.0.0.1 "$port" direct 10 > "$WORK/half2.out" 2>&1 & p2=$!
    secwire slowloris 127.0.0.1 "$port" 10 > "$WORK/slow1.out" 2>&1 & p3=$!
    pgwire partial-startup 127.0.0.1 "$port" 8 > /dev/null 2>&1 & p4=$!
    sleep 1
    assert_serving "$port" "proxy with stalled TLS handshakes and a slowloris client"
    for p in "$p1" "$p2" "$p3"; do bg_wait "$p" 30 || rc=$?; done
    bg_wait "$p4" 15 || true
    cat "$WORK/half1.out" "$WORK/half2.out" "$WORK/slow1.out" >&2
    [ "$rc" = 0 ] || fail "a stalled client was not dropped by authentication_timeout"
    assert_contains "$(cat "$WORK/slow1.out")" "canceling authentication due to timeout" "slowloris told why (08P01)"
    grep -q 'authentication timeout for' "$PX_LOG" || fail "no 'authentication timeout' in the log"
    bg_pgbench_stop
    px_assert_alive badf
    assert_serving "$port"
}

it_test bad_input_auth 180
t_bad_input_auth() {
    needs_pgpoold
    bad_start bada
    local port=$PX_PORT out
    bg_pgbench_start "$port"
    # unknown user: SCRAM against a mock verifier, then 28P01 (as PostgreSQL)
    out=$(PGPASSWORD=whatever pgwire startup-error 127.0.0.1 "$port" nosuchuser appdb)
    assert_eq 'FATAL 28P01 password authentication failed for user "nosuchuser"' "$out" "unknown user"
    out=$(pgwire auth-request 127.0.0.1 "$port" nosuchuser appdb)
    assert_eq "sasl:SCRAM-SHA-256" "$out" "an unknown user is asked for SCRAM like a known one"
    # wrong passwords in a loop: SCRAM, md5, cleartext
    out=$(secwire wrong-passwords 127.0.0.1 "$port" scramuser appdb 150 2>&1) || fail "$out"; note "$out"
    out=$(secwire wrong-passwords 127.0.0.1 "$port" md5user appdb 100 2>&1) || fail "$out"; note "$out"
    out=$(secwire wrong-passwords 127.0.0.1 "$port" pwuser appdb 50 2>&1) || fail "$out"; note "$out"
    out=$(secwire wrong-passwords 127.0.0.1 "$port" nosuchuser appdb 50 2>&1) || fail "$out"; note "$out"
    # the right password still works after all that
    out=$(PGPASSWORD=scrampass px_psql "$port" -U scramuser -qAt -c "SELECT current_user" 2>&1) || fail "$out"
    assert_eq scramuser "$out" "right password after 350 wrong ones"
    # SCRAM messages with bad nonces, proofs, iteration counts, channel binding
    out=$(secwire scram-abuse 127.0.0.1 "$port" scramuser appdb scrampass 2>&1) || fail "SCRAM abuse: $out"
    note "$out"
    out=$(secwire scram-abuse 127.0.0.1 "$port" nosuchuser appdb whatever 2>&1) || true
    assert_contains "$out" "wrong-proof: FATAL 28P01" "unknown user's SCRAM fails like a wrong password"
    assert_contains "$out" "nonce-not-ours: FATAL 08P01" "unknown user's bad nonce is a protocol error"
    # no password ever appears in the log
    if grep -E 'scrampass|md5pass|pwpass|wrong-[0-9]+' "$PX_LOG" | head -n 3 | grep -q .; then
        fail "a password appears in the log: $(grep -E 'scrampass|md5pass|pwpass|wrong-[0-9]+' "$PX_LOG" | head -n 2)"
    fi
    bg_pgbench_stop
    px_assert_alive bada
}

it_test bad_input_connect_cycles 300
t_bad_input_connect_cycles() {
    needs_pgpoold
    bad_start badc max_pool=8
    local port=$PX_PORT pid=$PX_PID fd0 fd1 rss0 rss1 out p1 p2 rc=0
    bg_pgbench_start "$port"
    # warm up: pools, buffers and the allocator reach their working size
    secwire cycles 127.0.0.1 "$port" 500 > /dev/null 2>&1 || fail "warm-up cycles failed"
    sleep 1
    fd0=$(fd_count "$pid"); rss0=$(rss_kb "$pid")
    secwire cycles 127.0.0.1 "$port" 5000 > "$WORK/cyc1.out" 2>&1 & p1=$!
    secwire cycles 127.0.0.1 "$port" 5000 > "$WORK/cyc2.out" 2>&1 & p2=$!
    bg_wait "$p1" 240 || rc=$?
    bg_wait "$p2" 240 || rc=$?
    cat "$WORK/cyc1.out" "$WORK/cyc2.out" >&2
    [ "$rc" = 0 ] || fail "10,000 connect/disconnect cycles failed (exit $rc)"
    bg_pgbench_stop
    # the sessions are gone; what is left is the pool
    wait_until 15 '[ "$(fd_count '"$pid"')" -le $((fd0 + 4)) ]' || true
    sleep 1
    fd1=$(fd_count "$pid"); rss1=$(rss_kb "$pid")
    note "pgpoold fds: $fd0 before, $fd1 after 10,000 cycles; VmRSS: $rss0 kB before, $rss1 kB after"
    [ "$fd1" -le $((fd0 + 4)) ] || { ls -l "/proc/$pid/fd" >&2; fail "file descriptors grew from $fd0 to $fd1"; }
    if px_sanitized; then
        note "sanitizer build: RSS bound not checked (leaks are LeakSanitizer's job there)"
    else
        [ "$rss1" -le $((rss0 + 8192)) ] || fail "VmRSS grew from $rss0 kB to $rss1 kB over 10,000 cycles (bound: +8 MB)"
    fi
    px_assert_alive badc
    assert_serving "$port"
}

# terminate_when_running MARKER PID WHAT [CONDITION] : once the query marked
# /* MARKER */ runs (CONDITION: more SQL on pg_stat_activity), let it work
# for a second, then terminate its backend; PID (the client) is killed and
# the test fails if it never starts.
terminate_when_running() {
    local where="query LIKE '%$1%' AND pid <> pg_backend_pid()${4:+ AND $4}"
    wait_until 15 "[ \"\$(asql \"SELECT count(*) FROM pg_stat_activity WHERE $where\")\" = 1 ]" \
        || { kill -KILL "$2"; fail "$3 did not start"; }
    sleep 1
    asql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $where" >/dev/null
}

it_test bad_input_backend_killed 150
t_bad_input_backend_killed() {
    needs_pgpoold
    bad_start badk
    local port=$PX_PORT pid rc=0 err n
    asql "DROP TABLE IF EXISTS killcopy; CREATE TABLE killcopy (i int, t text); ALTER TABLE killcopy OWNER TO app" appdb >/dev/null
    bg_pgbench_start "$port"
    # mid-result: a long result stream, its backend terminated from another session
    px_psql "$port" -v VERBOSITY=verbose -c "SELECT i, repeat('x', 500), pg_sleep(0.0005) FROM generate_series(1, 40000) i /* kill-mid-result */" \
        > /dev/null 2> "$WORK/kill1.err" &
    pid=$!
    terminate_when_running kill-mid-result "$pid" "the long query" "state = 'active'"
    bg_wait "$pid" 20 || rc=$?
    err=$(cat "$WORK/kill1.err"); note "mid-result client saw: $err"
    [ "$rc" != 124 ] || fail "client still waiting 20 s after its backend was terminated mid-result"
    [ "$rc" != 0 ] || fail "client did not see an error mid-result"
    assert_match "$err" "57P01: terminating connection due to administrator command|server closed the connection unexpectedly" \
        "mid-result: the client is told as by PostgreSQL"
    # mid-COPY FROM STDIN: rows trickle in, the backend is terminated
    rc=0
    # (bounded in time, not in lines: psql reads its input to the end even
    # after the error, and a loaded machine stretches every sleep)
    ( i=0; end=$((SECONDS + 5)); while [ "$SECONDS" -lt "$end" ]; do i=$((i + 1)); printf '%d\tline %d\n' "$i" "$i"; sleep 0.02; done ) \
        | px_psql "$port" -v VERBOSITY=verbose -c "COPY killcopy FROM STDIN /* kill-mid-copy */" > /dev/null 2> "$WORK/kill2.err" &
    pid=$!
    terminate_when_running kill-mid-copy "$pid" "COPY"
    bg_wait "$pid" 30 || rc=$?
    err=$(cat "$WORK/kill2.err"); note "mid-COPY client saw: $err"
    [ "$rc" != 124 ] || fail "COPY client still waiting 30 s after its backend was terminated"
    [ "$rc" != 0 ] || fail "COPY client did not see an error"
    assert_match "$err" "57P01: terminating connection due to administrator command|server closed the connection unexpectedly|connection to server was lost" \
        "mid-COPY: the client is told"
    n=$(asql "SELECT count(*) FROM killcopy" appdb)
    assert_eq 0 "$n" "rows of the interrupted COPY"
    # mid-COPY TO STDOUT
    rc=0
    px_psql "$port" -c "COPY (SELECT i, repeat('y', 500), pg_sleep(0.0005) FROM generate_series(1, 40000) i) TO STDOUT /* kill-mid-copyout */" \
        > /dev/null 2> "$WORK/kill3.err" &
    pid=$!
    terminate_when_running kill-mid-copyout "$pid" "COPY TO"
    bg_wait "$pid" 20 || rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 0 ] || fail "COPY TO client: exit $rc after its backend was terminated"
    note "mid-COPY-TO client saw: $(cat "$WORK/kill3.err")"
    bg_pgbench_stop
    for n in 1 2 3; do assert_serving "$port" "proxy after backends were killed"; done
    px_assert_alive badk
}

it_test bad_input_pcp 120
t_bad_input_pcp() {
    needs_pgpoold
    local pcpd=$BUILD_DIR/pcpd/pcpd tool=$BUILD_DIR/tools/pcp_node_count out pcp_port pcpd_pid i fd0 fd1
    [ -x "$pcpd" ] || skip "pcpd not built"
    bad_start badp
    bg_pgbench_start "$PX_PORT"
    pcp_port=$(sed -n 's/^pcp_port = \([0-9]*\);/\1/p' "$PX_CONF")
    printf 'pcpadmin:%s\n' "$(printf secret | md5sum | cut -d' ' -f1)" > "$PX_DIR/pcp.conf"
    printf '*:%s:pcpadmin:secret\n' "$pcp_port" > "$PX_DIR/pcppass"
    chmod 600 "$PX_DIR/pcppass"
    ${PGPOOLD_WRAPPER:-} "$pcpd" -n -f "$PX_CONF" >>"$PX_DIR/pcpd.log" 2>&1 </dev/null &
    pcpd_pid=$!
    echo "$pcpd_pid pcpd" >> "$WORK/pids.test"
    echo "$PX_DIR/pcpd.log" >> "$WORK/logs.test"
    wait_until 10 "(exec 3<>/dev/tcp/127.0.0.1/$pcp_port) 2>/dev/null" || fail "pcpd did not start: $(tail -n 5 "$PX_DIR/pcpd.log")"
    PCPPASSFILE=$PX_DIR/pcppass timeout 10 "$tool" -h 127.0.0.1 -p "$pcp_port" -U pcpadmin -w >/dev/null \
        || fail "pcp_node_count before the abuse"
    fd0=$(fd_count "$pcpd_pid")
    out=$(secwire pcp-abuse 127.0.0.1 "$pcp_port" 2>&1) || fail "PCP abuse: $out"
    note "$out"
    # wrong passwords in a loop
    printf '*:%s:pcpadmin:wrong\n' "$pcp_port" > "$PX_DIR/pcppass.bad"
    chmod 600 "$PX_DIR/pcppass.bad"
    for i in $(seq 1 30); do
        out=$(PCPPASSFILE=$PX_DIR/pcppass.bad timeout 10 "$tool" -h 127.0.0.1 -p "$pcp_port" -U pcpadmin -w 2>&1) \
            && fail "pcp_node_count with a wrong password succeeded"
    done
    note "wrong PCP password: $out"
    assert_match "$out" "authentication failed|invalid password|FATAL" "a wrong PCP password is refused"
    # 20 connections that stay silent half way through a packet, then go
    local holders=()
    for i in $(seq 1 20); do
        "$PYTHON" -c 'import socket,struct,sys,time
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=5); s.sendall(b"R"+struct.pack("!i",100)+b"pc"); time.sleep(2)' "$pcp_port" &
        holders+=($!)
    done
    for i in "${holders[@]}"; do bg_wait "$i" 15 || true; done
    sleep 0.5
    PCPPASSFILE=$PX_DIR/pcppass timeout 10 "$tool" -h 127.0.0.1 -p "$pcp_port" -U pcpadmin -w >/dev/null \
        || fail "pcp_node_count after the abuse"
    pid_alive "$pcpd_pid" || fail "pcpd died"
    wait_until 10 '[ "$(fd_count '"$pcpd_pid"')" -le '"$((fd0 + 2))"' ]' || fail "pcpd fds grew from $fd0 to $(fd_count "$pcpd_pid")"
    kill -INT "$pcpd_pid"; bg_wait "$pcpd_pid" 15 || true
    bg_pgbench_stop
    px_assert_alive badp
}
