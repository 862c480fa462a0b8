#!/usr/bin/env bash
# scripts/stop-pgpool.sh - stop what scripts/start-pgpool.sh started: the
# three pcpd and pgpoold (by their pid files), then the PostgreSQL standbys
# and primaries (pg_ctl stop -m fast).  The data stays; start-pgpool.sh
# starts it again.
#
#   scripts/stop-pgpool.sh            # stop, keep the data
#   scripts/stop-pgpool.sh --purge    # stop and delete DATA_DIR (clusters,
#                                     # configs, logs); .env and the
#                                     # ~/.pgpass lines stay, so a new start
#                                     # creates everything with the same passwords
#
# Settings: .env (see etc/env.example); DATA_DIR must match the start.
# Exit status 0 when nothing of the deployment runs any more.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BK_PROG=stop-pgpool.sh
# shellcheck source=lib/booking.sh
. "$ROOT/scripts/lib/booking.sh"

PURGE=0
for a in "$@"; do
    case "$a" in
        --purge) PURGE=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "stop-pgpool.sh: unknown argument $a (try --help)" >&2; exit 2 ;;
    esac
done

bk_load_env
bk_defaults

if [ ! -d "$DATA_DIR" ]; then
    echo "nothing to stop: $DATA_DIR does not exist"
    exit 0
fi
if [ ! -f "$DATA_DIR/$BK_MARKER" ]; then
    bk_die "$DATA_DIR is not a booking deployment folder (no $BK_MARKER)"
fi
# As root, PostgreSQL ran as the owner of the data folder.
if [ "$BK_IS_ROOT" = 1 ]; then
    owner=$(stat -c %U "$DATA_DIR/pg" 2>/dev/null || echo postgres)
    [ "$owner" != root ] && BK_PG_USER=$owner
fi
bk_find_pgbin || true

status=0

# Signal the daemon WORD (pgpoold / pcpd) of an instance and wait for it.
stop_daemon() {   # WORD PIDFILE CONF SIGNAL LABEL
    local word=$1 pidf=$2 conf=$3 sig=$4 label=$5 pids pid end
    pids=$( { bk_pid_from_file "$pidf" "$word" "$conf"; bk_pids_by_arg "$word" "$conf"; } | sort -u)
    if [ -z "$pids" ]; then
        echo "  $label not running"
        rm -f "$pidf"
        return 0
    fi
    for pid in $pids; do kill -"$sig" "$pid" 2>/dev/null; done
    end=$((SECONDS + 20))
    for pid in $pids; do
        while bk_pid_is "$pid" "$word" "$conf"; do
            if [ "$SECONDS" -ge "$end" ]; then
                echo "  $label (pid $pid) did not stop after 20 s: SIGKILL"
                kill -KILL "$pid" 2>/dev/null
                sleep 0.5
                break
            fi
            sleep 0.2
        done
    done
    rm -f "$pidf"
    echo "  $label stopped (pid ${pids//$'\n'/, })"
}

stop_pg() {   # DATA LABEL
    local data=$1 label=$2
    if [ ! -f "$data/postmaster.pid" ]; then
        [ -d "$data" ] && echo "  $label not running"
        return 0
    fi
    if [ -z "${PGBIN:-}" ]; then
        echo "  $label: pg_ctl not found, cannot stop it"; status=1; return 1
    fi
    if bk_as_pg timeout -k 10 70 "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1; then
        echo "  $label stopped"
    elif bk_as_pg timeout -k 10 40 "$PGBIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1; then
        echo "  $label stopped (immediate)"
    elif [ -f "$data/postmaster.pid" ] && bk_pg_running "$data"; then
        echo "  $label did not stop"; status=1
    else
        echo "  $label not running"
    fi
}

for i in "${BK_INSTANCES[@]}"; do
    echo "== $i"
    conf=$(bk_conf "$i")
    stop_daemon pcpd "$(bk_pcpd_pidfile "$i")" "$conf" TERM "pcpd    localhost:$(bk_get "$i" pcp_port)"
    # SIGINT: pgpoold's fast shutdown (clients are disconnected)
    stop_daemon pgpoold "$(bk_pgpoold_pidfile "$i")" "$conf" INT "pgpoold localhost:$(bk_get "$i" port)"
    # standbys first, so the primary's shutdown is not held up by them
    # (node 0 lives in pg/<i>/primary, node 1 in pg/<i>/standby; a failover
    # swaps the roles, not the folders)
    order=()
    for node in primary standby; do
        d=$(bk_node_dir "$i" "$node")
        if [ -f "$d/standby.signal" ] || bk_as_pg test -f "$d/standby.signal" 2>/dev/null; then
            order=("$node" "${order[@]}")
        else
            order+=("$node")
        fi
    done
    for node in "${order[@]}"; do
        n=0; [ "$node" = standby ] && n=1
        stop_pg "$(bk_node_dir "$i" "$node")" "node $n    $BACKEND_HOST:$(bk_get "$i" "${node}_port")"
    done
    # nodes that changed places (after a failover) or extra folders
    for d in "$DATA_DIR/pg/$i"/*/; do
        d=${d%/}
        case "${d##*/}" in primary|standby) continue ;; esac
        [ -f "$d/PG_VERSION" ] && stop_pg "$d" "${d##*/}"
    done
done

# Anything of ours still alive?
left=()
for i in "${BK_INSTANCES[@]}"; do
    conf=$(bk_conf "$i")
    for w in pgpoold pcpd; do
        for pid in $(bk_pids_by_arg "$w" "$conf"); do left+=("$w $i (pid $pid)"); done
    done
    for node in primary standby; do
        d=$(bk_node_dir "$i" "$node")
        [ -f "$d/postmaster.pid" ] && bk_pg_running "$d" && left+=("postgres $i $node")
    done
done
if [ "${#left[@]}" -gt 0 ]; then
    echo "still running: ${left[*]}"
    exit 1
fi

if [ "$PURGE" = 1 ]; then
    case "$DATA_DIR" in
        /|/var|/var/lib|/tmp|/var/tmp|/home|/root|"$HOME") bk_die "refusing to purge $DATA_DIR" ;;
    esac
    rm -rf -- "$DATA_DIR" || bk_die "could not remove $DATA_DIR"
    echo "purged $DATA_DIR (kept: ${ENV_FILE} and the lines in ${PGPASS_FILE}, ${PCPPASS_FILE})"
fi
[ "$status" = 0 ] && echo "stopped: nothing of the booking deployment is running"
exit "$status"
