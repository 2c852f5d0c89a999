#!/usr/bin/env bash
# Cost of the policy chain: Gatehouse with key-auth + rate-limit (+ metrics,
# always on) against Gatehouse with no policies and against nginx as a plain
# reverse proxy, side by side, small responses.
#
#   bench/policies.sh [path/to/gatehouse]
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=3, CONNS=50
# The rate limit is set far above what the machine can do, so every request
# is admitted and the measurement is the cost of checking, not of refusing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-50}"

need wrk:wrk /usr/sbin/nginx:nginx-light curl:curl python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
GP_PORT="$(free_port)"; GP_ADMIN="$(free_port)"; NG_PORT="$(free_port)"

log "machine: $(machine_summary)"
start_upstream "$UP_PORT"
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS"
PLAIN_PID=$GATEHOUSE_PID
start_nginx_proxy "$NG_PORT" "$UP_PORT" "$WORKERS"

dir="$BENCH_TMP/gatehouse-policies"
mkdir -p "$dir"
cat > "$dir/gatehouse.yaml" <<YAML
access_log: {enabled: false}
consumers:
  - name: bench
    credentials: [{type: key-auth, key: "bench-key"}]
upstreams:
  - name: up
    targets: ["127.0.0.1:$UP_PORT"]
    pool: {max_idle_per_target: 256}
routes:
  - name: all
    match: {paths: ["/"]}
    upstream: up
    policies:
      - {name: key-auth}
      - {name: rate-limit, config: {requests: 100000000, window: 1s, by: consumer}}
YAML
"$GATEHOUSE" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$GP_PORT" \
  --admin-listen "127.0.0.1:$GP_ADMIN" --workers "$WORKERS" 2>"$dir/stderr" &
POLICY_PID=$!
BENCH_PIDS+=("$POLICY_PID")
wait_port "$GP_PORT" "gatehouse with policies"
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'apikey: bench-key' "http://127.0.0.1:$GP_PORT/small")"
[[ "$code" == 200 ]] || die "gatehouse with policies answered $code"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GP_PORT/small")"
[[ "$code" == 401 ]] || die "key-auth is not enforced (got $code without a key)"

declare -A PORT=([plain]=$GH_PORT [policies]=$GP_PORT [nginx]=$NG_PORT)
NAMES=(plain policies nginx)
declare -A SUM
for n in "${NAMES[@]}"; do SUM[$n]=""; done
RAW="$BENCH_TMP/wrk"
mkdir -p "$RAW"
for (( r = 1; r <= ROUNDS; r++ )); do
  for (( i = 0; i < 3; i++ )); do
    n="${NAMES[$(( (i + r - 1) % 3 ))]}"
    out="$RAW/r${r}_${n}.txt"
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -H 'apikey: bench-key' \
      "http://127.0.0.1:${PORT[$n]}/small" >"$out" 2>&1 || true
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    non2xx="$(awk '/Non-2xx/ {print $5}' "$out")"
    [[ -z "$non2xx" ]] || die "$n answered $non2xx non-2xx responses"
    log "round $r $n: ${rps:-?} req/s"
    SUM[$n]+="${rps:-0} "
    sleep 0.5
  done
done

echo "# policy chain cost: $(machine_summary); $GH_ID; workers $WORKERS, $CONNS connections, ${DURATION}s x $ROUNDS rounds"
python3 - "${SUM[plain]}" "${SUM[policies]}" "${SUM[nginx]}" <<'PY'
import statistics, sys
plain, pol, ng = ([float(x) for x in a.split()] for a in sys.argv[1:4])
# Ratios within each round (the three ran back to back), then the median.
r_pp = statistics.median(p / q for p, q in zip(pol, plain))
r_pn = statistics.median(p / q for p, q in zip(pol, ng))
r_gn = statistics.median(p / q for p, q in zip(plain, ng))
print("| | req/s (median) |")
print("|---|---:|")
print("| Gatehouse, no policies | %.0f |" % statistics.median(plain))
print("| Gatehouse, key-auth + rate-limit | %.0f |" % statistics.median(pol))
print("| nginx | %.0f |" % statistics.median(ng))
print()
print("| ratio (median of per-round ratios) | value |")
print("|---|---:|")
print("| policies / no policies | %.2fx (%.0f%% drop) |" % (r_pp, (1 - r_pp) * 100))
print("| policies / nginx | %.2fx |" % r_pn)
print("| no policies / nginx | %.2fx |" % r_gn)
PY
