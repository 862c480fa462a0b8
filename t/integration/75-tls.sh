# shellcheck shell=bash
# TLS (issue 7): SSLRequest and PostgreSQL 17 direct TLS, verify-full,
# hostssl/hostnossl, cert authentication, SCRAM-SHA-256-PLUS channel
# binding, certificate reload on SIGHUP, and TLS to the backends
# (backend_sslmode) with pooled TLS connections reused.  Certificates are
# made by lib-tls.sh in $WORK/tls.

# shellcheck source=lib-tls.sh
. "$IT_DIR/lib-tls.sh"

it_test tls_sslmode_require 90
t_tls_sslmode_require() {
    needs_pgpoold
    tls_certs
    # shellcheck disable=SC2046
    px_start tls $(tls_px_settings)
    local out
    out=$(tls_psql "$PX_PORT" "user=app sslmode=require" -c '\conninfo' -qAt -c "SELECT 'over ' || 'tls'" 2>&1) \
        || fail "psql sslmode=require: $out"
    note "$out"
    assert_match "$out" 'SSL connection \(protocol: TLSv1\.[23], cipher: ' "\\conninfo shows TLS"
    assert_contains "$out" "over tls" "query over TLS"
    # plain connections still work on the same port (host lines match both)
    out=$(tls_psql "$PX_PORT" "user=app sslmode=disable" -qAt -c '\conninfo' -c "SELECT 'plain'" 2>&1) \
        || fail "psql sslmode=disable: $out"
    assert_not_contains "$out" "SSL connection" "sslmode=disable is not TLS"
    assert_contains "$out" "plain" "plain query"
    # TLS 1.1 is below ssl_min_protocol_version (TLSv1.2 by default)
    if timeout 10 openssl s_client -starttls postgres -tls1_1 -connect "127.0.0.1:$PX_PORT" </dev/null >"$WORK/tls11.out" 2>&1 \
        && grep -q '^New, TLSv1' "$WORK/tls11.out" && ! grep -q 'Cipher is (NONE)' "$WORK/tls11.out"; then
        fail "a TLSv1.1 handshake succeeded: $(grep -E 'Protocol|Cipher' "$WORK/tls11.out" | head -n 3)"
    fi
    # a TLS server without SSL on answers 'N' (psql sslmode=require fails)
    out=$(tls_psql "$MAIN_PORT" "user=app sslmode=require" -c "SELECT 1" 2>&1) && fail "sslmode=require worked on a proxy with ssl off"
    assert_contains "$out" "server does not support SSL" "ssl off: SSLRequest refused"
    px_assert_alive tls
}

it_test tls_verify_full 90
t_tls_verify_full() {
    needs_pgpoold
    tls_certs
    # shellcheck disable=SC2046
    px_start tlsvf $(tls_px_settings)
    local out
    out=$(tls_psql "$PX_PORT" "user=app sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt host=localhost hostaddr=127.0.0.1" \
        -qAt -c "SELECT 'verified'" 2>&1) || fail "verify-full with the CA: $out"
    assert_eq "verified" "$out" "verify-full with the right CA and host name"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt host=127.0.0.1" \
        -qAt -c "SELECT 'verified ip'" 2>&1) || fail "verify-full by IP address (SAN IP:127.0.0.1): $out"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt host=wrong.example hostaddr=127.0.0.1" \
        -c "SELECT 1" 2>&1) && fail "verify-full accepted a certificate for another host name"
    assert_contains "$out" "does not match host name" "host name checked"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=verify-ca sslrootcert=$TLS_DIR/other-ca.crt" -c "SELECT 1" 2>&1) \
        && fail "verify-ca accepted a certificate from another CA"
    assert_contains "$out" "certificate verify failed" "CA checked"
}

it_test tls_hostssl_hostnossl 90
t_tls_hostssl_hostnossl() {
    needs_pgpoold
    tls_certs
    mkdir -p "$WORK/px/tlshba"
    cat > "$WORK/px/tlshba/pool_hba.conf" <<'HBA'
local      all  all                  trust
hostssl    all  app2   127.0.0.1/32  trust
hostnossl  all  nohba  127.0.0.1/32  trust
host       all  app    127.0.0.1/32  trust
HBA
    # shellcheck disable=SC2046
    px_start tlshba $(tls_px_settings)
    local out
    out=$(tls_psql "$PX_PORT" "user=app2 sslmode=require" -qAt -c "SELECT current_user" 2>&1) || fail "hostssl over TLS: $out"
    assert_eq app2 "$out" "hostssl line admits a TLS client"
    out=$(tls_psql "$PX_PORT" "user=app2 sslmode=disable" -c "SELECT 1" 2>&1) && fail "hostssl admitted a plain client"
    assert_contains "$out" 'no pool_hba.conf entry for host "127.0.0.1", user "app2", database "appdb"' "hostssl refuses plain"
    out=$(tls_psql "$PX_PORT" "user=nohba sslmode=disable" -qAt -c "SELECT current_user" 2>&1) || fail "hostnossl plain: $out"
    assert_eq nohba "$out" "hostnossl line admits a plain client"
    out=$(tls_psql "$PX_PORT" "user=nohba sslmode=require" -c "SELECT 1" 2>&1) && fail "hostnossl admitted a TLS client"
    assert_contains "$out" 'no pool_hba.conf entry for host "127.0.0.1", user "nohba"' "hostnossl refuses TLS"
}

it_test tls_cert_auth 90
t_tls_cert_auth() {
    needs_pgpoold
    tls_certs
    mkdir -p "$WORK/px/tlscert"
    cat > "$WORK/px/tlscert/pool_hba.conf" <<'HBA'
local    all  all                 trust
hostssl  all  app  127.0.0.1/32   cert
host     all  all  127.0.0.1/32   reject
HBA
    # shellcheck disable=SC2046
    px_start tlscert $(tls_px_settings) ssl_ca_cert="\"$TLS_DIR/ca.crt\""
    local out nocert="sslcert=$WORK/tls/none.crt sslkey=$WORK/tls/none.key"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=require sslcert=$TLS_DIR/app.crt sslkey=$TLS_DIR/app.key" \
        -qAt -c "SELECT current_user" 2>&1) || fail "cert auth with CN=app: $out"
    assert_eq app "$out" "client certificate CN=app logs in as app"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=require sslcert=$TLS_DIR/app2.crt sslkey=$TLS_DIR/app2.key" \
        -c "SELECT 1" 2>&1) && fail "a certificate for app2 logged in as app"
    assert_contains "$out" 'certificate authentication failed for user "app"' "CN mismatch refused"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=require $nocert" -c "SELECT 1" 2>&1) && fail "no certificate logged in"
    assert_contains "$out" "connection requires a valid client certificate" "no certificate refused"
    out=$(tls_psql "$PX_PORT" "user=app sslmode=disable" -c "SELECT 1" 2>&1) && fail "plain client got past a cert line"
    assert_contains "$out" "rejects connection" "plain client rejected"
    grep -q 'certificate authentication failed for user "app".*certificate is for "app2"' "$PX_LOG" \
        || fail "the log does not say which certificate was refused"
    px_assert_alive tlscert
}

it_test tls_channel_binding 90
t_tls_channel_binding() {
    needs_pgpoold
    tls_certs
    # shellcheck disable=SC2046
    px_start tlscb $(tls_px_settings)
    local out
    out=$(PGPASSWORD=scrampass tls_psql "$PX_PORT" "user=scramuser sslmode=require channel_binding=require" \
        -qAt -c "SELECT current_user" 2>&1) || fail "channel_binding=require: $out"
    assert_eq scramuser "$out" "SCRAM-SHA-256-PLUS with tls-server-end-point"
    out=$(PGPASSWORD=plainpass tls_psql "$PX_PORT" "user=scramplain sslmode=require channel_binding=require" \
        -qAt -c "SELECT current_user" 2>&1) || fail "channel_binding=require (plain pool_passwd entry): $out"
    assert_eq scramplain "$out" "SCRAM-SHA-256-PLUS against a verifier derived from a plain entry"
    out=$(PGPASSWORD=wrong tls_psql "$PX_PORT" "user=scramuser sslmode=require channel_binding=require" -c "SELECT 1" 2>&1) \
        && fail "a wrong password got in with channel binding"
    assert_contains "$out" 'password authentication failed for user "scramuser"' "wrong password refused"
    # without TLS, SCRAM-SHA-256 (no -PLUS) still works
    out=$(PGPASSWORD=scrampass tls_psql "$PX_PORT" "user=scramuser sslmode=disable channel_binding=prefer" \
        -qAt -c "SELECT current_user" 2>&1) || fail "plain SCRAM: $out"
    assert_eq scramuser "$out" "SCRAM without TLS"
    # the mechanisms offered over TLS: -PLUS first
    out=$(secwire scram-abuse 127.0.0.1 "$PX_PORT" scramuser appdb scrampass 2>&1) || fail "SCRAM abuse over plain TCP: $out"
}

it_test tls_reload_certificate 90
t_tls_reload_certificate() {
    needs_pgpoold
    tls_certs
    mkdir -p "$WORK/px/tlsrl"
    cp "$TLS_DIR/server.crt" "$WORK/px/tlsrl/cur.crt"
    cp "$TLS_DIR/server.key" "$WORK/px/tlsrl/cur.key"
    chmod 600 "$WORK/px/tlsrl/cur.key"
    px_start tlsrl ssl=true ssl_cert="\"$WORK/px/tlsrl/cur.crt\"" ssl_key="\"$WORK/px/tlsrl/cur.key\""
    local port=$PX_PORT s1 s2 hold rc=0
    s1=$(tls_serial "$port")
    assert_eq 03E9 "$s1" "serial before the reload (1001)"
    # a TLS session open across the reload keeps working
    tls_psql "$port" "user=app sslmode=require" -qAt -c "SELECT pg_sleep(3.007)" -c "SELECT 'survived'" >"$WORK/tlsrl.out" 2>&1 &
    hold=$!
    wait_active 1 'SELECT pg_sleep(3.007)' || fail "holding TLS session did not start"
    cp "$TLS_DIR/server2.crt" "$WORK/px/tlsrl/cur.crt"
    cp "$TLS_DIR/server2.key" "$WORK/px/tlsrl/cur.key"
    kill -HUP "$PX_PID"
    wait_until 10 '[ "$(tls_serial '"$port"')" = 07D2 ]' || fail "serial after SIGHUP: $(tls_serial "$port") (want 07D2 = 2002)"
    s2=$(tls_serial "$port")
    note "certificate serial $s1 -> $s2 after SIGHUP"
    bg_wait "$hold" 20 || rc=$?
    [ "$rc" = 0 ] || fail "TLS session across the reload failed: $(cat "$WORK/tlsrl.out")"
    assert_contains "$(cat "$WORK/tlsrl.out")" survived "session across the reload"
    # a broken certificate on reload keeps the old one (and the proxy up)
    echo "not a certificate" > "$WORK/px/tlsrl/cur.crt"
    kill -HUP "$PX_PID"
    sleep 1
    px_assert_alive tlsrl
    assert_eq 07D2 "$(tls_serial "$port")" "a bad certificate on reload keeps the loaded one"
}

it_test tls_direct_alpn 90
t_tls_direct_alpn() {
    needs_pgpoold
    tls_certs
    # shellcheck disable=SC2046
    px_start tlsd $(tls_px_settings)
    local out rc=0
    out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PX_PORT" -alpn postgresql </dev/null 2>&1) || true
    assert_contains "$out" "ALPN protocol: postgresql" "openssl s_client -alpn postgresql: ALPN negotiated"
    assert_match "$out" "New, TLSv1\\.[23], Cipher is" "direct TLS handshake done"
    out=$(secwire direct-tls 127.0.0.1 "$PX_PORT" app appdb postgresql 2>&1) || fail "direct TLS login: $out"
    note "$out"
    assert_contains "$out" "alpn=postgresql" "ALPN postgresql selected"
    assert_contains "$out" "query: direct app" "query over direct TLS"
    # no ALPN: the handshake completes, then the proxy says why and closes
    out=$(secwire direct-tls 127.0.0.1 "$PX_PORT" app appdb - 2>&1) || rc=$?
    note "$out"
    [ "$rc" = 2 ] || fail "direct TLS without ALPN was not closed (exit $rc): $out"
    assert_match "$out" "direct SSL connection without ALPN|closed after the handshake" "closed without ALPN"
    out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PX_PORT" </dev/null 2>&1) || true
    assert_contains "$out" "No ALPN negotiated" "openssl s_client without -alpn"
    # another ALPN protocol: refused in the handshake
    rc=0
    out=$(secwire direct-tls 127.0.0.1 "$PX_PORT" app appdb http/1.1 2>&1) || rc=$?
    [ "$rc" = 3 ] || fail "direct TLS with ALPN http/1.1 was not refused in the handshake (exit $rc): $out"
    assert_serving "$PX_PORT" "TLS proxy after the direct TLS clients"
}

# A PostgreSQL of its own with ssl = on that refuses plain TCP for app
# (hostnossl ... reject), so that anything that works went over TLS.
tls_backend_start() {   # sets TPG_PORT TPG_DATA
    TPG_DATA=$WORK/pg/tlsbe
    TPG_PORT=$(alloc_port) || fail "no port for the TLS PostgreSQL"
    local pw=$WORK/pg/tlsbe.pw
    printf 'pgsecret\n' > "$pw"
    [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$pw" "$WORK/pg"
    pgc_initdb "$TPG_DATA" "$pw" >"$WORK/pg/tlsbe.initdb.log" 2>&1 || fail "initdb for the TLS PostgreSQL failed"
    rm -f "$pw"
    local f
    for f in server.crt server.key; do
        cp "$TLS_DIR/$f" "$TPG_DATA/$f"
        [ "$PGC_IS_ROOT" = 1 ] && chown "$PGC_OS_USER:" "$TPG_DATA/$f"
    done
    chmod 600 "$TPG_DATA/server.key"
    pgc_write_conf "$TPG_DATA" "$TPG_PORT" "$PGSOCK" tlsbe "
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
max_connections = 40
shared_buffers = 16MB
fsync = off
log_connections = on"
    pgc_as_pg tee "$TPG_DATA/pg_hba.conf" >/dev/null <<'HBA'
local      all  all                 trust
hostssl    all  all  127.0.0.1/32   trust
hostnossl  all  app  127.0.0.1/32   reject
host       all  all  127.0.0.1/32   trust
HBA
    pgc_start "$TPG_DATA" "$WORK/pg/tlsbe.log" || fail "TLS PostgreSQL did not start: $(tail -n 5 "$WORK/pg/tlsbe.log")"
    echo "$WORK/pg/tlsbe.log" >> "$WORK/logs.test"
    trap 'pgc_stop "$TPG_DATA"' EXIT
    pgc_admin "$PGSOCK" "$TPG_PORT" "CREATE ROLE app LOGIN" >/dev/null
    pgc_admin "$PGSOCK" "$TPG_PORT" "CREATE DATABASE appdb OWNER app" >/dev/null
}

tpg_sql() { pgc_admin "$PGSOCK" "$TPG_PORT" "$1" appdb; }

it_test tls_backend_sslmode 150
t_tls_backend_sslmode() {
    needs_pgpoold
    tls_certs
    tls_backend_start
    local out pids distinct n i
    # the backend refuses plain TCP for app: the proxy's logins must be TLS
    out=$(PGSSLMODE=disable timeout 10 "$PSQL" -X -h 127.0.0.1 -p "$TPG_PORT" -U app -d appdb -c "SELECT 1" 2>&1) \
        && fail "the TLS PostgreSQL accepted a plain connection for app"
    # require, and pooled TLS connections are reused (max_pool = 2)
    PRIMARY_PORT=$TPG_PORT px_start tlsbe backend_sslmode='"require"' max_pool=2
    out=$(px_psql "$PX_PORT" -qAt -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1) \
        || fail "query through backend_sslmode=require: $out"
    assert_eq t "$out" "pg_stat_ssl.ssl of the proxy's backend connection"
    pids=$(for i in $(seq 1 20); do px_psql "$PX_PORT" -qAt -c "SELECT pg_backend_pid()"; done)
    distinct=$(printf '%s\n' "$pids" | sort -u | wc -l)
    note "20 sequential clients used $distinct TLS backend connection(s)"
    [ "$distinct" -le 2 ] || fail "20 sequential clients used $distinct backends (max_pool = 2): TLS connections not reused"
    n=$(tpg_sql "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = 'appdb' AND a.usename = 'app' AND s.ssl")
    [ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "$n TLS backend connections for app after 20 clients (max_pool = 2)"
    n=$(tpg_sql "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = 'appdb' AND a.usename = 'app' AND NOT s.ssl")
    assert_eq 0 "$n" "plain backend connections for app"
    # pgbench -C over pooled TLS backends: no errors, the pool stays at max_pool
    echo 'SELECT 1;' > "$WORK/tlsbe.sql"
    out=$(timeout -k 5 90 "$PGBENCH" -n -C -h 127.0.0.1 -p "$PX_PORT" -U app -c 4 -j 2 -t 25 -f "$WORK/tlsbe.sql" appdb 2>&1) \
        || fail "pgbench -C through TLS backends: $(printf '%s' "$out" | tail -n 5)"
    assert_contains "$out" "number of transactions actually processed: 100/100" "pgbench through TLS backends"
    wait_until 10 '[ "$(tpg_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = '"'appdb'"' AND usename = '"'app'"'")" -le 4 ]' \
        || fail "$(tpg_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'app'") backends after pgbench"
    px_stop tlsbe
    # verify-ca and verify-full with the test CA
    PRIMARY_PORT=$TPG_PORT px_start tlsvca backend_sslmode='"verify-ca"' backend_ssl_ca_cert="\"$TLS_DIR/ca.crt\""
    out=$(px_psql "$PX_PORT" -qAt -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1) || fail "verify-ca: $out"
    assert_eq t "$out" "backend_sslmode=verify-ca"
    px_stop tlsvca
    PRIMARY_PORT=$TPG_PORT px_start tlsvfull backend_sslmode='"verify-full"' backend_ssl_ca_cert="\"$TLS_DIR/ca.crt\""
    out=$(px_psql "$PX_PORT" -qAt -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" 2>&1) \
        || fail "verify-full (backend 127.0.0.1, SAN IP:127.0.0.1): $out"
    assert_eq t "$out" "backend_sslmode=verify-full"
    px_stop tlsvfull
    # the wrong CA: no backend connection, and the client is told
    PRIMARY_PORT=$TPG_PORT px_start tlsbadca backend_sslmode='"verify-ca"' backend_ssl_ca_cert="\"$TLS_DIR/other-ca.crt\"" \
        failover_on_backend_error=false
    out=$(px_psql "$PX_PORT" -qAt -c "SELECT 1" 2>&1) && fail "verify-ca with the wrong CA connected: $out"
    note "wrong CA: $out"
    assert_match "$out" "could not connect to backend|certificate verify failed|TLS" "wrong backend CA refused"
    grep -q 'certificate verify failed\|certificate' "$PX_LOG" || fail "the log does not say the backend certificate failed"
    px_stop tlsbadca
    # disable: plain, refused by this backend's hostnossl line
    PRIMARY_PORT=$TPG_PORT px_start tlsoff backend_sslmode='"disable"' failover_on_backend_error=false
    out=$(px_psql "$PX_PORT" -qAt -c "SELECT 1" 2>&1) && fail "backend_sslmode=disable got in (hostnossl reject)"
    assert_contains "$out" "rejects connection" "backend_sslmode=disable is plain (the backend's FATAL relayed)"
}
