# shellcheck shell=bash
# Client authentication through pool_hba.conf + pool_passwd, and backend
# authentication with the password from pool_passwd.

# login_ok USER PASSWORD : psql through the proxy succeeds as USER.
login_ok() {
    local out
    out=$(PGPASSWORD=$2 px_psql "$MAIN_PORT" -U "$1" -w -qAt -c "SELECT current_user" 2>&1) \
        || fail "login as $1 with the right password failed: $out"
    assert_eq "$1" "$out" "logged in as $1"
}

# login_bad USER PASSWORD : psql fails with PostgreSQL's text for a wrong password.
login_bad() {
    local out
    out=$(PGPASSWORD=$2 px_psql "$MAIN_PORT" -U "$1" -w -qAt -c "SELECT current_user" 2>&1) \
        && fail "login as $1 with a wrong password succeeded: $out"
    assert_contains "$out" "password authentication failed for user \"$1\"" "error for a wrong password"
    out=$(PGPASSWORD=$2 pgwire startup-error 127.0.0.1 "$MAIN_PORT" "$1" appdb)
    assert_eq "FATAL 28P01 password authentication failed for user \"$1\"" "$out" "ErrorResponse for a wrong password"
}

it_test auth_md5
t_auth_md5() {
    [ "$IT_DIRECT" = 1 ] || assert_eq md5 "$(pgwire auth-request 127.0.0.1 "$MAIN_PORT" md5user appdb)" "pool_hba md5: client is asked for md5"
    login_ok md5user md5pass
    login_bad md5user wrongpass
    assert_eq "auth=md5,ok user=md5user" "$(pgwire login 127.0.0.1 "$MAIN_PORT" md5user appdb md5pass)" "raw md5 login"
}

it_test auth_scram
t_auth_scram() {
    local req
    req=$(pgwire auth-request 127.0.0.1 "$MAIN_PORT" scramuser appdb)
    assert_contains "$req" "sasl:" "pool_hba scram-sha-256: client gets a SASL request"
    assert_contains "$req" "SCRAM-SHA-256" "SASL mechanism offered"
    login_ok scramuser scrampass          # pool_passwd TEXT entry
    login_bad scramuser wrongpass
    login_ok scramplain plainpass         # pool_passwd plain entry
    login_bad scramplain scrampass
    assert_eq "auth=sasl:SCRAM-SHA-256,ok user=scramuser" \
        "$(pgwire login 127.0.0.1 "$MAIN_PORT" scramuser appdb scrampass)" "raw SCRAM login (server signature verified)"
}

it_test auth_password_method
t_auth_password_method() {
    [ "$IT_DIRECT" = 1 ] || assert_eq cleartext "$(pgwire auth-request 127.0.0.1 "$MAIN_PORT" pwuser appdb)" "pool_hba password: clear-text request"
    login_ok pwuser pwpass
    login_bad pwuser wrongpass
}

it_test auth_superuser_scram
t_auth_superuser_scram() {
    local out
    out=$(PGPASSWORD=pgsecret px_psql "$MAIN_PORT" -U postgres -w -qAt -c "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    assert_eq "postgres|t" "$out" "superuser through scram on both sides"
    login_bad postgres notthepassword
}

it_test auth_reject
t_auth_reject() {
    needs_pgpoold
    local out
    out=$(px_psql "$MAIN_PORT" -U rejectuser -w -c "SELECT 1" 2>&1) && fail "rejectuser got in: $out"
    note "$out"
    assert_match "$out" "pool_hba.conf rejects connection" "a reject line refuses with a clear error"
    out=$(pgwire startup-error 127.0.0.1 "$MAIN_PORT" rejectuser appdb)
    assert_match "$out" "^FATAL 28000 " "ErrorResponse severity and SQLSTATE"
}

it_test auth_no_hba_entry
t_auth_no_hba_entry() {
    needs_pgpoold
    local out
    out=$(px_psql "$MAIN_PORT" -U nohba -w -c "SELECT 1" 2>&1) && fail "a user without a pool_hba.conf line got in: $out"
    note "$out"
    assert_contains "$out" "no pool_hba.conf entry" "no matching line refuses"
}
