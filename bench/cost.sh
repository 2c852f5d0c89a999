#!/usr/bin/env bash
# CPU cost per request: Gatehouse and nginx as reverse proxies, measured with
# `perf stat` on the proxy process only while wrk drives it. Reports CPU time
# (task-clock), syscalls and context switches per request, and the CPU time
# per request the upstream and wrk spent on the same run (what the proxy's
# messages cost the processes it shares the cores with).
#
# Why: requests/s on a shared 2-core machine moves with whatever else runs,
# and the load generator and upstream share the cores with the proxy. CPU
# time and syscalls per request are properties of the proxy's code path and
# stay readable on a loaded machine; they say where a throughput gap comes
# from (more work per request, or more waiting).
#
#   bench/cost.sh [path/to/gatehouse]
#
# Environment:
#   CASES=small-c50,small-c500,64k-c50   which cases (size-connections)
#   DURATION=6      wrk seconds per run; perf counts seconds 1..DURATION-1
#   ROUNDS=2        runs per (case, proxy), alternating which goes first
#   WORKERS=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASES="${CASES:-small-c50,small-c500,64k-c50}"
DURATION="${DURATION:-6}"
ROUNDS="${ROUNDS:-2}"
WORKERS="${WORKERS:-1}"

need wrk:wrk /usr/sbin/nginx:nginx-light curl:curl python3:python3 perf:linux-perf
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

declare -A PATH_OF=([small]=/small [64k]=/files/64k.bin)
UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"; NG_PORT="$(free_port)"
start_upstream "$UP_PORT"
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS"
start_nginx_proxy "$NG_PORT" "$UP_PORT" "$WORKERS"
wait_http_200 "http://127.0.0.1:$GH_PORT/small"
wait_http_200 "http://127.0.0.1:$NG_PORT/small"
log "gatehouse :$GH_PORT (pid $GATEHOUSE_PID), nginx :$NG_PORT (pid $NGINX_PROXY_PID), workers $WORKERS"

RAW="$BENCH_TMP/cost.tsv"
: >"$RAW"

# measure NAME PORT PIDS CASE: one wrk run with perf stat on PIDS (comma list).
measure() {
  local name="$1" port="$2" pids="$3" case="$4"
  local size="${case%%-*}" conns="${case##*-c}"
  local url="http://127.0.0.1:$port${PATH_OF[$size]}"
  local wrk_out="$BENCH_TMP/wrk-$name-$case.txt" perf_out="$BENCH_TMP/perf-$name-$case.txt"
  local side_out="$BENCH_TMP/perf-side-$name-$case.txt"
  wrk -t1 -c"$conns" -d"${DURATION}s" "$url" >"$wrk_out" 2>&1 &
  local wrk_pid=$!
  sleep 1
  # Counting stops a second before wrk does, so every counted second is under load.
  perf stat -x, -e task-clock --per-thread -p "$UP_PIDS,$wrk_pid" -- sleep $(( DURATION - 2 )) \
    2>"$side_out" >/dev/null &
  local side_pid=$!
  perf stat -x, -e task-clock,raw_syscalls:sys_enter,context-switches \
    -p "$pids" -- sleep $(( DURATION - 2 )) 2>"$perf_out" >/dev/null || true
  wait "$side_pid" || true
  wait "$wrk_pid" || true
  python3 - "$name" "$case" "$wrk_out" "$perf_out" $(( DURATION - 2 )) "$DURATION" "$side_out" >>"$RAW" <<'EOF'
import re, sys
name, case, wrk_out, perf_out, counted, total, side_out = sys.argv[1:8]
text = open(wrk_out).read()
m = re.search(r"Requests/sec:\s+([\d.]+)", text)
rps = float(m.group(1)) if m else 0.0
counts = {}
for line in open(perf_out):
    parts = line.strip().split(",")
    if len(parts) < 3 or not parts[0] or parts[0].startswith("<"):
        continue
    try:
        counts[parts[2]] = float(parts[0])
    except ValueError:
        pass
reqs = rps * float(counted)  # wrk's rate over the counted window
if reqs <= 0:
    sys.exit(0)
cpu_us = counts.get("task-clock", 0.0) * 1000.0 / reqs  # task-clock is in ms
sys_ = counts.get("raw_syscalls:sys_enter", 0.0) / reqs
cs = counts.get("context-switches", 0.0) / reqs
# --per-thread lines: "comm-tid,count,unit,event,..."; wrk's threads are named wrk.
up_ms = wrk_ms = 0.0
for line in open(side_out):
    parts = line.strip().split(",")
    if len(parts) < 4 or parts[3] != "task-clock":
        continue
    try:
        v = float(parts[1])
    except ValueError:
        continue
    if parts[0].startswith("wrk"):
        wrk_ms += v
    else:
        up_ms += v
print(f"{name}\t{case}\t{rps:.0f}\t{cpu_us:.2f}\t{sys_:.2f}\t{cs:.3f}\t{up_ms * 1000 / reqs:.2f}\t{wrk_ms * 1000 / reqs:.2f}")
EOF
  tail -n1 "$RAW" | awk -F'\t' '{printf "[%s] %-10s %-10s %8s req/s  %6s us CPU/req  %5s syscalls/req  %6s ctx-sw/req  upstream %s us/req  wrk %s us/req\n", strftime("%H:%M:%S"), $1, $2, $3, $4, $5, $6, $7, $8}' >&2
}

NG_PIDS="$(nginx_pids "$NGINX_PROXY_PID" | paste -sd,)"
UP_PIDS="$(nginx_pids "$UPSTREAM_PID" | paste -sd,)"
IFS=, read -r -a case_list <<<"$CASES"
for (( r = 1; r <= ROUNDS; r++ )); do
  for c in "${case_list[@]}"; do
    if (( r % 2 )); then
      measure gatehouse "$GH_PORT" "$GATEHOUSE_PID" "$c"; measure nginx "$NG_PORT" "$NG_PIDS" "$c"
    else
      measure nginx "$NG_PORT" "$NG_PIDS" "$c"; measure gatehouse "$GH_PORT" "$GATEHOUSE_PID" "$c"
    fi
  done
done

echo "# $GH_ID"
echo "# $(machine_summary); workers $WORKERS, wrk -t1, ${DURATION}s runs (perf counts $(( DURATION - 2 ))s), $ROUNDS rounds; medians; nginx headers: $BENCH_HEADERS"
python3 - "$RAW" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, case, rps, cpu, sc, cs, up, wrk in rows:
    by.setdefault((case, name), []).append(
        (float(rps), float(cpu), float(sc), float(cs), float(up), float(wrk)))
def med(vals, i):
    return statistics.median(v[i] for v in vals)
print()
print("| case | proxy | req/s | CPU µs/req | syscalls/req | ctx switches/req | upstream µs/req | wrk µs/req |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
cases = sorted({c for c, _ in by}, key=lambda c: [r[1] for r in rows].index(c))
for case in cases:
    for name in ("gatehouse", "nginx"):
        v = by.get((case, name))
        if v:
            print(f"| {case} | {name} | {med(v,0):,.0f} | {med(v,1):.2f} | {med(v,2):.2f} | {med(v,3):.3f} "
                  f"| {med(v,4):.2f} | {med(v,5):.2f} |")
print()
print("| case | CPU/req GH/nginx | syscalls/req GH/nginx | ctx switches/req GH/nginx | proxy+upstream+wrk CPU/req GH/nginx |")
print("|---|---:|---:|---:|---:|")
for case in cases:
    g, n = by.get((case, "gatehouse")), by.get((case, "nginx"))
    if g and n:
        tot = lambda v: med(v, 1) + med(v, 4) + med(v, 5)
        print(f"| {case} | {med(g,1)/med(n,1):.2f}x | {med(g,2)/med(n,2):.2f}x | {med(g,3)/max(med(n,3),1e-9):.2f}x "
              f"| {tot(g)/tot(n):.2f}x |")
EOF
