# shellcheck shell=bash
# Replication lag (issue 3): causal_reads (read-your-writes) against a
# standby whose replay is paused, with and without it, and under a load of
# writers and readers; delay_threshold takes a lagging standby out of the
# reads and puts it back once it has caught up.
#
# Replay is paused on the shared standby with pg_wal_replay_pause() and
# always resumed (also when a test fails or times out).

# shellcheck source=lib-ha.sh
. "$IT_DIR/lib-ha.sh"

lag_table() {   # NAME
    asql "DROP TABLE IF EXISTS $1; CREATE TABLE $1 (id int PRIMARY KEY, filler text); ALTER TABLE $1 OWNER TO app" appdb >/dev/null
    wait_standby_replayed 30 || fail "standby did not replay table $1"
}

it_test lag_causal_reads_stale_read 90
t_lag_causal_reads_stale_read() {
    needs_pgpoold
    local on off out
    lag_table lag_c
    rt_start lagcon 0 1 causal_reads=true
    on=$PX_PORT
    rt_start lagcoff 0 1 causal_reads=false
    off=$PX_PORT
    replay_pause
    # without causal_reads: the read goes to the standby, which has not
    # replayed the insert: the row the session just wrote is missing
    out=$(px_psql "$off" -qAt -v ON_ERROR_STOP=1 -c "INSERT INTO lag_c (id) VALUES (1)" \
        -c "SELECT inet_server_port(), count(*) FROM lag_c WHERE id = 1")
    assert_eq "$STANDBY_PORT|0" "$out" "causal_reads = off, replay paused: the read on the standby misses the row just written (stale read)"
    # with causal_reads: the same read goes to the primary and finds it
    out=$(px_psql "$on" -qAt -v ON_ERROR_STOP=1 -c "INSERT INTO lag_c (id) VALUES (2)" \
        -c "SELECT inet_server_port(), count(*) FROM lag_c WHERE id = 2")
    assert_eq "$PRIMARY_PORT|1" "$out" "causal_reads = on, replay paused: the read goes to the primary and finds the row"
    # same in the extended protocol
    out=$(rwclient ext 127.0.0.1 "$on" app appdb "INSERT INTO lag_c (id) VALUES (3)" \
        "SELECT inet_server_port(), count(*) FROM lag_c WHERE id = 3" 2>&1)
    assert_eq "INSERT 0 1
$PRIMARY_PORT|1" "$out" "causal_reads = on, extended protocol"
    # a session that wrote nothing still reads on the standby
    out=$(px_psql "$on" -qAt -c "SELECT inet_server_port(), count(*) FROM lag_c WHERE id IN (1, 2, 3)")
    assert_eq "$STANDBY_PORT|0" "$out" "causal_reads = on: a session without writes reads on the (stale) standby"
    replay_resume
    wait_standby_replayed 30 || fail "standby did not catch up after resume"
    # once the standby has replayed the commit (seen by the next replication
    # check, every second), the writer's reads go back to it
    out=$(px_psql "$on" -qAt -v ON_ERROR_STOP=1 -c "INSERT INTO lag_c (id) VALUES (4)" \
        -c "SELECT pg_sleep(3)" -c "SELECT inet_server_port(), count(*) FROM lag_c WHERE id = 4" | tail -n 1)
    assert_eq "$STANDBY_PORT|1" "$out" "causal_reads = on: 3 s after the commit, with replay running, the read is on the standby and finds the row"
}

it_test lag_causal_reads_load 120
t_lag_causal_reads_load() {
    needs_pgpoold
    local port i pids=() f tot_w=0 tot_m=0 tot_p=0 tot_s=0 tot_e=0 line w m p s e
    lag_table lag_l
    rt_start lagload 0 1 causal_reads=true
    port=$PX_PORT
    trap 'replay_resume' EXIT
    trap 'replay_resume; exit 143' TERM INT
    # 4 writer/readers (each: INSERT then SELECT it back at once; every 50th
    # read waits 2.5 s first) and 2 plain readers, for 12 s, while replay is
    # paused and resumed every 2 s
    for i in 1 2 3 4; do
        RW_TIMEOUT=60 rwclient causal 127.0.0.1 "$port" app appdb lag_l $((i * 1000000)) 12 "$PRIMARY_PORT" 50 \
            > "$WORK/out/lag_causal.$i" 2>&1 &
        pids+=($!)
    done
    for i in 1 2; do
        RW_TIMEOUT=60 rwclient reads 127.0.0.1 "$port" app appdb 12 "$WORK/out/lag_reads.$i" >/dev/null 2>&1 &
        pids+=($!)
    done
    for i in 1 2 3; do
        sleep 2
        ssql "SELECT pg_wal_replay_pause()" >/dev/null
        sleep 2
        ssql "SELECT pg_wal_replay_resume()" >/dev/null
    done
    for i in "${!pids[@]}"; do
        bg_wait "${pids[$i]}" 60 || fail "load client $i failed: $(cat "$WORK/out/lag_causal.$((i + 1))" 2>/dev/null)"
    done
    replay_resume
    for i in 1 2 3 4; do
        f=$WORK/out/lag_causal.$i
        line=$(grep '^writes=' "$f") || fail "causal client $i: $(cat "$f")"
        read -r w m p s e <<< "$(printf '%s\n' "$line" | sed -E 's/[a-z_]+=//g')"
        tot_w=$((tot_w + w)); tot_m=$((tot_m + m)); tot_p=$((tot_p + p)); tot_s=$((tot_s + s)); tot_e=$((tot_e + e))
        grep -v '^writes=' "$f" | head -n 5 >&2 || true
    done
    local reads_standby
    reads_standby=$(cat "$WORK"/out/lag_reads.* | grep -c " ok $STANDBY_PORT" || true)
    note "causal_reads under load: $tot_w writes each read back at once: $tot_m missing, $tot_p read on the primary, $tot_s on the standby, $tot_e errors; plain readers: $reads_standby reads on the standby"
    [ "$tot_w" -ge 100 ] || fail "only $tot_w writes in 12 s"
    assert_eq 0 "$tot_e" "errors"
    assert_eq 0 "$tot_m" "rows missing when read back right after their commit (causal_reads = on)"
    [ "$tot_s" -gt 0 ] || fail "no read-after-write went to the standby: causal_reads must not simply disable load balancing"
    [ "$reads_standby" -gt 0 ] || fail "plain readers never read on the standby"
}

it_test lag_delay_threshold 120
t_lag_delay_threshold() {
    needs_pgpoold
    local port out delay
    lag_table lag_d
    rt_start lagdt 0 1 delay_threshold=65536
    port=$PX_PORT
    out=$(px_psql "$port" -qAt -c "SELECT inet_server_port()")
    assert_eq "$STANDBY_PORT" "$out" "before: reads on the standby"
    replay_pause
    # about 1 MB of WAL the standby does not replay
    asql "INSERT INTO lag_d SELECT g, repeat('x', 200) FROM generate_series(1, 4000) g" appdb >/dev/null
    wait_until 10 '[ "$(pool_nodes_field '"$port"' 1 11)" -gt 65536 ] 2>/dev/null' \
        || fail "replication_delay of node 1 not above 65536 within 10 s: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    delay=$(pool_nodes_field "$port" 1 11)
    note "replication_delay of the paused standby: $delay bytes"
    for i in 1 2 3 4 5; do
        out=$(px_psql "$port" -qAt -c "SELECT inet_server_port()")
        assert_eq "$PRIMARY_PORT" "$out" "standby $delay bytes behind (delay_threshold 65536): read $i of a new session goes to the primary"
    done
    out=$(rwclient ext 127.0.0.1 "$port" app appdb "SELECT inet_server_port()" 2>&1)
    assert_eq "$PRIMARY_PORT" "$out" "lagging standby skipped in the extended protocol too"
    replay_resume
    wait_until 15 '[ "$(px_psql '"$port"' -qAt -c "SELECT inet_server_port()")" = "$STANDBY_PORT" ]' \
        || fail "reads did not come back to the standby within 15 s of resuming replay: $(px_psql "$port" -qAt -c 'SHOW pool_nodes')"
    out=$(px_psql "$port" -qAt -c "SELECT count(*) FROM lag_d")
    assert_eq 4000 "$out" "after catching up the standby serves the reads, with the rows"
}
