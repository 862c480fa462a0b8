#!/usr/bin/env bash
# t/integration/test_pcp.sh - pcpd and the pcp_* tools, without PostgreSQL.
#
#   t/integration/test_pcp.sh BUILD_DIR [REGEX]
#
# pcpd serves a status segment made by t/integration/status_fixture (which
# also plays pgpoold's failover manager), so the PCP side is tested on its
# own.  Our tools and Pgpool-II 4.3's (/usr/sbin/pcp_*, Debian's pgpool2;
# only its client tools are used) run side by side, called by the same
# name, and must print the same bytes on stdout and stderr and exit the
# same way.  Only values that change between two calls (a session's idle
# seconds) may differ: such a comparison is retried a few times.
#
# Output as t/integration/run.sh: "ok - NAME" / "not ok - NAME" per test
# (with the test's output), then "N passed, N failed[, N skipped]".
# Exit status 0 only if nothing failed.  IT_KEEP=1 keeps the work folder.
set -uo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export IT_DIR
# shellcheck source=lib.sh
. "$IT_DIR/lib.sh"

[ $# -ge 1 ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
BUILD_DIR=$(cd "$1" && pwd) || { echo "test_pcp.sh: no such build dir: $1" >&2; exit 2; }
FILTER=${2:-}
export BUILD_DIR
PCPD=$BUILD_DIR/pcpd/pcpd
FIXTURE=$BUILD_DIR/t/integration/status_fixture
OURS=$BUILD_DIR/tools
REF=${PCP_REF_DIR:-/usr/sbin}
for f in "$PCPD" "$FIXTURE" "$OURS/pcp_tool"; do
    [ -x "$f" ] || { echo "not ok - setup: $f not built"; echo "0 passed, 1 failed"; exit 1; }
done
HAVE_REF=0
[ -x "$REF/pcp_node_info" ] && HAVE_REF=1

WORK=$(mktemp -d /tmp/pgpoold-pcp.XXXXXX) || exit 1
export WORK
cleanup() {
    local pid
    for pid in $(cat "$WORK"/*.pid 2>/dev/null); do
        pid_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.2
    for pid in $(cat "$WORK"/*.pid 2>/dev/null); do
        pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    if [ "${IT_KEEP:-0}" = 1 ]; then echo "# work directory kept: $WORK" >&2; else rm -rf -- "$WORK"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- setup
PCP_PORT=$(pgc_pick_port 26898 26908 26918 26928 26938) || { echo "not ok - setup: no free port"; exit 1; }
PG_PORT=$((PCP_PORT + 1))      # only names the instance: nothing listens there
export PCP_PORT
CONF=$WORK/pgpool-pcptest.conf
cat > "$CONF" <<EOF
listen_addresses = "127.0.0.1";
port = $PG_PORT;
pcp_listen_addresses = "127.0.0.1";
pcp_port = $PCP_PORT;
pcp_socket_dir = "/tmp";
max_clients = 3;
logdir = "$WORK";
backends = (
  { hostname = "127.0.0.1"; port = 25435; weight = 1.0; application_name = "primary"; },
  { hostname = "127.0.0.1"; port = 25436; weight = 1.0; application_name = "standby"; }
);
EOF
printf 'pcpadmin:%s\n' "$(printf secret | md5sum | cut -d' ' -f1)" > "$WORK/pcp.conf"
{
    echo "localhost:$PCP_PORT:pcpadmin:secret"
    echo "127.0.0.1:$PCP_PORT:pcpadmin:secret"
} > "$WORK/pcppass"
chmod 600 "$WORK/pcppass"
export PCPPASSFILE=$WORK/pcppass
export TZ=UTC
TCP=(-h 127.0.0.1 -p "$PCP_PORT" -U pcpadmin -w)
UNIX=(-p "$PCP_PORT" -U pcpadmin -w)

# fixture_start [ARGS]: a fresh segment with the fixture's values.
fixture_start() {
    fixture_stop
    rm -f "$WORK/ready"
    "$FIXTURE" -f "$CONF" --ready-file="$WORK/ready" --fixed-time=1764201600 "$@" \
        >>"$WORK/fixture.log" 2>&1 &
    echo $! > "$WORK/fixture.pid"
    wait_until 10 "[ -f '$WORK/ready' ]" || fail "status_fixture did not start"
}
fixture_stop() {
    local pid
    pid=$(cat "$WORK/fixture.pid" 2>/dev/null) || return 0
    # (tests run under set -e: a process that exits on its own between the
    # check and the kill, e.g. after pcp_stop_pgpool, is not a failure)
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_exit "$pid" 10 || { echo "# fixture $pid ignored SIGTERM for 10 s: killed" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$WORK/fixture.pid"
}
# pcpd_start [ARGS]
pcpd_start() {
    pcpd_stop
    "$PCPD" -n -f "$CONF" "$@" >>"$WORK/pcpd.log" 2>&1 &
    echo $! > "$WORK/pcpd.pid"
    wait_until 10 "[ -S /tmp/.s.PGSQL.$PCP_PORT ]" || fail "pcpd did not start"
}
pcpd_stop() {
    local pid
    pid=$(cat "$WORK/pcpd.pid" 2>/dev/null) || return 0
    # (tests run under set -e: a process that exits on its own between the
    # check and the kill, e.g. after pcp_stop_pgpool, is not a failure)
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_exit "$pid" 10 || { echo "# pcpd $pid ignored SIGTERM for 10 s: killed" >&2; kill -KILL "$pid" 2>/dev/null || true; }
    fi
    rm -f "$WORK/pcpd.pid"
}
pcpd_alive() { pid_alive "$(cat "$WORK/pcpd.pid" 2>/dev/null)"; }

# run_tool DIR NAME ARGS... : run a tool by its own name; stdout/stderr/rc
# land in $WORK/run.{out,err,rc}.
run_tool() {
    local dir=$1 name=$2 rc=0; shift 2
    ( exec -a "$name" "$dir/$name" "$@" ) >"$WORK/run.out" 2>"$WORK/run.err" </dev/null || rc=$?
    echo "$rc" > "$WORK/run.rc"
}
ours() { run_tool "$OURS" "$@"; }
# ours_text NAME ARGS... : our tool's stdout+stderr
ours_text() { ours "$@"; cat "$WORK/run.out" "$WORK/run.err"; }

needs_ref() { [ "$HAVE_REF" = 1 ] || skip "Pgpool-II's pcp tools not installed ($REF)"; }

# Sleep to the start of the next second: two calls made right after it see
# the same clock seconds (a session's idle seconds are part of the output).
next_second() {
    local ns
    ns=$(date +%N)
    sleep "0.$(printf '%09d' $((1000000000 - 10#$ns)))"
}

# same NAME ARGS... : ours and Pgpool-II's print the same bytes and exit alike.
same() {
    local try
    for try in 1 2 3 4 5 6; do
        [ "$1" = pcp_proc_info ] && next_second
        run_tool "$REF" "$@"
        mv "$WORK/run.out" "$WORK/ref.out"; mv "$WORK/run.err" "$WORK/ref.err"; mv "$WORK/run.rc" "$WORK/ref.rc"
        run_tool "$OURS" "$@"
        if cmp -s "$WORK/ref.out" "$WORK/run.out" && cmp -s "$WORK/ref.err" "$WORK/run.err" &&
           cmp -s "$WORK/ref.rc" "$WORK/run.rc"; then
            return 0
        fi
        sleep 0.3
    done
    echo "FAIL: $* differs from Pgpool-II's (rc $(cat "$WORK/ref.rc") vs $(cat "$WORK/run.rc"))" >&2
    diff "$WORK/ref.out" "$WORK/run.out" | head -n 20 >&2
    diff "$WORK/ref.err" "$WORK/run.err" | head -n 20 >&2
    exit 1
}

# A raw PCP exchange: pcp_raw HEX... sends the packets (hex), prints what
# came back as hex, "EOF" when the server closed.
pcp_raw() {
    "${PYTHON:-python3}" - "$PCP_PORT" "$@" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
for h in sys.argv[2:]:
    s.sendall(bytes.fromhex(h))
    time.sleep(0.05)
out = b""
s.settimeout(1.5)
closed = False
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        out += d
except socket.timeout:
    pass
print(out.hex())
if closed:
    print("EOF")
PY
}
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# ---------------------------------------------------------------- tests
TESTS=()
it_test() { TESTS+=("$1"); }

it_test read_commands_match_pgpool
t_read_commands_match_pgpool() {
    needs_ref
    local cmd v
    local -a cmds=("pcp_node_count" "pcp_node_info" "pcp_node_info -n 1" "pcp_node_info 0"
                   "pcp_node_info -n 7" "pcp_health_check_stats 0" "pcp_health_check_stats -n 1"
                   "pcp_health_check_stats 2" "pcp_health_check_stats 3" "pcp_pool_status"
                   "pcp_proc_count" "pcp_proc_info" "pcp_watchdog_info" "pcp_watchdog_info 0")
    for cmd in "${cmds[@]}"; do
        for v in "" "-v" "-d"; do
            # shellcheck disable=SC2086
            same $cmd $v "${TCP[@]}"
        done
    done
    same pcp_proc_info -a "${TCP[@]}"
    same pcp_proc_info -a -v "${TCP[@]}"
    same pcp_node_info -a "${TCP[@]}"
    local pid
    pid=$(cat "$WORK/fixture.pid")
    same pcp_proc_info -P "$pid" "${TCP[@]}"
    same pcp_proc_info "$pid" -v "${TCP[@]}"
    same pcp_proc_info -P 1 "${TCP[@]}"
    # the default unix socket (/tmp) and an explicit socket folder
    same pcp_node_info "${UNIX[@]}"
    same pcp_node_count -v -h /tmp "${UNIX[@]}"
    same pcp_node_info -v "${UNIX[@]}"
}

it_test option_errors_match_pgpool
t_option_errors_match_pgpool() {
    needs_ref
    local a
    local -a cases=("pcp_node_count -a" "pcp_node_count --scope=x" "pcp_node_count --switchover"
        "pcp_node_count --bogus" "pcp_node_count --s" "pcp_node_count --p" "pcp_node_count -p"
        "pcp_node_count -p abc" "pcp_node_count -p 1024" "pcp_node_info -n abc" "pcp_node_info -n -1"
        "pcp_node_info -n 129" "pcp_node_info 1x 2" "pcp_health_check_stats" "pcp_attach_node"
        "pcp_detach_node -n" "pcp_proc_info 0" "pcp_proc_info -P -3" "pcp_watchdog_info -n -2"
        "pcp_watchdog_info 2 3" "pcp_promote_node -s" "pcp_reload_config -s bogus"
        "pcp_stop_pgpool -m bogus" "pcp_stop_pgpool -s bogus" "pcp_node_count --verbose=1"
        "pcp_node_count x --help" "pcp_node_count x -V" "pcp_promote_node --mode=x 1")
    for a in "${cases[@]}"; do
        # shellcheck disable=SC2086
        same $a "${TCP[@]}"
    done
    run_tool "$OURS" pcp_tool -w
    assert_eq "pcp_tool is a invalid PCP utility" "$(cat "$WORK/run.err")" "unknown tool name"
    assert_eq 1 "$(cat "$WORK/run.rc")" "unknown tool name exit status"
}

it_test connection_errors_match_pgpool
t_connection_errors_match_pgpool() {
    needs_ref
    same pcp_node_count -h 127.0.0.1 -p 26897 -w
    same pcp_node_count -p 26897 -w
    same pcp_node_count -h /nonexistent -p "$PCP_PORT" -w
    same pcp_node_count -h nosuchhost.invalid -p "$PCP_PORT" -w
}

it_test authentication
t_authentication() {
    needs_ref
    # right password from a 0600 .pcppass
    same pcp_node_count "${TCP[@]}"
    assert_eq "2" "$(cat "$WORK/run.out")" "node count with .pcppass 0600"
    # wrong password, unknown user: Pgpool-II's FATAL text, exit 1
    printf '*:*:*:wrong\n' > "$WORK/pcppass.wrong"; chmod 600 "$WORK/pcppass.wrong"
    PCPPASSFILE=$WORK/pcppass.wrong same pcp_node_count "${TCP[@]}"
    assert_eq 1 "$(cat "$WORK/run.rc")" "wrong password exit status"
    assert_contains "$(cat "$WORK/run.err")" 'FATAL:  authentication failed for user "pcpadmin"' "wrong password"
    same pcp_node_info -h 127.0.0.1 -p "$PCP_PORT" -U nosuchuser -w
    assert_contains "$(cat "$WORK/run.err")" "DETAIL:  username and/or password does not match" "unknown user"
    # .pcppass with group/other bits is ignored (warning only with -d)
    cp "$WORK/pcppass" "$WORK/pcppass.644"; chmod 644 "$WORK/pcppass.644"
    PCPPASSFILE=$WORK/pcppass.644 same pcp_node_count "${TCP[@]}"
    assert_eq 1 "$(cat "$WORK/run.rc")" ".pcppass 0644 is ignored"
    PCPPASSFILE=$WORK/pcppass.644 same pcp_node_count -d "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.out")" "has group or world access" ".pcppass 0644 warning with -d"
    # not a file; absent; '*' and escapes
    PCPPASSFILE=$WORK same pcp_node_count -d "${TCP[@]}"
    PCPPASSFILE=$WORK/none same pcp_node_count "${TCP[@]}"
    printf 'x:*:*:no\n*:%s:pcpadmin:sec\\ret\n' "$PCP_PORT" > "$WORK/pcppass.esc"; chmod 600 "$WORK/pcppass.esc"
    PCPPASSFILE=$WORK/pcppass.esc same pcp_node_count "${TCP[@]}"
    assert_eq 0 "$(cat "$WORK/run.rc")" "escaped .pcppass entry"
    # the default unix socket matches the "localhost" line
    same pcp_node_count "${UNIX[@]}"
    assert_eq 0 "$(cat "$WORK/run.rc")" "localhost entry for the unix socket"
    grep -q 'PCP authentication failed for user "nosuchuser"' "$WORK/pcpd.log" || fail "pcpd did not log the failed login"
}

# The same sequence of changes, once with Pgpool-II's tools and once with
# ours, each on a fresh fixture: every step must print the same.
change_sequence() {
    local dir=$1 out=$2 step
    local -a steps=("pcp_detach_node 1" "pcp_node_info -n 1" "pcp_detach_node 1" "pcp_attach_node 1"
        "pcp_detach_node -g 1" "pcp_attach_node -n 1" "pcp_detach_node 128" "pcp_attach_node 128"
        "pcp_attach_node 5" "pcp_promote_node 0" "pcp_promote_node -s 1" "pcp_node_info"
        "pcp_promote_node 5" "pcp_recovery_node 1" "pcp_recovery_node 0" "pcp_reload_config"
        "pcp_reload_config -s cluster" "pcp_health_check_stats 1" "pcp_stop_pgpool -m fast")
    : > "$out"
    for step in "${steps[@]}"; do
        # shellcheck disable=SC2086
        run_tool "$dir" $step "${TCP[@]}"
        { echo "== $step (exit $(cat "$WORK/run.rc"))"; cat "$WORK/run.out"; echo "-- stderr"; cat "$WORK/run.err"; } >> "$out"
    done
}

it_test changes_match_pgpool
t_changes_match_pgpool() {
    needs_ref
    fixture_start
    change_sequence "$REF" "$WORK/changes.ref"
    fixture_start
    change_sequence "$OURS" "$WORK/changes.ours"
    # node info lines carry the time of the change: compare them by shape
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}/<time>/' "$WORK/changes.ref" > "$WORK/changes.ref.n"
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}/<time>/' "$WORK/changes.ours" > "$WORK/changes.ours.n"
    if ! diff "$WORK/changes.ref.n" "$WORK/changes.ours.n" >&2; then
        fail "changes print differently"
    fi
    # what they did
    assert_contains "$(cat "$WORK/changes.ours")" "pcp_detach_node -- Command Successful" "detach"
    assert_contains "$(cat "$WORK/changes.ours")" "invalid degenerate backend request, node id : 1 status: [3] is not valid for failover" "detach of a down node"
    assert_contains "$(cat "$WORK/changes.ours")" "specified node is already primary node, can't promote node id 0" "promote the primary"
    assert_contains "$(cat "$WORK/changes.ours")" "recovery_1st_stage_command is not configured" "recovery"
    assert_contains "$(cat "$WORK/changes.ours")" "pcp_stop_pgpool -- Command Successful" "stop"
    wait_until 5 '! pid_alive "$(cat "$WORK/fixture.pid")"' || fail "the stop request did not stop the fixture"
    fixture_start
}

it_test pgpoold_absent_and_restarted
t_pgpoold_absent_and_restarted() {
    fixture_stop
    # the last known state is still answered, changes are refused clearly
    ours pcp_node_info "${TCP[@]}"
    assert_eq 2 "$(wc -l < "$WORK/run.out")" "node info from the last known segment"
    ours pcp_attach_node 1 "${TCP[@]}"
    assert_eq "ERROR:  pgpoold is not running" "$(head -n1 "$WORK/run.err")" "attach while pgpoold is down"
    ours pcp_proc_count "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.err")" "pgpoold is not running" "process count while pgpoold is down"
    [ "$HAVE_REF" = 1 ] && same pcp_detach_node 0 "${TCP[@]}"
    # a new pgpoold (new segment): pcpd follows it
    fixture_start
    ours pcp_proc_count "${TCP[@]}"
    assert_eq "$(cat "$WORK/fixture.pid") " "$(cat "$WORK/run.out")" "process count names the new pgpoold"
    ours pcp_detach_node 1 "${TCP[@]}"
    assert_eq "pcp_detach_node -- Command Successful" "$(cat "$WORK/run.out")" "detach after the restart"
    # a crashed one (SIGKILL): stale segment replaced by the next
    kill -KILL "$(cat "$WORK/fixture.pid")"
    sleep 0.2
    ours pcp_attach_node 1 "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.err")" "pgpoold is not running" "attach after a crash"
    fixture_start
    ours pcp_node_info -n 1 "${TCP[@]}"
    assert_match "$(cat "$WORK/run.out")" "^127\.0\.0\.1 25436 2 " "fresh segment after the crash"
    pcpd_alive || fail "pcpd died"
}

it_test request_timeouts
t_request_timeouts() {
    fixture_start --no-manager
    pcpd_start -t 1
    local t0=$SECONDS
    ours pcp_attach_node 1 "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.err")" "ERROR:  pgpoold did not answer the request" "no manager"
    assert_contains "$(cat "$WORK/run.err")" "not taken within 1 seconds and has been withdrawn" "withdrawn"
    [ $((SECONDS - t0)) -le 4 ] || fail "the timeout took $((SECONDS - t0)) s"
    fixture_start --slow-ms=2500
    ours pcp_detach_node 1 "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.err")" "pgpoold did not finish the request in time" "slow manager"
    sleep 2
    ours pcp_node_info -n 1 "${TCP[@]}"
    assert_match "$(cat "$WORK/run.out")" " 3 0\.500000 down " "the slow detach still happened"
    fixture_start
    pcpd_start
}

it_test malformed_packets
t_malformed_packets() {
    local out
    # oversized length: FATAL "invalid PCP packet" + close
    out=$(pcp_raw 490000012c)
    assert_contains "$out" "$(hexof 'Minvalid PCP packet')" "oversized packet"
    assert_contains "$out" "$(hexof 'Dincorrect packet length (300)')" "oversized packet detail"
    assert_contains "$out" "EOF" "closed after FATAL"
    # a command before authentication
    out=$(pcp_raw 4c00000004)
    assert_contains "$out" "$(hexof 'authentication failed for new PCP connection')" "unauthenticated"
    assert_contains "$out" "EOF" "closed"
    # R without M
    out=$(pcp_raw "52000000$(printf '%02x' 15)$(hexof 'u')00$(hexof 'abcdefgh')00")
    assert_contains "$out" "$(hexof 'no salt was requested')" "R without a salt"
    # truncated packet then the peer leaves; a length field alone; garbage
    pcp_raw 4900000010 >/dev/null
    pcp_raw 49 >/dev/null
    pcp_raw ffffffffffffffffffff >/dev/null
    # an R packet missing its NUL
    out=$(pcp_raw 4d00000004 "520000000a$(hexof 'pcpad')00")
    assert_contains "$out" "EOF" "malformed auth closes"
    pcpd_alive || fail "pcpd died on malformed input"
    ours pcp_node_count "${TCP[@]}"
    assert_eq 2 "$(cat "$WORK/run.out")" "pcpd still serves"
}

it_test authenticated_protocol_errors
t_authenticated_protocol_errors() {
    # log in with the spec's exchange done by python, then odd requests
    local out
    out=$("${PYTHON:-python3}" - "$PCP_PORT" <<'PY'
import hashlib, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
def send(t, p=b""): s.sendall(t + struct.pack(">i", len(p) + 4) + p)
def recv():
    h = b""
    while len(h) < 5: h += s.recv(5 - len(h))
    n = struct.unpack(">i", h[1:5])[0] - 4
    p = b""
    while len(p) < n: p += s.recv(n - len(p))
    return h[:1], p
send(b"M"); t, salt = recv()
md5 = lambda b: hashlib.md5(b).hexdigest()
resp = md5((md5((md5(b"secret") + "pcpadmin").encode())).encode() + salt)
send(b"R", b"pcpadmin\0" + resp.encode() + b"\0"); print(recv())
send(b"I", b"1"); print(recv())                     # no NUL: ERROR, stays open
send(b"A", b"client_min_messages\0debug1\0"); print(recv())
send(b"A", b"log_statement\0on\0"); print(recv())
send(b"T", b"x"); print(recv())                     # bad shutdown mode
send(b"I", b"-1\0")
while True:
    t, p = recv(); print(t, p[:20])
    if p == b"CommandComplete\0": break
send(b"?"); print(recv())                           # unknown type: FATAL
print(s.recv(10) == b"")
PY
)
    echo "$out"
    assert_contains "$out" "invalid PCP packet" "unterminated argument"
    assert_contains "$out" "(b'a', b'CommandComplete\\x00')" "set client_min_messages"
    assert_contains "$out" "cannot be set over PCP" "set another parameter"
    assert_contains "$out" 'invalid shutdown mode "x"' "bad shutdown mode"
    assert_contains "$out" "unknown PCP packet type" "unknown type"
    assert_contains "$out" "True" "closed after the unknown type"
}

it_test concurrent_clients
t_concurrent_clients() {
    local i pids=() bad=0
    for i in $(seq 1 24); do
        ( exec -a pcp_node_info "$OURS/pcp_node_info" "${TCP[@]}" >"$WORK/cc.$i" 2>&1 ) &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
    [ "$bad" = 0 ] || fail "$bad of 24 concurrent clients failed"
    for i in $(seq 1 24); do
        [ "$(wc -l < "$WORK/cc.$i")" = 2 ] || { cat "$WORK/cc.$i" >&2; fail "client $i got no node info"; }
    done
    # one client holding a connection open does not block the others
    "${PYTHON:-python3}" -c "import socket,time; s=socket.create_connection(('127.0.0.1',$PCP_PORT)); s.send(b'M'); time.sleep(3)" &
    local holder=$!
    sleep 0.3
    local t0=$SECONDS
    ours pcp_node_count "${TCP[@]}"
    assert_eq 2 "$(cat "$WORK/run.out")" "served while another client stalls"
    [ $((SECONDS - t0)) -le 1 ] || fail "a stalled client delayed the others"
    wait "$holder" 2>/dev/null
}

it_test json_output
t_json_output() {
    local c i=0
    local -a cmds=("pcp_node_count" "pcp_node_info" "pcp_node_info -n 1" "pcp_health_check_stats 0"
        "pcp_pool_status" "pcp_proc_count" "pcp_proc_info" "pcp_proc_info -a" "pcp_watchdog_info"
        "pcp_attach_node 1" "pcp_node_info -n 9" "pcp_reload_config")
    for c in "${cmds[@]}"; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        ours $c --json "${TCP[@]}"
        cp "$WORK/run.out" "$WORK/json.$i"
    done
    "${PYTHON:-python3}" -c '
import json, sys
for f in sys.argv[1:]:
    try:
        json.load(open(f))
    except ValueError as e:
        sys.exit("%s: %s: %r" % (f, e, open(f).read()))' "$WORK"/json.* || fail "--json output is not JSON"
    ours pcp_node_info --json "${TCP[@]}"
    assert_eq "2" "$("${PYTHON:-python3}" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["nodes"]))' "$WORK/run.out")" "two nodes"
    assert_contains "$(cat "$WORK/run.out")" '"role":"primary"' "roles in JSON"
    ours pcp_node_info -n 9 --json "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.out")" '"detail":"invalid node ID : 9"' "errors in JSON"
    assert_eq "" "$(cat "$WORK/run.err")" "nothing on stderr with --json"
    ours pcp_health_check_stats 0 --json "${TCP[@]}"
    assert_contains "$(cat "$WORK/run.out")" '"total_count":3' "numbers are numbers"
    ours pcp_node_count --json -h 127.0.0.1 -p 26897 -w
    assert_contains "$(cat "$WORK/run.out")" '"status":"error"' "connection error in JSON"
    assert_eq 1 "$(cat "$WORK/run.rc")" "exit status as without --json"
}

it_test pcpd_command_line
t_pcpd_command_line() {
    "$PCPD" --help | grep -q -- "--request-timeout" || fail "pcpd --help"
    "$PCPD" --version | grep -q "^pcpd (pgpoold) " || fail "pcpd --version"
    "$PCPD" -n -f /nonexistent.conf >/dev/null 2>&1 && fail "pcpd started without a config file"
    "$PCPD" -n -f "$CONF" --compat=9.9 >/dev/null 2>&1 && fail "pcpd accepted --compat=9.9"
    # a second pcpd on the same socket refuses to start
    local rc=0
    timeout 5 "$PCPD" -n -f "$CONF" >"$WORK/second.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "second pcpd: exit $rc"
    grep -q -E "listening on|could not listen" "$WORK/second.log" || { cat "$WORK/second.log" >&2; fail "second pcpd message"; }
    # SIGHUP reloads without dropping the service
    kill -HUP "$(cat "$WORK/pcpd.pid")"
    sleep 0.3
    ours pcp_node_count "${TCP[@]}"
    assert_eq 2 "$(cat "$WORK/run.out")" "after SIGHUP"
    grep -q "received SIGHUP" "$WORK/pcpd.log" || fail "SIGHUP not logged"
}

it_test compat_44_layout
t_compat_44_layout() {
    pcpd_start --compat=4.4
    ours pcp_node_info -n 1 "${TCP[@]}"
    assert_match "$(cat "$WORK/run.out")" "^127\.0\.0\.1 25436 2 0\.500000 up up standby standby 0 streaming async " "13-field layout read"
    pcpd_start
}

# ---------------------------------------------------------------- run
fixture_start
pcpd_start
echo "# pcpd on 127.0.0.1:$PCP_PORT and /tmp/.s.PGSQL.$PCP_PORT; Pgpool-II tools: $( [ "$HAVE_REF" = 1 ] && "$REF/pcp_node_info" --version 2>&1 || echo none)"
PASSED=0; FAILED=0; SKIPPED=0
for name in "${TESTS[@]}"; do
    if [ -n "$FILTER" ] && ! printf '%s' "$name" | grep -Eq -- "$FILTER"; then continue; fi
    out=$WORK/$name.out
    t0=$SECONDS
    ( set -e; "t_$name" ) >"$out" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
        PASSED=$((PASSED + 1)); echo "ok - $name ($((SECONDS - t0))s)"
    elif [ "$rc" = 77 ]; then
        SKIPPED=$((SKIPPED + 1)); echo "ok - $name # SKIP $(grep '^SKIP:' "$out" | head -n1 | sed 's/^SKIP: //')"
    else
        FAILED=$((FAILED + 1)); echo "not ok - $name (exit $rc)"
        tail -n 40 "$out" | sed 's/^/#   /'
        echo "#   --- tail of pcpd.log"; tail -n 10 "$WORK/pcpd.log" | sed 's/^/#     /'
    fi
    pcpd_alive || { echo "#   pcpd died during $name; restarting"; pcpd_start; }
    [ -f "$WORK/fixture.pid" ] && pid_alive "$(cat "$WORK/fixture.pid")" || fixture_start
done
if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
    echo "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" = 0 ]
