#!/usr/bin/env bash
# Where Gatehouse spends its CPU under load: perf (cpu-clock, DWARF call
# graphs) on the running process for a few seconds of a wrk run.
#
#   bench/profile.sh [path/to/gatehouse]
#
# Environment:
#   CASE=small|64k    response size (default small)
#   CONNS=50          wrk connections
#   DURATION=10       wrk seconds; perf samples PERF_SECONDS (5) from second 2
#   WORKERS=1
#   TOP=25            how many symbols to print
#   OUT=file          keep perf.data there
# Without a usable perf (e.g. no perf_event access in a container) it falls
# back to valgrind --tool=callgrind on a short run of a few thousand requests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CASE="${CASE:-small}"
CONNS="${CONNS:-50}"
DURATION="${DURATION:-10}"
PERF_SECONDS="${PERF_SECONDS:-5}"
WORKERS="${WORKERS:-1}"
TOP="${TOP:-25}"

need wrk:wrk /usr/sbin/nginx:nginx-light curl:curl python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"  # taken now: the file may be rebuilt mid-run
bench_init
raise_nofile 65536

declare -A PATH_OF=([small]=/small [64k]=/files/64k.bin)
URL_PATH="${PATH_OF[$CASE]:-}"
[[ -n "$URL_PATH" ]] || die "CASE must be small or 64k"

perf_ok() {
  command -v perf >/dev/null 2>&1 || apt-get install -y -q linux-perf >&2 || return 1
  perf record -e cpu-clock -o "$BENCH_TMP/probe.data" -- true >/dev/null 2>&1
}

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
start_upstream "$UP_PORT"

if perf_ok; then
  start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS"
  wait_http_200 "http://127.0.0.1:$GH_PORT$URL_PATH"
  DATA="${OUT:-$BENCH_TMP/perf.data}"
  log "wrk -c$CONNS ${DURATION}s on $URL_PATH; perf on pid $GATEHOUSE_PID for ${PERF_SECONDS}s"
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$GH_PORT$URL_PATH" >"$BENCH_TMP/wrk.txt" 2>&1 &
  wrk_pid=$!
  BENCH_PIDS+=("$wrk_pid")
  sleep 2
  perf record -e cpu-clock -F 999 --call-graph dwarf,8192 -p "$GATEHOUSE_PID" -o "$DATA" \
    -- sleep "$PERF_SECONDS" >/dev/null 2>&1
  wait "$wrk_pid" || true
  echo "# perf profile of gatehouse — $CASE responses, $CONNS connections — $(machine_summary)"
  echo "# $GH_ID"
  grep -E 'Requests/sec|99%' "$BENCH_TMP/wrk.txt" | sed 's/^/# wrk: /'
  echo
  echo "## self time by symbol (top $TOP)"
  perf report -i "$DATA" --no-children --stdio --sort dso,symbol -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | cut -c1-150 | head -n "$TOP" || true
  echo
  echo "## self time by shared object"
  perf report -i "$DATA" --no-children --stdio --sort dso -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | head -n 8 || true
  echo
  echo "## inclusive time, gatehouse functions (top $TOP)"
  perf report -i "$DATA" --children --stdio --sort symbol -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | grep -E 'gatehouse::' | cut -c1-170 | head -n "$TOP" || true
else
  need valgrind:valgrind
  log "perf is not usable here; falling back to callgrind"
  dir="$BENCH_TMP/gatehouse"; mkdir -p "$dir"
  cat > "$dir/gatehouse.yaml" <<EOF
access_log: {enabled: false}
upstreams:
  - name: up
    targets: ["127.0.0.1:$UP_PORT"]
routes:
  - name: all
    match: {paths: ["/"]}
    upstream: up
EOF
  valgrind --tool=callgrind --callgrind-out-file="$BENCH_TMP/callgrind.out" \
    "$GATEHOUSE" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$GH_PORT" \
    --admin-listen "127.0.0.1:$GH_ADMIN" --workers 1 2>"$dir/stderr" &
  GATEHOUSE_PID=$!
  BENCH_PIDS+=("$GATEHOUSE_PID")
  for _ in $(seq 1 600); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GH_PORT$URL_PATH" || true)" == 200 ]] && break
    sleep 0.1
  done
  wrk -t1 -c10 -d10s "http://127.0.0.1:$GH_PORT$URL_PATH" | grep -E 'requests in'
  kill -TERM "$GATEHOUSE_PID"; wait "$GATEHOUSE_PID" || true
  echo "# callgrind profile of gatehouse — $CASE responses — $(machine_summary)"
  callgrind_annotate "$BENCH_TMP/callgrind.out" 2>/dev/null | head -n $(( TOP + 25 )) || true
fi
