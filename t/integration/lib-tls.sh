# shellcheck shell=bash
# t/integration/lib-tls.sh - certificates for the TLS tests (75-tls.sh,
# 85-bad-input.sh, 95-valgrind.sh), made once per run in $WORK/tls with
# openssl(1):
#   ca.crt/ca.key          the test CA ("pgpoold test CA")
#   server.crt/.key        CN=localhost, SAN DNS:localhost IP:127.0.0.1, serial 1001
#   server2.crt/.key       the same names, serial 2002 (reload test)
#   app.crt/.key           client certificate CN=app, serial 3001
#   app2.crt/.key          client certificate CN=app2, serial 3002
#   other-ca.crt           an unrelated CA (verification must fail with it)

TLS_DIR=$WORK/tls

tls_certs() {
    command -v openssl >/dev/null || skip "openssl not installed"
    (
        flock 9
        [ -f "$TLS_DIR/done" ] && exit 0
        set -e
        mkdir -p "$TLS_DIR"
        cd "$TLS_DIR"
        local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
        openssl req -x509 -new "${ec[@]}" -keyout ca.key -out ca.crt -days 30 -subj "/CN=pgpoold test CA" 2>/dev/null
        openssl req -x509 -new "${ec[@]}" -keyout other-ca.key -out other-ca.crt -days 30 -subj "/CN=other CA" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        one() {   # NAME CN SERIAL EXTFILE
            openssl req -new "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "$3" -days 30 \
                -extfile "$4" -out "$1.crt" 2>/dev/null
            rm -f "$1.csr"
        }
        one server localhost 1001 san.ext
        one server2 localhost 2002 san.ext
        one app app 3001 client.ext
        one app2 app2 3002 client.ext
        chmod 600 ./*.key
        touch done
    ) 9>"$WORK/tls.lock" || fail "could not make the test certificates"
}

# px_init settings for client TLS with the test server certificate.
tls_px_settings() {
    echo "ssl=true ssl_cert=\"$TLS_DIR/server.crt\" ssl_key=\"$TLS_DIR/server.key\""
}

# psql with a libpq connection string: tls_psql PORT "conninfo words" ARGS...
tls_psql() {
    local port=$1 conn=$2; shift 2
    PGSSLMODE= timeout -k 5 "${PSQL_TIMEOUT:-60}" "$PSQL" -X "host=127.0.0.1 port=$port dbname=appdb $conn" "$@"
}

# Serial number (hex) of the certificate a server on PORT presents after an SSLRequest.
tls_serial() {
    timeout 10 openssl s_client -starttls postgres -connect "127.0.0.1:$1" </dev/null 2>/dev/null \
        | openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

secwire() {
    timeout -k 5 "${PGWIRE_TIMEOUT:-120}" "$PYTHON" "$IT_DIR/secwire.py" "$@"
}
