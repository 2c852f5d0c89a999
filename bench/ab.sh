#!/usr/bin/env bash
# A/B two Gatehouse binaries side by side with nginx, in one run.
#
#   bench/ab.sh BASE_BINARY NEW_BINARY
#
# Same upstream and cases as bench/run.sh (small and 64 KiB responses at 50
# and 500 connections); the three proxies are interleaved inside every case
# and round, the starting one rotating, so a change's effect shows as the
# ratio new/base measured minutes apart at most. Read the ratios: the machine
# is shared and noisy.
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=3, CASES=small-c500,..., PIN=auto|off (as bench/run.sh)
#   BASE_YAML, NEW_YAML  extra top-level config for either instance, so one
#                        binary can be compared with itself under two settings:
#   NEW_YAML='http: {splice_threshold: 0}' bench/ab.sh build/gatehouse build/gatehouse
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CASES="${CASES:-small-c50,small-c500,64k-c50,64k-c500}"

need wrk:wrk /usr/sbin/nginx:nginx-light curl:curl python3:python3
[[ $# -eq 2 ]] || die "usage: bench/ab.sh BASE_BINARY NEW_BINARY"
BASE="$(find_gatehouse "$1")"; NEW="$(find_gatehouse "$2")"
bench_init
raise_nofile 65536

UP_PORT="$(free_port)"; A_PORT="$(free_port)"; A_ADMIN="$(free_port)"
B_PORT="$(free_port)"; B_ADMIN="$(free_port)"; NG_PORT="$(free_port)"
log "machine: $(machine_summary)"
log "base: $BASE ($(gatehouse_id "$BASE"))"
log "new:  $NEW ($(gatehouse_id "$NEW"))"
[[ -n "${BASE_YAML:-}" ]] && log "base config: $BASE_YAML"
[[ -n "${NEW_YAML:-}" ]] && log "new config: $NEW_YAML"
start_upstream "$UP_PORT"
start_gatehouse "$BASE" "$A_PORT" "$A_ADMIN" "$UP_PORT" "$WORKERS" "${BASE_YAML:-}" base
A_PID=$GATEHOUSE_PID
start_gatehouse "$NEW" "$B_PORT" "$B_ADMIN" "$UP_PORT" "$WORKERS" "${NEW_YAML:-}" new
B_PID=$GATEHOUSE_PID
start_nginx_proxy "$NG_PORT" "$UP_PORT" "$WORKERS"
pin_processes "$WORKERS" "$A_PID" "$B_PID" "$(nginx_pids "$NGINX_PROXY_PID")"

declare -A PORT=([base]=$A_PORT [new]=$B_PORT [nginx]=$NG_PORT)
declare -A PATH_OF=([small]=/small [64k]=/files/64k.bin)
PROXIES=(base new nginx)
for p in "${PROXIES[@]}"; do
  wait_http_200 "http://127.0.0.1:${PORT[$p]}/small"
  "${LOAD_PIN[@]}" wrk -t1 -c500 -d2s "http://127.0.0.1:${PORT[$p]}/small" >/dev/null 2>&1 || true
done

RAW="${OUT_DIR:-$BENCH_TMP/wrk}"; mkdir -p "$RAW"
IFS=, read -r -a case_list <<<"$CASES"
for (( r = 1; r <= ROUNDS; r++ )); do
  order=()
  for (( i = 0; i < ${#PROXIES[@]}; i++ )); do order+=("${PROXIES[$(( (i + r - 1) % 3 ))]}"); done
  for c in "${case_list[@]}"; do
    body="${c%%-c*}"; conns="${c##*-c}"
    for p in "${order[@]}"; do
      out="$RAW/r${r}__${c}__${p}.txt"
      "${LOAD_PIN[@]}" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$p]}${PATH_OF[$body]}" >"$out" 2>&1 || true
      log "round $r $c $p: $(awk '/^Requests\/sec:/ {print $2}' "$out") req/s, p99 $(awk '$1 == "99%" {print $2}' "$out")"
      for pid in "$A_PID" "$B_PID" "$NGINX_PROXY_PID" "$UPSTREAM_PID"; do
        kill -0 "$pid" 2>/dev/null || die "a server (pid $pid) died during $p $c"
      done
      sleep 0.5
    done
  done
done

echo "# A/B — $(machine_summary), workers $WORKERS, $PIN_DESC, ${DURATION}s x $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$BENCH_DIR" "$RAW" "$CASES" <<'PY'
import os, statistics, sys
sys.path.insert(0, sys.argv[1])
from wrk_report import parse_wrk  # noqa: E402
raw, cases = sys.argv[2], sys.argv[3].split(",")
runs = {}
for f in os.listdir(raw):
    r, c, p = f[:-4].split("__")
    w = parse_wrk(open(os.path.join(raw, f)).read())
    runs.setdefault((c, p), {})[r] = (w["rps"], w["p50"], w["p99"])
def med_ratio(c, a, b, i):
    vals = [runs[(c, a)][r][i] / runs[(c, b)][r][i] for r in runs.get((c, a), {})
            if r in runs.get((c, b), {}) and runs[(c, a)][r][i] and runs[(c, b)][r][i]]
    return f"{statistics.median(vals):.2f}x" if vals else "n/a"
print("| case | rps new/base | p99 new/base | rps new/nginx | p99 new/nginx | rps base/nginx | p99 base/nginx |")
print("|---|---:|---:|---:|---:|---:|---:|")
for c in cases:
    print(f"| {c} | {med_ratio(c,'new','base',0)} | {med_ratio(c,'new','base',2)} | {med_ratio(c,'new','nginx',0)} | "
          f"{med_ratio(c,'new','nginx',2)} | {med_ratio(c,'base','nginx',0)} | {med_ratio(c,'base','nginx',2)} |")
PY
