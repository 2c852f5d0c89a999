#!/usr/bin/env bash
# Latency at a fixed request rate: Gatehouse, nginx and haproxy side by side.
#
#   bench/latency.sh [path/to/gatehouse]
#
# Why: wrk (bench/run.sh) keeps a fixed number of requests in flight, so a
# proxy that answers faster also gets more requests, and its percentiles are
# measured at a higher load than its competitors'. Here every proxy gets the
# same open-loop load (bench/fixed_rate.cpp: request i is sent at start + i/rate
# whatever happened before, latency counted from when it was due), so the
# p50/p99/p99.9 compare the same work at the same rate. Same upstream, proxies
# and headers as bench/run.sh (BENCH_HEADERS applies).
#
# Environment:
#   WORKERS=1
#   DURATION=8        measured seconds per run (after 1 s of warm-up)
#   ROUNDS=2          the starting proxy rotates per round
#   CASES=small@10000,small@20000,64k@5000,64k@10000   size@requests-per-second
#   CONNS=256         keep-alive connections of the driver (one request in flight each)
#   WARMUP=3          seconds per proxy at the highest rate before the first round
#   PIN=auto|off      auto (default): proxies on CPUs 0..WORKERS-1, upstream and driver on the rest
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-8}"
ROUNDS="${ROUNDS:-2}"
CASES="${CASES:-small@10000,small@20000,64k@5000,64k@10000}"
CONNS="${CONNS:-256}"

need /usr/sbin/nginx:nginx-light /usr/sbin/haproxy:haproxy curl:curl python3:python3 g++:g++
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

DRIVER="$BENCH_TMP/fixed_rate"
g++ -std=c++20 -O2 -o "$DRIVER" "$BENCH_DIR/fixed_rate.cpp"

start_three_proxies "$GATEHOUSE" "$WORKERS"
for p in "${PROXIES[@]}"; do wait_http_200 "http://127.0.0.1:${PORT[$p]}/small"; done

# Warm-up: every proxy gets the highest rate of the list for WARMUP seconds
# first, so pools and buffers have grown before anything is timed.
WARMUP="${WARMUP:-3}"
IFS=, read -r -a case_list <<<"$CASES"
max_rate=0
for c in "${case_list[@]}"; do (( ${c##*@} > max_rate )) && max_rate=${c##*@}; done
for p in "${PROXIES[@]}"; do
  log "warm-up $p (${WARMUP}s at $max_rate req/s)"
  "${LOAD_PIN[@]}" "$DRIVER" --port "${PORT[$p]}" --path /small --rate "$max_rate" --duration "$WARMUP" --warmup 0 \
    --conns "$CONNS" >/dev/null || die "warm-up failed on $p"
done

RAW="$BENCH_TMP/latency.jsonl"
: >"$RAW"
total=$(( ROUNDS * ${#case_list[@]} * ${#PROXIES[@]} )); n=0
for (( r = 1; r <= ROUNDS; r++ )); do
  for c in "${case_list[@]}"; do
    size="${c%%@*}"; rate="${c##*@}"
    [[ -n "${PATH_OF[$size]:-}" ]] || die "unknown size in case $c (small or 64k)"
    for (( k = 0; k < ${#PROXIES[@]}; k++ )); do
      p="${PROXIES[$(( (k + r - 1) % ${#PROXIES[@]} ))]}"
      out="$("${LOAD_PIN[@]}" "$DRIVER" --port "${PORT[$p]}" --path "${PATH_OF[$size]}" --rate "$rate" \
        --duration "$DURATION" --warmup 1 --conns "$CONNS")" || die "driver failed on $p"
      n=$((n + 1))
      # One line per run into RAW; the summary of it for the log.
      log "[$n/$total] round $r $c $p: $(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
d.update(proxy=sys.argv[2], case=sys.argv[3], round=int(sys.argv[4]))
with open(sys.argv[5], "a") as f:
    f.write(json.dumps(d) + "\n")
print("%.0f req/s, p50 %.0f us, p99 %.0f us, errors %d"
      % (d["achieved_rps"], d["p50_us"], d["p99_us"], d["errors"]))' "$out" "$p" "$c" "$r" "$RAW")"
    done
  done
done

echo "# Latency at fixed rates — $(machine_summary)"
echo "# $GH_ID"
echo "# workers $WORKERS, $PIN_DESC, ${DURATION}s per run, $ROUNDS rounds, $CONNS connections, competitors' added headers: $BENCH_HEADERS"
python3 - "$RAW" "$CASES" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cases = sys.argv[2].split(",")
proxies = ["gatehouse", "nginx", "haproxy"]
med = statistics.median
def ms(us): return f"{us / 1000:.2f} ms"
print()
print("| case | proxy | achieved req/s | p50 | p90 | p99 | p99.9 | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for c in cases:
    for p in proxies:
        rs = [r for r in rows if r["case"] == c and r["proxy"] == p]
        if not rs: continue
        print(f"| {c} | {p} | {med(r['achieved_rps'] for r in rs):,.0f} | {ms(med(r['p50_us'] for r in rs))} "
              f"| {ms(med(r['p90_us'] for r in rs))} | {ms(med(r['p99_us'] for r in rs))} "
              f"| {ms(med(r['p999_us'] for r in rs))} | {sum(r['errors'] + r['non2xx'] for r in rs)} |")
print()
print("Ratios Gatehouse/competitor (lower is better), median of per-round ratios:")
print()
print("| case | p50 GH/nginx | p99 GH/nginx | p99.9 GH/nginx | p50 GH/haproxy | p99 GH/haproxy | p99 GH/nginx per round |")
print("|---|---:|---:|---:|---:|---:|---:|")
for c in cases:
    per = {}
    for r in rows:
        if r["case"] == c: per.setdefault(r["round"], {})[r["proxy"]] = r
    def ratios(k, comp):
        return [v["gatehouse"][k] / v[comp][k] for v in per.values()
                if "gatehouse" in v and comp in v and v[comp][k] > 0]
    f = lambda xs: f"{med(xs):.2f}x" if xs else "n/a"
    print(f"| {c} | {f(ratios('p50_us','nginx'))} | {f(ratios('p99_us','nginx'))} | {f(ratios('p999_us','nginx'))} "
          f"| {f(ratios('p50_us','haproxy'))} | {f(ratios('p99_us','haproxy'))} "
          f"| {' '.join(f'{x:.2f}x' for x in ratios('p99_us','nginx'))} |")
EOF
