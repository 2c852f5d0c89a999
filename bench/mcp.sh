#!/usr/bin/env bash
# MCP through Gatehouse vs direct: the same SDK server (tests/node/
# mcp_fixture_server.mjs, streamable HTTP) called by wrk
#   1. tools/call latency, one connection, one session, sequential calls:
#      p50/p99 through the gateway and direct; the difference is what the
#      gateway adds (route, session token, JSON-RPC parse, MCP thread hop,
#      one upstream HTTP request per message);
#   2. sessions per second: `initialize` without a session, CONNS connections
#      (through the gateway each one also opens the upstream session);
#   3. memory per session: the gateway's RSS growth over phase 2 divided by
#      the sessions it created (sessions are sealed tokens, so this is what
#      the upstream-session bookkeeping costs, not a session table).
#
#   bench/mcp.sh [path/to/gatehouse]
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=2, CONNS=8.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
CONNS="${CONNS:-8}"

need wrk:wrk node:nodejs curl:curl python3:python3
[[ -d "$REPO_DIR/tests/node/node_modules/@modelcontextprotocol/sdk" ]] ||
  die "tests/node/node_modules missing: run scripts/bootstrap"
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
log "machine: $(machine_summary)"
log "gatehouse: $GATEHOUSE ($GH_ID)"

node "$REPO_DIR/tests/node/mcp_fixture_server.mjs" 0 >"$BENCH_TMP/fixture.out" 2>/dev/null &
BENCH_PIDS+=("$!")
for _ in $(seq 1 100); do [[ -s "$BENCH_TMP/fixture.out" ]] && break; sleep 0.1; done
UP_PORT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$BENCH_TMP/fixture.out")"

dir="$BENCH_TMP/gatehouse"
mkdir -p "$dir"
cat > "$dir/gatehouse.yaml" <<YAML
access_log: {enabled: false}
mcp:
  servers:
    - {name: fixture, url: "http://127.0.0.1:$UP_PORT/mcp"}
routes:
  - name: tools
    match: {paths: ["/mcp"]}
    mcp: {servers: [fixture], prefix: never}
YAML
"$GATEHOUSE" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$GH_PORT" \
  --admin-listen "127.0.0.1:$GH_ADMIN" --workers "$WORKERS" 2>"$dir/stderr" &
GH_PID="$!"
BENCH_PIDS+=("$GH_PID")
wait_port "$GH_PORT" "gatehouse"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}'
HDRS=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream')

session() {  # session PORT -> Mcp-Session-Id after initialize + initialized
  local sid
  sid="$(curl -s -D - -o /dev/null "${HDRS[@]}" -d "$INIT" "http://127.0.0.1:$1/mcp" |
         awk -F': ' 'tolower($1) == "mcp-session-id" {gsub("\r", "", $2); print $2}')"
  [[ -n "$sid" ]] || die "no session from port $1"
  curl -s -o /dev/null "${HDRS[@]}" -H "mcp-session-id: $sid" -H 'mcp-protocol-version: 2025-11-25' \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "http://127.0.0.1:$1/mcp"
  echo "$sid"
}

cat > "$BENCH_TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local sid = os.getenv("SID")
if sid and sid ~= "" then
  wrk.headers["Mcp-Session-Id"] = sid
  wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
end
LUA

run_wrk() {  # run_wrk PORT CONNS BODY SID OUT
  BODY="$3" SID="$4" wrk -t1 -c"$2" -d"$DURATION" --latency -s "$BENCH_TMP/post.lua" \
    "http://127.0.0.1:$1/mcp" >"$5" 2>&1
  if grep -q "Non-2xx" "$5"; then cat "$5" >&2; die "errors in $5"; fi
}

GH_SID="$(session "$GH_PORT")"; UP_SID="$(session "$UP_PORT")"
v="$(curl -s "${HDRS[@]}" -H "mcp-session-id: $GH_SID" -H 'mcp-protocol-version: 2025-11-25' \
     -d "$CALL" "http://127.0.0.1:$GH_PORT/mcp")"
[[ "$v" == *"fixture echo: hi"* ]] || die "tools/call through the gateway answered: $v"

out="$BENCH_TMP/out"; mkdir -p "$out"
for (( r = 1; r <= ROUNDS; r++ )); do
  for name in gatehouse direct; do
    if [[ "$name" == gatehouse ]]; then port="$GH_PORT" sid="$GH_SID"; else port="$UP_PORT" sid="$UP_SID"; fi
    run_wrk "$port" 1 "$CALL" "$sid" "$out/call_${name}_$r.txt"
    log "round $r $name tools/call: $(awk '/ 50%/ {print "p50 " $2} / 99%/ {print "p99 " $2}' "$out/call_${name}_$r.txt" | tr '\n' ' ')"
  done
  for name in gatehouse direct; do
    port="$GH_PORT"; [[ "$name" == direct ]] && port="$UP_PORT"
    before="$(rss_kib "$GH_PID")"
    run_wrk "$port" "$CONNS" "$INIT" "" "$out/init_${name}_$r.txt"
    after="$(rss_kib "$GH_PID")"
    echo "$before $after" > "$out/rss_${name}_$r.txt"
    log "round $r $name initialize: $(awk '/Requests\/sec/ {print $2}' "$out/init_${name}_$r.txt") sessions/s"
  done
done

echo
echo "MCP tools/call and initialize, gateway vs direct to the same SDK server; wrk -t1, ${DURATION}s, WORKERS=$WORKERS, $ROUNDS rounds ($GH_ID)"
python3 - "$out" "$ROUNDS" "$CONNS" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
def lat(path, pct):
    for line in open(path):
        m = re.match(r"\s+%s%%\s+([0-9.]+)(us|ms|s)" % pct, line)
        if m: return float(m.group(1)) * unit[m.group(2)]
def field(path, name):
    for line in open(path):
        if line.strip().startswith(name): return float(line.split()[1])
def reqs(path):
    for line in open(path):
        m = re.match(r"\s+(\d+) requests in", line)
        if m: return int(m.group(1))
m = statistics.median
R = range(1, rounds + 1)
p = {(n, q): m([lat(f"{out}/call_{n}_{r}.txt", q) for r in R]) for n in ("gatehouse", "direct") for q in (50, 99)}
s = {n: m([field(f"{out}/init_{n}_{r}.txt", "Requests/sec:") for r in R]) for n in ("gatehouse", "direct")}
kib = []
for r in R:
    b, a = map(int, open(f"{out}/rss_gatehouse_{r}.txt").read().split())
    kib.append((a - b) * 1024 / max(1, reqs(f"{out}/init_gatehouse_{r}.txt")))
print("| measure | through Gatehouse | direct | added by Gatehouse |")
print("|---|---:|---:|---:|")
for q in (50, 99):
    print("| tools/call p%d (1 connection) | %.2f ms | %.2f ms | %+.2f ms |" % (q, p[("gatehouse", q)], p[("direct", q)], p[("gatehouse", q)] - p[("direct", q)]))
print("| sessions/s (initialize, %s connections) | %.0f | %.0f | %.2fx |" % (sys.argv[3] if len(sys.argv) > 3 else "?", s["gatehouse"], s["direct"], s["gatehouse"] / s["direct"]))
print("| gateway RSS growth per session | %.0f bytes | | |" % m(kib))
PY
