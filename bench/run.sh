#!/usr/bin/env bash
# Throughput and latency of Gatehouse against nginx and haproxy, side by side.
#
#   bench/run.sh [path/to/gatehouse]          (also: make bench)
#
# One nginx upstream (1 worker: a small `return 200` and a 64 KiB static file)
# sits behind three reverse proxies that run at the same time on 127.0.0.1:
# Gatehouse, nginx (upstream keepalive 1024; Gatehouse max_idle_per_target 1024, so neither churns upstream connections at 500 clients) and haproxy (http-reuse always),
# each with WORKERS workers/threads. wrk drives each in turn for every case;
# the proxies are interleaved inside every case and round (the starting proxy
# rotates per round) so machine drift hits all three alike. The machine is
# shared and noisy: read the RATIOS, not the absolute numbers.
#
# Environment:
#   WORKERS=1      workers of Gatehouse / nginx worker_processes / haproxy nbthread
#   DURATION=10    seconds per wrk run
#   ROUNDS=2       how many times every (case, proxy) pair runs
#   WARMUP=2       seconds of warm-up per proxy before the first round
#   CASES=...      subset of small-c50,small-c500,64k-c50,64k-c500
#   OUT_DIR=dir    also keep the raw wrk outputs there
#   BENCH_HEADERS=same|minimal  whether nginx and haproxy add the headers
#                  Gatehouse adds (default same; see bench/lib.sh)
#   PIN=auto|off   auto (default): with more CPUs than WORKERS, the proxies run
#                  on CPUs 0..WORKERS-1, the upstream and wrk on the rest (as on
#                  separate machines); off: all of them share every CPU
#
# Default runtime: 2 rounds x 4 cases x 3 proxies x 10 s + warm-up ~ 4.5 min.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
WARMUP="${WARMUP:-2}"
ALL_CASES="small-c50,small-c500,64k-c50,64k-c500"
CASES="${CASES:-$ALL_CASES}"

need wrk:wrk /usr/sbin/nginx:nginx-light /usr/sbin/haproxy:haproxy curl:curl python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"  # taken now: the file may be rebuilt mid-run
bench_init
raise_nofile 65536

start_three_proxies "$GATEHOUSE" "$WORKERS"

# Every proxy must serve both paths correctly before we time anything.
for p in "${PROXIES[@]}"; do
  wait_http_200 "http://127.0.0.1:${PORT[$p]}/small"
  size="$(curl -s "http://127.0.0.1:${PORT[$p]}/files/64k.bin" | wc -c)"
  [[ "$size" == 65536 ]] || die "$p returned $size bytes for the 64 KiB file"
done
log "all proxies answer: gatehouse :$GH_PORT, nginx :$NG_PORT, haproxy :$HA_PORT (upstream :$UP_PORT, workers $WORKERS)"

RAW="$BENCH_TMP/wrk"
mkdir -p "$RAW"

if (( WARMUP > 0 )); then
  for p in "${PROXIES[@]}"; do
    log "warm-up $p (${WARMUP}s)"
    "${LOAD_PIN[@]}" wrk -t1 -c500 -d"${WARMUP}s" "http://127.0.0.1:${PORT[$p]}/files/64k.bin" >/dev/null 2>&1 || true
    "${LOAD_PIN[@]}" wrk -t1 -c500 -d"${WARMUP}s" "http://127.0.0.1:${PORT[$p]}/small" >/dev/null 2>&1 || true
  done
fi

IFS=, read -r -a case_list <<<"$CASES"
total=$(( ROUNDS * ${#case_list[@]} * ${#PROXIES[@]} ))
n=0
for (( r = 1; r <= ROUNDS; r++ )); do
  # Rotate the starting proxy every round so none is always first or last.
  order=()
  for (( i = 0; i < ${#PROXIES[@]}; i++ )); do
    order+=("${PROXIES[$(( (i + r - 1) % ${#PROXIES[@]} ))]}")
  done
  for c in "${case_list[@]}"; do
    body="${c%%-c*}"; conns="${c##*-c}"
    [[ -n "${PATH_OF[$body]:-}" ]] || die "unknown case $c"
    for p in "${order[@]}"; do
      n=$((n + 1))
      url="http://127.0.0.1:${PORT[$p]}${PATH_OF[$body]}"
      out="$RAW/r${r}__${c}__${p}.txt"
      "${LOAD_PIN[@]}" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$url" >"$out" 2>&1 || true
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      p99="$(awk '$1 == "99%" {print $2}' "$out")"
      log "[$n/$total] round $r $c $p: ${rps:-?} req/s, p99 ${p99:-?}"
      for pid in "$GATEHOUSE_PID" "$NGINX_PROXY_PID" "$HAPROXY_PID" "$UPSTREAM_PID"; do
        kill -0 "$pid" 2>/dev/null || die "a server (pid $pid) died during $p $c"
      done
      sleep 0.5
    done
  done
done

if [[ -n "${OUT_DIR:-}" ]]; then
  mkdir -p "$OUT_DIR" && cp "$RAW"/*.txt "$OUT_DIR"/
fi

echo "# Gatehouse vs nginx vs haproxy — $(machine_summary)"
echo "# $GH_ID"
echo "# workers $WORKERS, $PIN_DESC, wrk -t1, ${DURATION}s per run, $ROUNDS rounds, competitors' added headers: $BENCH_HEADERS, $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), haproxy $(/usr/sbin/haproxy -v | awk 'NR==1 {print $3}')"
echo
python3 "$BENCH_DIR/wrk_report.py" "$RAW" "$ALL_CASES"
