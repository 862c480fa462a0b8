# shellcheck shell=bash
# The test cluster itself: primary + streaming standby (used by later issues).

it_test cluster_standby_streaming
t_cluster_standby_streaming() {
    local state rec
    state=$(wait_until 30 '[ "$(asql "SELECT state FROM pg_stat_replication" 2>/dev/null)" = streaming ]' \
            && echo streaming || echo "not streaming")
    assert_eq streaming "$state" "standby streams from the primary"
    rec=$(PGCONNECT_TIMEOUT=10 timeout 30 "$PSQL" -X -qAt -h "$PGSOCK" -p "$STANDBY_PORT" -U postgres -c "SELECT pg_is_in_recovery()")
    assert_eq t "$rec" "standby is in recovery"
}
