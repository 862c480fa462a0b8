# shellcheck shell=bash
# Health checks, failover and the status segment (issue 4).  Every test
# that stops a server makes its own primary (node 0) + streaming standby
# (node 1) with ha_cluster (lib-ha.sh), on its own ports, and stops them when
# it ends.  failover_command is DIR/failover.sh: it logs its arguments and
# promotes the new main node with pg_ctl promote.
#
# Printed measurements (# lines): kill of the primary -> first successful
# write through pgpoold; kill of the standby -> last read error; number of
# committed ids checked on the new primary.

# shellcheck source=lib-ha.sh
. "$IT_DIR/lib-ha.sh"

# "id:status:role" of every node in SHOW pool_nodes through PORT.
fo_nodes() {   # PORT
    px_psql "$1" -qAt -c "SHOW pool_nodes" 2>/dev/null | awk -F'|' '{ printf "%s%s:%s:%s", (NR > 1 ? " " : ""), $1, $4, $7 }'
}

# Wait until node 0 is STATUS0 and node 1 the primary and up.
fo_wait_nodes() {   # PORT STATUS0 SECONDS
    wait_until "$3" "[ \"\$(fo_nodes $1)\" = '0:$2:standby 1:up:primary' ]"
}

it_test failover_primary_under_pgbench 150
t_failover_primary_under_pgbench() {
    needs_pgpoold
    local port out t0 t1 pgb tries=0 i
    ha_cluster "$WORK/ha-fo"
    ha_sql 0 "CREATE TABLE fo_t (id bigserial PRIMARY KEY, v int, port int DEFAULT inet_server_port()); ALTER TABLE fo_t OWNER TO app" >/dev/null
    ha_px_start fo 1 1
    port=$PX_PORT
    echo "INSERT INTO fo_t (v) VALUES (1);" > "$WORK/out/fo_insert.sql"
    timeout -k 5 60 "$PGBENCH" -n -c 4 -j 2 -T 12 -f "$WORK/out/fo_insert.sql" \
        -h 127.0.0.1 -p "$port" -U app appdb > "$WORK/out/fo_pgbench.out" 2>&1 &
    pgb=$!
    wait_until 15 '[ "$(ha_sql 0 "SELECT count(*) FROM fo_t")" -gt 200 ]' \
        || fail "pgbench does not write through pgpoold: $(cat "$WORK/out/fo_pgbench.out")"

    t0=$(now_s)
    ha_kill 0 || fail "could not stop node 0"
    # a new session per try until a write succeeds
    while :; do
        out=$(PGCONNECT_TIMEOUT=3 PSQL_TIMEOUT=10 px_psql "$port" -qAt -c "INSERT INTO fo_t (v) VALUES (2) RETURNING port" 2>&1) && break
        tries=$((tries + 1))
        [ "$tries" -lt 600 ] || fail "no successful write within 60 s of the kill; last: $out"
        sleep 0.1
    done
    t1=$(now_s)
    note "primary failover: kill -> first successful write through pgpoold: $(elapsed "$t0" "$t1") s ($tries failed tries before)"
    assert_eq "$HA_P1" "$out" "the first write after the failover ran on node 1"
    [ "$(ha_sql 1 "SELECT pg_is_in_recovery()")" = f ] || fail "node 1 was not promoted"

    fo_wait_nodes "$port" down 10 || fail "SHOW pool_nodes: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ print $1, $4, $7 }')
    assert_eq "0 down standby
1 up primary" "$out" "SHOW pool_nodes after the failover: node 0 down, node 1 primary"
    # failover_command ran once, with Pgpool-II's placeholders
    assert_eq "0 127.0.0.1 $HA_P0 $HA_D0 1 127.0.0.1 $HA_P1 $HA_D1 0 0 127.0.0.1 $HA_P0" \
        "$(cat "$HA_DIR/failover.log")" "failover_command %d %h %p %D %m %H %r %R %M %P %N %S"

    # new sessions write
    for i in $(seq 1 10); do
        out=$(px_psql "$port" -qAt -c "INSERT INTO fo_t (v) VALUES (3) RETURNING port" 2>&1) \
            || fail "new session $i after the failover: $out"
        assert_eq "$HA_P1" "$out" "new session $i writes on node 1"
    done
    bg_wait "$pgb" 40 || true
    grep -E 'aborted|FATAL|error' "$WORK/out/fo_pgbench.out" | head -n 4 | sed 's/^/pgbench: /' >&2 || true
}

# What clients and operators are told after a primary failover: sessions
# bound to the primary (one idle, one idle inside a transaction) get a FATAL
# that names the failover; a new session works; SHOW pool_nodes describes
# the failed node as the spec says (pg_status is a live check: down; pg_role
# is unknown when pg_status is not up).
it_test failover_primary_what_clients_see 120
t_failover_primary_what_clients_see() {
    needs_pgpoold
    local port out i pids=()
    ha_cluster "$WORK/ha-st"
    ha_sql 0 "CREATE TABLE st_t (id int); ALTER TABLE st_t OWNER TO app" >/dev/null
    ha_px_start st 1 1
    port=$PX_PORT
    rm -f "$WORK"/out/st_idle.*
    RW_TIMEOUT=90 rwclient idle 127.0.0.1 "$port" app appdb "$WORK/out/st_idle.ready1" 40 \
        > "$WORK/out/st_idle.1" 2>&1 &
    pids+=($!)
    RW_TIMEOUT=90 rwclient idle 127.0.0.1 "$port" app appdb "$WORK/out/st_idle.ready2" 40 \
        BEGIN "INSERT INTO st_t VALUES (1)" > "$WORK/out/st_idle.2" 2>&1 &
    pids+=($!)
    for i in 1 2; do
        wait_until 10 "[ -f '$WORK/out/st_idle.ready$i' ]" || fail "client $i did not log in: $(cat "$WORK/out/st_idle.$i")"
    done
    ha_kill 0 || fail "could not stop node 0"
    fo_wait_nodes "$port" down 30 || fail "no failover within 30 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    out=$(px_psql "$port" -qAt -c "INSERT INTO st_t VALUES (2) RETURNING inet_server_port()" 2>&1)
    assert_eq "$HA_P1" "$out" "a new session after the failover writes on node 1"
    # (every problem is listed before the test fails)
    local problems=()
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '$1 == 0 { print $4, $5, $7, $8, $12 }')
    note "SHOW pool_nodes, failed node 0: status pg_status role pg_role replication_state = [$out]"
    [ "$out" = "down down standby unknown " ] \
        || problems+=("SHOW pool_nodes row of the failed node 0: expected [down down standby unknown ] (status, pg_status, role, pg_role, replication_state), got [$out]")
    for i in 1 2; do
        bg_wait "${pids[$((i - 1))]}" 60 || true
        note "session $i ($([ "$i" = 1 ] && echo idle || echo 'idle in transaction')) got: $(tr '\n' ';' < "$WORK/out/st_idle.$i")"
        out=$(grep '^E ' "$WORK/out/st_idle.$i" | head -n 1)
        printf '%s' "$out" | grep -Eq '^E FATAL (57P01|08[0-9A-Z]{3}) ' \
            || problems+=("session $i: expected a FATAL with 57P01 or a class 08 SQLSTATE, got [$out]")
        printf '%s' "$out" | grep -Eq '[Ff]ail(ed)? ?over' \
            || problems+=("session $i: the FATAL does not name the failover: [$out]")
    done
    [ "${#problems[@]}" = 0 ] || { printf 'FAIL: %s\n' "${problems[@]}" >&2; exit 1; }
}

it_test failover_no_lost_commits 150
t_failover_no_lost_commits() {
    needs_pgpoold
    local port i t0 pids=() total before after missing
    ha_cluster "$WORK/ha-nl" "synchronous_standby_names = 'node1'
synchronous_commit = on"
    ha_sql 0 "CREATE TABLE nl_t (id bigint PRIMARY KEY); ALTER TABLE nl_t OWNER TO app" >/dev/null
    wait_until 20 '[ "$(ha_sql 0 "SELECT sync_state FROM pg_stat_replication WHERE application_name = '"'node1'"'")" = sync ]' \
        || fail "node 1 is not a synchronous standby"
    ha_px_start nl 1 1
    port=$PX_PORT
    rm -f "$WORK"/out/nl_ids.*
    for i in 1 2 3; do
        RW_TIMEOUT=60 rwclient writer 127.0.0.1 "$port" app appdb nl_t $((i * 10000000)) 12 "$WORK/out/nl_ids.$i" \
            > "$WORK/out/nl_writer.$i" 2>&1 &
        pids+=($!)
    done
    sleep 3
    t0=$(now_s)
    ha_kill 0 || fail "could not stop node 0"
    for i in "${!pids[@]}"; do
        bg_wait "${pids[$i]}" 60 || fail "writer $i failed: $(cat "$WORK/out/nl_writer.$((i + 1))")"
    done
    cat "$WORK"/out/nl_writer.* >&2
    total=$(cat "$WORK"/out/nl_ids.* | wc -l)
    before=$(cat "$WORK"/out/nl_ids.* | awk -v t="$t0" '$2 < t' | wc -l)
    after=$((total - before))
    [ "$before" -gt 0 ] || fail "no commit before the kill"
    [ "$after" -gt 0 ] || fail "no commit after the failover"
    # every id whose commit the client saw is on the new primary
    ha_sql 1 "DROP TABLE IF EXISTS nl_check; CREATE TABLE nl_check (id bigint)" >/dev/null
    cut -d' ' -f1 "$WORK"/out/nl_ids.* | ha_sql 1 "COPY nl_check FROM STDIN" >/dev/null
    assert_eq "$total" "$(ha_sql 1 "SELECT count(*) FROM nl_check")" "ids loaded for the check"
    missing=$(ha_sql 1 "SELECT count(*) FROM nl_check c WHERE NOT EXISTS (SELECT 1 FROM nl_t t WHERE t.id = c.id)")
    note "no lost commits: $total committed ids checked on the new primary ($before committed before the kill of the primary, $after after the failover): $missing missing"
    if [ "$missing" != 0 ]; then
        ha_sql 1 "SELECT id FROM nl_check c WHERE NOT EXISTS (SELECT 1 FROM nl_t t WHERE t.id = c.id) ORDER BY id LIMIT 10" >&2
        fail "$missing committed ids are missing on the new primary"
    fi
}

it_test failover_standby_down_reads 120
t_failover_standby_down_reads() {
    needs_pgpoold
    local port out i t0 t1 pids=() session errs_after last_err first_primary n_err
    ha_cluster "$WORK/ha-sb"
    ha_px_start sb 0 1
    port=$PX_PORT
    out=$(px_psql "$port" -qAt -c "SELECT inet_server_port()")
    assert_eq "$HA_P1" "$out" "before: reads on the standby (weights 0:1)"
    rm -f "$WORK"/out/sb_reads.*
    for i in 1 2 3; do
        RW_TIMEOUT=60 rwclient reads 127.0.0.1 "$port" app appdb 8 "$WORK/out/sb_reads.$i" >/dev/null 2>&1 &
        pids+=($!)
    done
    # one long session reading every 0.2 s
    local sqls=()
    for i in $(seq 1 40); do sqls+=("SELECT pg_sleep(0.2)" "SELECT inet_server_port()"); done
    RW_TIMEOUT=60 rwclient ext 127.0.0.1 "$port" app appdb "${sqls[@]}" > "$WORK/out/sb_session.out" 2>&1 &
    session=$!
    sleep 2
    t0=$(now_s)
    ha_kill 1 || fail "could not stop node 1"
    t1=$(now_s)
    for i in "${!pids[@]}"; do bg_wait "${pids[$i]}" 60 || true; done
    bg_wait "$session" 60 || true

    cat "$WORK"/out/sb_reads.* | sort -n > "$WORK/out/sb_reads.all"
    n_err=$(grep -c ' error ' "$WORK/out/sb_reads.all" || true)
    errs_after=$(awk -v t="$t1" '$1 >= t && $2 == "error"' "$WORK/out/sb_reads.all")
    last_err=$(awk '$2 == "error" { t = $1 } END { print t }' "$WORK/out/sb_reads.all")
    first_primary=$(awk -v t="$t0" -v p="$HA_P0" '$1 >= t && $2 == "ok" && $3 == p { print $1; exit }' "$WORK/out/sb_reads.all")
    note "standby failure: $(wc -l < "$WORK/out/sb_reads.all") new-session reads, $n_err errors; kill -> last read error: $( [ -n "$last_err" ] && elapsed "$t0" "$last_err" || echo "none (0.00)") s; kill -> first read on the primary: $( [ -n "$first_primary" ] && elapsed "$t0" "$first_primary" || echo never) s"
    [ -z "$errs_after" ] || fail "new sessions started after the standby was down got errors: $(printf '%s\n' "$errs_after" | head -n 5)"
    [ -n "$first_primary" ] || fail "no read on the primary after the standby went down"
    out=$(awk -v t="$t1" '$1 >= t && $2 == "ok" && $3 != "'"$HA_P0"'"' "$WORK/out/sb_reads.all" | head -n 3)
    assert_eq "" "$out" "every read after the kill on node 0"

    # the long session: at most the read in flight at the kill failed, then
    # its reads continue on the primary
    out=$(grep -c '^ERROR' "$WORK/out/sb_session.out" || true)
    note "long session: $out error(s): $(grep '^ERROR' "$WORK/out/sb_session.out" | head -n 2 | tr '\n' ' ')"
    [ "$out" -le 1 ] || fail "the long session got $out errors: $(grep '^ERROR' "$WORK/out/sb_session.out" | head -n 3)"
    assert_eq "$HA_P0" "$(tail -n 1 "$WORK/out/sb_session.out")" "the long session's last read ran on node 0"

    wait_until 10 '[ "$(pool_nodes_field '"$port"' 1 4)" = down ]' \
        || fail "node 1 not down in SHOW pool_nodes: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ print $1, $4, $7 }')
    assert_eq "0 up primary
1 down standby" "$out" "SHOW pool_nodes after the standby failed"
    assert_eq "1 127.0.0.1 $HA_P1" "$(awk '{ print $1, $2, $3 }' "$HA_DIR/failover.log" 2>&1)" "failover_command ran once, for node 1 (%d %h %p)"
}

it_test failover_status_file_restart 150
t_failover_status_file_restart() {
    needs_pgpoold
    local port out i
    ha_cluster "$WORK/ha-sf"
    ha_px_start sf 1 1
    port=$PX_PORT
    ha_kill 0 || fail "could not stop node 0"
    fo_wait_nodes "$port" down 30 || fail "no failover within 30 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    assert_eq "down
up" "$(cat "$PX_DIR/pgpool_status" 2>&1)" "status file $PX_DIR/pgpool_status"
    px_stop sf || fail "pgpoold did not stop"
    # the old primary comes back as it was: a second primary, with stale data
    pgc_start "$HA_D0" "$HA_DIR/node0.log" >/dev/null 2>&1 || fail "node 0 did not restart"
    [ "$(ha_sql 0 "SELECT pg_is_in_recovery()")" = f ] || fail "test bug: node 0 should be a primary again"

    ha_sql 1 "CREATE TABLE sf_t (i int); ALTER TABLE sf_t OWNER TO app" >/dev/null
    px_run sf || fail "pgpoold did not restart"
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ print $1, $4 }')
    assert_eq "0 down
1 up" "$out" "after a restart the failed node 0 stays down (status file)"
    wait_until 10 '[ "$(pool_nodes_field '"$port"' 1 7)" = primary ]' || fail "node 1 is not the primary after the restart"
    for i in 1 2 3 4 5; do
        out=$(px_psql "$port" -qAt -c "INSERT INTO sf_t VALUES ($i) RETURNING inet_server_port()" 2>&1)
        assert_eq "$HA_P1" "$out" "session $i after the restart writes on node 1, not on the failed node 0"
    done
    assert_contains "$(cat "$PX_LOG")" "stays down" "the log says why node 0 stays down"
    px_stop sf || fail "pgpoold did not stop"

    # -D: the status file is forgotten, node 0 is in service again
    px_run sf -D || fail "pgpoold -D did not start"
    out=$(pool_nodes_field "$port" 0 4)
    case "$out" in up|waiting) ;; *) fail "with -D node 0 should be up or waiting, is [$out]" ;; esac
    note "after pgpoold -D node 0 is $out"
    px_stop sf || true
}

it_test failover_auto_failback 180
t_failover_auto_failback() {
    needs_pgpoold
    local port out i
    ha_cluster "$WORK/ha-af"
    ha_px_start af 1 1 auto_failback=true auto_failback_interval=1
    port=$PX_PORT
    ha_kill 0 || fail "could not stop node 0"
    fo_wait_nodes "$port" down 30 || fail "no failover within 30 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    # the old primary, re-made as a standby of the new one (walreceiver
    # application_name node0, as its backends entry says)
    ha_standby 0 1
    wait_until 30 '[ "$(ha_sql 1 "SELECT state FROM pg_stat_replication WHERE application_name = '"'node0'"'")" = streaming ]' \
        || fail "node 0 does not stream from node 1"
    # a node is "waiting" until a session uses it: the polling sessions here
    # (weights 1:1) pick it now and then
    wait_until 40 "[ \"\$(pool_nodes_field $port 0 4) \$(pool_nodes_field $port 0 7) \$(pool_nodes_field $port 0 12)\" = 'up standby streaming' ]" \
        || fail "node 0 not back up as a streaming standby within 40 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    out=$(px_psql "$port" -qAt -c "SHOW pool_nodes" | awk -F'|' '{ print $1, $4, $7 }')
    assert_eq "0 up standby
1 up primary" "$out" "SHOW pool_nodes after auto_failback"
    # and it serves reads again
    for i in $(seq 1 60); do
        out=$(px_psql "$port" -qAt -c "SELECT inet_server_port()")
        [ "$out" = "$HA_P0" ] && break
    done
    assert_eq "$HA_P0" "$out" "a read lands on the failed-back node 0"
    assert_contains "$(cat "$PX_LOG")" "auto_failback" "the log names auto_failback"
}

# A process that dies holding the segment mutex must not wedge anybody; a
# new pgpoold replaces the stale segment.  gdb stops pgpoold at
# status_unlock() (its caller holds the mutex there) and SIGKILLs it.
it_test segment_sigkill_restart 120
t_segment_sigkill_restart() {
    needs_pgpoold
    local reader=$BUILD_DIR/t/integration/segreader conf pid out watch held=0 pid2 ms
    # (built by make, with the build's flags: also under the sanitizers)
    [ -x "$reader" ] || fail "$reader is not built"
    rt_start seg 1 1
    conf=$PX_CONF
    pid=$PX_PID
    out=$(timeout 10 "$reader" -f "$conf" info)
    assert_contains "$out" "owner_pid=$pid alive=1 nodes=2" "the reader sees pgpoold's segment"
    # a reader that keeps its mapping across the crash and the restart
    timeout -k 5 40 "$reader" -f "$conf" watch 14 > "$WORK/out/seg_watch.out" 2>&1 &
    watch=$!
    sleep 1
    if command -v gdb >/dev/null 2>&1; then
        # the replication check writes node strings under the mutex every second
        timeout -k 5 30 gdb -p "$pid" -batch -ex 'set pagination off' -ex 'break status_unlock' \
            -ex continue -ex 'bt 3' -ex "shell kill -KILL $pid" > "$WORK/out/seg_gdb.out" 2>&1 || true
        grep -Eq 'hit Breakpoint 1|^Breakpoint 1[.,]' "$WORK/out/seg_gdb.out" && held=1
        grep -A3 'hit Breakpoint 1' "$WORK/out/seg_gdb.out" | head -n 4 >&2 || true
    fi
    if [ "$held" = 0 ]; then
        note "gdb could not stop pgpoold inside the mutex ($(tail -n 2 "$WORK/out/seg_gdb.out" 2>/dev/null | tr '\n' ' ')): plain SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait_exit "$pid" 10 || fail "pgpoold $pid still alive after SIGKILL"
    out=$(timeout 10 "$reader" -f "$conf" info) || fail "reader after the crash: $out"
    assert_contains "$out" "owner_pid=$pid alive=0" "the reader sees the owner dead"
    out=$(timeout 10 "$reader" -f "$conf" lock) || fail "the segment mutex could not be taken after pgpoold died (held=$held): $out"
    ms=$(printf '%s' "$out" | sed -n 's/^lock=0 ms=\([0-9]*\)$/\1/p')
    if [ -z "$ms" ] || [ "$ms" -ge 2500 ]; then fail "taking the mutex a dead pgpoold held: $out"; fi
    note "mutex left by the killed pgpoold (stopped inside it: $held) taken by a reader in $ms ms"

    # a new pgpoold on the same instance starts cleanly
    px_run seg || fail "a new pgpoold did not start after the SIGKILL"
    pid2=$PX_PID
    assert_serving "$PX_PORT" "the new pgpoold"
    out=$(timeout 10 "$reader" -f "$conf" info)
    assert_contains "$out" "owner_pid=$pid2 alive=1 nodes=2" "the segment is the new pgpoold's"
    bg_wait "$watch" 30 || fail "the watching reader did not finish on time (wedged?): $(cat "$WORK/out/seg_watch.out")"
    out=$(cat "$WORK/out/seg_watch.out")
    printf '%s\n' "$out" >&2
    assert_contains "$out" "owners=$pid,$pid2" "the watching reader followed the restart (remapped)"
    assert_match "$out" 'lock_failures=0 ' "the watching reader always got the mutex"
    ms=$(printf '%s' "$out" | sed -n 's/.*max_lock_ms=\([0-9]*\).*/\1/p')
    [ "${ms:-9999}" -lt 2500 ] || fail "the watching reader waited $ms ms for the mutex"
}
