#!/usr/bin/env bash
# scripts/check-health.sh - is the booking deployment healthy?
#
#   scripts/check-health.sh              # a table
#   scripts/check-health.sh --json       # the same as JSON
#   scripts/check-health.sh --wait 60    # re-check for up to 60 s until healthy
#
# For each instance (auth, event, ticket):
#   pgpoold   a query through it reaches the instance's database
#   pcpd      pcp_node_info through it answers for every node (only a TCP
#             check when the pcp tools are not built)
#   node N    SHOW pool_nodes: status up (or waiting) as pgpoold sees it and as a live
#             check sees it (pg_status), one primary, and each standby
#             streaming (replication_state) no further behind than
#             LAG_MAX_BYTES of WAL (replication_delay)
# Exit status 0 only when everything is healthy; otherwise 1, and the last
# line (or "problems" in JSON) names each thing that is not.
# Settings and passwords: .env (etc/env.example); otherwise ~/.pgpass and
# ~/.pcppass.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BK_PROG=check-health.sh
# shellcheck source=lib/booking.sh
. "$ROOT/scripts/lib/booking.sh"

JSON=0 WAIT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --json) JSON=1 ;;
        --wait) shift; WAIT=${1:-}; [[ $WAIT =~ ^[0-9]+$ ]] || { echo "check-health.sh: --wait needs seconds" >&2; exit 2; } ;;
        --wait=*) WAIT=${1#--wait=}; [[ $WAIT =~ ^[0-9]+$ ]] || { echo "check-health.sh: --wait needs seconds" >&2; exit 2; } ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-health.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

bk_load_env
bk_defaults
bk_find_pgbin || true
bk_find_psql || { echo "check-health.sh: psql not found (postgresql-client-15)" >&2; exit 1; }
bk_find_binaries
unset PGHOST PGPORT PGUSER PGDATABASE PGSERVICE PGOPTIONS 2>/dev/null || true

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
# Passwords from .env when it has them (whoever runs this), else the
# caller's ~/.pgpass and ~/.pcppass.
if [ -n "$POSTGRES_PASSWORD" ]; then export PGPASSWORD=$POSTGRES_PASSWORD; fi
if [ -n "$PCP_PASSWORD" ]; then
    printf '*:*:%s:%s\n' "$BK_PCP_USER" "$PCP_PASSWORD" > "$TMP/pcppass"
    chmod 600 "$TMP/pcppass"
    export PCPPASSFILE=$TMP/pcppass
fi

# ------------------------------------------------------------------ results
# One row per check: instance, check, target, ok (1/0), detail, extra JSON.
R_INST=() R_CHECK=() R_TARGET=() R_OK=() R_DETAIL=() R_JSON=() PROBLEMS=()
add() {   # INSTANCE CHECK TARGET OK DETAIL [JSON-FIELDS]
    R_INST+=("$1"); R_CHECK+=("$2"); R_TARGET+=("$3"); R_OK+=("$4"); R_DETAIL+=("$5"); R_JSON+=("${6:-}")
    [ "$4" = 1 ] || PROBLEMS+=("$1 $2: $5")
}
US=$'\x1f'   # field separator for psql output: empty fields stay fields
first_line() { printf '%s' "$1" | grep -v '^[[:space:]]*$' | head -n1 | sed 's/^psql: error: //'; }

json_str() {
    local s=$1
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/}
    printf '"%s"' "$s"
}

check_instance() {   # INSTANCE
    local i=$1 host port pcp db out rc
    host=$(bk_get "$i" host); port=$(bk_get "$i" port); pcp=$(bk_get "$i" pcp_port); db=$(bk_get "$i" database)
    local psqlc=("$BK_PSQL" -X -w -qAt -h "$host" -p "$port" -U postgres -d "$db")

    # pgpoold: a query through it
    out=$(PGCONNECT_TIMEOUT=5 timeout 20 "${psqlc[@]}" -c "SELECT current_database()" 2>&1); rc=$?
    if [ "$rc" = 0 ] && [ "$out" = "$db" ]; then
        add "$i" pgpoold "$host:$port" 1 "query answered by $db"
    else
        add "$i" pgpoold "$host:$port" 0 "$(first_line "${out:-no answer (exit $rc)}")"
    fi

    # nodes: SHOW pool_nodes (answered by pgpoold itself)
    local nodes_ok=0 nodes=()
    if [ "$rc" = 0 ]; then
        out=$(PGCONNECT_TIMEOUT=5 timeout 20 "$BK_PSQL" -X -w -qA -F "$US" -P footer=off \
              -h "$host" -p "$port" -U postgres -d "$db" -c "SHOW pool_nodes" 2>&1) && nodes_ok=1
    fi
    if [ "$nodes_ok" = 1 ]; then
        local header line
        header=$(printf '%s\n' "$out" | head -n1)
        local -A col=()
        local n=0 name
        IFS=$US read -r -a names <<< "$header"
        for name in "${names[@]}"; do col[$name]=$n; n=$((n + 1)); done
        local primaries=0
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            local f=()
            IFS=$US read -r -a f <<< "$line"
            local id=${f[${col[node_id]:-0}]:-?} nh=${f[${col[hostname]:-1}]:-?} np=${f[${col[port]:-2}]:-?}
            local st=${f[${col[status]:-3}]:-} pst=${f[${col[pg_status]:-4}]:-} role=${f[${col[role]:-6}]:-}
            local prole=${f[${col[pg_role]:-7}]:-} delay=${f[${col[replication_delay]:-10}]:-}
            local rstate=${f[${col[replication_state]:-11}]:-} rsync=${f[${col[replication_sync_state]:-12}]:-}
            local ok=1 why=() detail
            [ "$st" = unused ] && continue
            nodes+=("$id")
            # "waiting": up, no session has used it yet (Pgpool-II's meaning)
            case "$st" in up|waiting) ;; *) ok=0; why+=("status $st") ;; esac
            case "$pst" in up|unknown|'') ;; *) ok=0; why+=("pg_status $pst") ;; esac
            if [ "$role" = primary ]; then
                primaries=$((primaries + 1))
                [ -z "$prole" ] || [ "$prole" = primary ] || [ "$prole" = unknown ] || { ok=0; why+=("pg_role $prole"); }
                detail="$st, primary (live: ${pst:-?}/${prole:-?})"
            else
                [ -z "$prole" ] || [ "$prole" = standby ] || [ "$prole" = unknown ] || { ok=0; why+=("pg_role $prole"); }
                [ "$rstate" = streaming ] || { ok=0; why+=("replication ${rstate:-not streaming}"); }
                local bytes=${delay%% *}
                if [[ $bytes =~ ^[0-9]+$ ]] && [ "$bytes" -gt "$LAG_MAX_BYTES" ]; then
                    ok=0; why+=("lag $bytes bytes > $LAG_MAX_BYTES")
                fi
                local lag=${delay:-?}
                [[ $delay =~ ^[0-9]+$ ]] && lag="$delay bytes"
                detail="$st, standby (live: ${pst:-?}/${prole:-?}), ${rstate:-not streaming}${rsync:+ $rsync}, lag $lag"
            fi
            if [ "$ok" != 1 ]; then
                local w joined=
                for w in "${why[@]}"; do joined+="${joined:+, }$w"; done
                detail="$joined -- $detail"
            fi
            add "$i" "node $id" "$nh:$np" "$ok" "$detail" \
                "\"node_id\":$([[ $id =~ ^[0-9]+$ ]] && echo "$id" || json_str "$id"),\"status\":$(json_str "$st"),\"pg_status\":$(json_str "$pst"),\"role\":$(json_str "$role"),\"pg_role\":$(json_str "$prole"),\"replication_delay\":$(json_str "$delay"),\"replication_state\":$(json_str "$rstate"),\"replication_sync_state\":$(json_str "$rsync")"
        done < <(printf '%s\n' "$out" | tail -n +2)
        if [ "${#nodes[@]}" = 0 ]; then
            add "$i" nodes "$host:$port" 0 "SHOW pool_nodes lists no node"
        elif [ "$primaries" != 1 ]; then
            add "$i" primary "$host:$port" 0 "$primaries primary nodes (expected exactly 1)"
        fi
    elif [ "$rc" = 0 ]; then
        add "$i" nodes "$host:$port" 0 "SHOW pool_nodes failed: $(first_line "$out")"
    else
        add "$i" nodes "$host:$port" 0 "unknown: pgpoold does not answer"
    fi

    # pcpd: pcp_node_info through it
    if [ -n "$BK_TOOLS" ]; then
        out=$(timeout 20 "$BK_TOOLS/pcp_node_info" -w -h localhost -p "$pcp" -U "$BK_PCP_USER" 2>"$TMP/err"); rc=$?
        local err; err=$(cat "$TMP/err")
        local count; count=$(printf '%s\n' "$out" | grep -c '[^[:space:]]')
        if [ "$rc" = 0 ] && ! printf '%s' "$err" | grep -qE 'ERROR|FATAL' && [ "$count" -gt 0 ] &&
           { [ "${#nodes[@]}" = 0 ] || [ "$count" = "${#nodes[@]}" ]; }; then
            local summary
            summary=$(printf '%s\n' "$out" | awk '{printf "%s%s:%s %s/%s", (NR > 1 ? ", " : ""), $1, $2, $5, $7}')
            add "$i" pcpd "localhost:$pcp" 1 "pcp_node_info: $summary"
        else
            add "$i" pcpd "localhost:$pcp" 0 "pcp_node_info: $(first_line "${err:-$out}")${err:+}${count:+ ($count nodes)}"
        fi
    elif bk_port_open "$pcp" 127.0.0.1; then
        add "$i" pcpd "localhost:$pcp" 1 "port open (pcp tools not built: pcp_node_info not run)"
    else
        add "$i" pcpd "localhost:$pcp" 0 "nothing listens on port $pcp"
    fi
}

run_checks() {
    R_INST=() R_CHECK=() R_TARGET=() R_OK=() R_DETAIL=() R_JSON=() PROBLEMS=()
    local i
    for i in "${BK_INSTANCES[@]}"; do check_instance "$i"; done
}

run_checks
if [ "$WAIT" -gt 0 ]; then
    end=$((SECONDS + WAIT))
    while [ "${#PROBLEMS[@]}" -gt 0 ] && [ "$SECONDS" -lt "$end" ]; do
        sleep 2
        run_checks
    done
fi

# ------------------------------------------------------------------ output
healthy=true
[ "${#PROBLEMS[@]}" -eq 0 ] || healthy=false
if [ "$JSON" = 1 ]; then
    printf '{"healthy":%s,"checked_at":%s,"instances":[' "$healthy" "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
    sep_i=
    for i in "${BK_INSTANCES[@]}"; do
        inst_ok=true
        checks=
        for k in "${!R_INST[@]}"; do
            [ "${R_INST[$k]}" = "$i" ] || continue
            [ "${R_OK[$k]}" = 1 ] || inst_ok=false
            checks+="${checks:+,}{\"check\":$(json_str "${R_CHECK[$k]}"),\"target\":$(json_str "${R_TARGET[$k]}"),\"ok\":$([ "${R_OK[$k]}" = 1 ] && echo true || echo false),\"detail\":$(json_str "${R_DETAIL[$k]}")${R_JSON[$k]:+,${R_JSON[$k]}}}"
        done
        printf '%s{"name":%s,"database":%s,"pgpoold":%s,"pcpd":%s,"healthy":%s,"checks":[%s]}' "$sep_i" \
            "$(json_str "$i")" "$(json_str "$(bk_get "$i" database)")" \
            "$(json_str "$(bk_get "$i" host):$(bk_get "$i" port)")" "$(json_str "localhost:$(bk_get "$i" pcp_port)")" \
            "$inst_ok" "$checks"
        sep_i=,
    done
    printf '],"problems":['
    sep=
    for p in "${PROBLEMS[@]}"; do printf '%s%s' "$sep" "$(json_str "$p")"; sep=,; done
    printf ']}\n'
else
    fmt='%-8s %-9s %-17s %-9s %s\n'
    # shellcheck disable=SC2059
    printf "$fmt" INSTANCE CHECK TARGET STATUS DETAIL
    for k in "${!R_INST[@]}"; do
        # shellcheck disable=SC2059
        printf "$fmt" "${R_INST[$k]}" "${R_CHECK[$k]}" "${R_TARGET[$k]}" \
            "$([ "${R_OK[$k]}" = 1 ] && echo ok || echo PROBLEM)" "${R_DETAIL[$k]}"
    done
    echo
    if [ "$healthy" = true ]; then
        echo "healthy: ${BK_INSTANCES[*]} (pgpoold, pcpd, every node up, standbys streaming)"
    else
        echo "UNHEALTHY (${#PROBLEMS[@]}):"
        for p in "${PROBLEMS[@]}"; do echo "  - $p"; done
    fi
fi
[ "$healthy" = true ]
