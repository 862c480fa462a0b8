# shellcheck shell=bash
# bench/lib.sh - what the benchmark scripts' pgpoold instances have in
# common (compare.sh, booking/run.sh, profile.sh).  Source it.

# bench_px_files DIR PASSWORD USER... : in DIR, a pool_hba.conf that trusts
# local and 127.0.0.1 clients (the benchmark measures the relay, not client
# authentication) and a pool_passwd with USER:TEXTPASSWORD lines, which
# pgpoold logs in to the backends with.
bench_px_files() {
    local dir=$1 pw=$2 u
    shift 2
    printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' > "$dir/pool_hba.conf"
    for u in "$@"; do printf '%s:TEXT%s\n' "$u" "$pw"; done > "$dir/pool_passwd"
    chmod 600 "$dir/pool_passwd"
}

# bench_px_conf DIR PORT : the lines every benchmark pgpoold config starts
# with (TCP on 127.0.0.1:PORT only, PCP on PORT+100, the files of
# bench_px_files, logs in DIR, warnings only); the caller appends the rest.
bench_px_conf() {
    cat <<CONF
listen_addresses = "127.0.0.1";
port = $2;
unix_socket_directories = "";
pcp_port = $(($2 + 100));
enable_pool_hba = true;
pool_hba_file = "pool_hba.conf";
pool_passwd = "pool_passwd";
logdir = "$1";
log_min_messages = "warning";
CONF
}
