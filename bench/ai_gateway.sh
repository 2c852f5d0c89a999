#!/usr/bin/env bash
# AI gateway overhead and throughput: Gatehouse's llm route against
#   - the built-in mock provider (no network behind the gateway at all),
#   - a fake OpenAI provider (nginx answering a fixed chat completion, JSON or
#     SSE, with no latency), called directly (the baseline) and through
#     Gatehouse and through Portkey's open-source gateway (@portkey-ai/gateway,
#     Node.js), both pointed at the same nginx.
#
#   bench/ai_gateway.sh [path/to/gatehouse]
#
# Latency: bench/fixed_rate.cpp, an open-loop driver (compiled here) that sends
# at a fixed rate and measures from each request's due time (wrk2's correction
# for coordinated omission; wrk2 is not packaged in Debian and h2load --rate
# paces connections, not requests). Overhead = gateway p50/p99 - direct p50/p99.
# Throughput per core: wrk (closed loop) against each gateway pinned to one
# core (taskset), Gatehouse with 1 worker, Portkey as one Node.js process.
#
# Environment:
#   RATES="1000 5000"  fixed rates (req/s)
#   DURATION=10        seconds measured per fixed-rate run (after WARMUP=2)
#   CONNS=64           connections of the fixed-rate driver
#   TPUT_DURATION=10   seconds per wrk throughput run, TPUT_CONNS=32
#   PORTKEY=1          0 skips Portkey (it needs `scripts/bootstrap --bench`)
#   GATEHOUSE_CPU=0 DRIVER_CPU=1  cores for the gateway under test and the drivers
# Runtime with the defaults: about 4 minutes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATES="${RATES:-1000 5000}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNS="${CONNS:-64}"
TPUT_DURATION="${TPUT_DURATION:-10}"
TPUT_CONNS="${TPUT_CONNS:-32}"
PORTKEY="${PORTKEY:-1}"
GATEHOUSE_CPU="${GATEHOUSE_CPU:-0}"
DRIVER_CPU="${DRIVER_CPU:-1}"

need wrk:wrk /usr/sbin/nginx:nginx-light g++:g++ taskset:util-linux python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536
log "machine: $(machine_summary)"
log "gatehouse: $GH_ID"

# ---- the driver
DRIVER="$BENCH_TMP/fixed_rate"
g++ -std=c++20 -O2 -o "$DRIVER" "$BENCH_DIR/fixed_rate.cpp"

# ---- the fake provider: nginx answering OpenAI Chat Completions at once
FAKE_PORT="$(free_port)"
fdir="$BENCH_TMP/fake"
mkdir -p "$fdir/logs" "$fdir/tmp"
JSON_ANSWER='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}'
sse_chunk() { printf 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[%s]%s}\n\n' "$1" "${2:-}"; }
SSE_ANSWER="$(
  sse_chunk '{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}'
  for w in "Hello!" " How" " can" " I" " help" " you" " today?"; do
    sse_chunk "{\"index\":0,\"delta\":{\"content\":\"$w\"},\"finish_reason\":null}"
  done
  sse_chunk '{"index":0,"delta":{},"finish_reason":"stop"}'
  sse_chunk '' ',"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}'
  printf 'data: [DONE]\n\n'
)"
printf '%s' "$JSON_ANSWER" > "$fdir/answer.json"
printf '%s' "$SSE_ANSWER" > "$fdir/answer.sse"
cat > "$fdir/nginx.conf" <<EOF
worker_processes 1;
error_log $fdir/logs/error.log warn;
pid $fdir/logs/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $fdir/tmp/body;
  proxy_temp_path $fdir/tmp/proxy;
  fastcgi_temp_path $fdir/tmp/fastcgi;
  uwsgi_temp_path $fdir/tmp/uwsgi;
  scgi_temp_path $fdir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$FAKE_PORT backlog=4096;
    # POST is answered from a file through error_page (the static module
    # refuses POST with 405), with the answer's own content type.
    location = /json/v1/chat/completions {
      error_page 405 =200 /answer.json;
      return 405;
    }
    location = /sse/v1/chat/completions {
      error_page 405 =200 /answer.sse;
      return 405;
    }
    location = /answer.json { root $fdir; default_type application/json; }
    # Streamed answers go chunked, as providers send them (sub_filter drops
    # Content-Length); Portkey fails on an event stream with a length.
    location = /answer.sse {
      root $fdir;
      default_type text/event-stream;
      sub_filter_types text/event-stream;
      sub_filter '[DONE]' '[DONE]';
    }
  }
}
EOF
taskset -c "$DRIVER_CPU" /usr/sbin/nginx -c "$fdir/nginx.conf" -g 'daemon off;' &
BENCH_PIDS+=("$!")
wait_port "$FAKE_PORT" "fake provider (nginx)"

# ---- request bodies
BODY="$BENCH_TMP/body.json"
SBODY="$BENCH_TMP/body_stream.json"
printf '%s' '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there, say hello back."}],"max_tokens":64}' > "$BODY"
printf '%s' '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello there, say hello back."}],"max_tokens":64}' > "$SBODY"
MBODY="$BENCH_TMP/body_mock.json"
MSBODY="$BENCH_TMP/body_mock_stream.json"
sed 's/gpt-4o-mini/echo/' "$BODY" > "$MBODY"
sed 's/gpt-4o-mini/echo/' "$SBODY" > "$MSBODY"

# ---- Gatehouse: one worker, pinned
GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
gdir="$BENCH_TMP/gatehouse-ai"
mkdir -p "$gdir"
cat > "$gdir/gatehouse.yaml" <<YAML
access_log: {enabled: false}
llm:
  providers:
    - {name: fake, kind: openai, base_url: "http://127.0.0.1:$FAKE_PORT/json", api_key: "sk-bench"}
    - {name: fake-sse, kind: openai, base_url: "http://127.0.0.1:$FAKE_PORT/sse", api_key: "sk-bench"}
    - {name: mock, kind: mock, mock: {latency: 0s, tokens_per_second: 0, reply: "Hello! How can I help you today?"}}
  models:
    - {name: gpt-4o-mini, targets: [{provider: fake, model: gpt-4o-mini}]}
    - {name: gpt-4o-mini-sse, targets: [{provider: fake-sse, model: gpt-4o-mini}]}
    - {name: echo, targets: [{provider: mock, model: mock-1}]}
routes:
  - name: ai
    match: {paths: ["/v1/"]}
    llm: {models: [gpt-4o-mini, gpt-4o-mini-sse, echo]}
YAML
taskset -c "$GATEHOUSE_CPU" "$GATEHOUSE" serve -c "$gdir/gatehouse.yaml" \
  --proxy-listen "127.0.0.1:$GH_PORT" --admin-listen "127.0.0.1:$GH_ADMIN" --workers 1 \
  2>"$gdir/stderr" &
BENCH_PIDS+=("$!")
wait_port "$GH_PORT" "gatehouse"
GSBODY="$BENCH_TMP/body_gh_stream.json"
sed 's/gpt-4o-mini/gpt-4o-mini-sse/' "$SBODY" > "$GSBODY"

# ---- Portkey: one Node.js process, pinned
PK_PORT=""
if [[ "$PORTKEY" == 1 ]]; then
  PK_JS="$REPO_DIR/bench/portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
  [[ -f "$PK_JS" ]] || "$REPO_DIR/scripts/bootstrap" --bench >&2
  PK_PORT="$(free_port)"
  # A clean environment: the bench's own variables must not reach Portkey.
  env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production taskset -c "$GATEHOUSE_CPU" \
    node "$PK_JS" --port="$PK_PORT" --headless \
    >"$BENCH_TMP/portkey.log" 2>&1 &
  BENCH_PIDS+=("$!")
  wait_port "$PK_PORT" "portkey"
  sleep 3  # it listens before it has loaded; an early request can leave it failing
  PK_VERSION="$(node -p "require('$REPO_DIR/bench/portkey/node_modules/@portkey-ai/gateway/package.json').version")"
  log "portkey: @portkey-ai/gateway $PK_VERSION ($(node --version))"
fi
PK_HDR=(--header "x-portkey-provider: openai" --header "Authorization: Bearer sk-bench")

# Sanity: every target answers what a client expects before anything is timed.
check() {  # check URL BODYFILE [curl header args...]
  local url="$1" body="$2"; shift 2
  local out
  for _ in $(seq 1 20); do  # Portkey accepts connections before it is ready
    out="$(curl -s -m 5 -X POST "$url" -H 'Content-Type: application/json' "$@" --data-binary "@$body")"
    [[ "$out" == *"How"* ]] && return 0
    sleep 0.5
  done
  log "$url ($(basename "$body")) answered: ${out:0:300}"
  return 1
}
PK_SSE=1
check "http://127.0.0.1:$FAKE_PORT/json/v1/chat/completions" "$BODY" || die "fake provider"
check "http://127.0.0.1:$FAKE_PORT/sse/v1/chat/completions" "$SBODY" || die "fake provider"
for b in "$BODY" "$GSBODY" "$MBODY" "$MSBODY"; do
  check "http://127.0.0.1:$GH_PORT/v1/chat/completions" "$b" || die "gatehouse"
done
if [[ -n "$PK_PORT" ]]; then
  check "http://127.0.0.1:$PK_PORT/v1/chat/completions" "$BODY" -H "x-portkey-provider: openai" \
    -H "x-portkey-custom-host: http://127.0.0.1:$FAKE_PORT/json/v1" -H "Authorization: Bearer sk-bench" ||
    die "portkey"
  check "http://127.0.0.1:$PK_PORT/v1/chat/completions" "$SBODY" -H "x-portkey-provider: openai" \
    -H "x-portkey-custom-host: http://127.0.0.1:$FAKE_PORT/sse/v1" -H "Authorization: Bearer sk-bench" ||
    { PK_SSE=0; log "portkey: streaming fails against the fake provider; its SSE cases are skipped"; }
fi

# run NAME RATE PORT PATH BODY [driver args...] -> one result line
RESULTS="$BENCH_TMP/results.jsonl"
run() {
  local name="$1" rate="$2" port="$3" path="$4" body="$5"; shift 5
  local line
  line="$(taskset -c "$DRIVER_CPU" "$DRIVER" --port "$port" --path "$path" --body-file "$body" \
    --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" --conns "$CONNS" "$@")"
  echo "{\"case\":\"$name\",${line:1}" | tee -a "$RESULTS" >&2
}

log "fixed-rate latency (load avg $(cut -d' ' -f1-3 /proc/loadavg))"
for rate in $RATES; do
  run direct-json "$rate" "$FAKE_PORT" /json/v1/chat/completions "$BODY"
  run direct-sse "$rate" "$FAKE_PORT" /sse/v1/chat/completions "$SBODY"
  run gatehouse-mock-json "$rate" "$GH_PORT" /v1/chat/completions "$MBODY"
  run gatehouse-mock-sse "$rate" "$GH_PORT" /v1/chat/completions "$MSBODY"
  run gatehouse-json "$rate" "$GH_PORT" /v1/chat/completions "$BODY"
  run gatehouse-sse "$rate" "$GH_PORT" /v1/chat/completions "$GSBODY"
  if [[ -n "$PK_PORT" ]]; then
    run portkey-json "$rate" "$PK_PORT" /v1/chat/completions "$BODY" "${PK_HDR[@]}" \
      --header "x-portkey-custom-host: http://127.0.0.1:$FAKE_PORT/json/v1"
    [[ "$PK_SSE" == 1 ]] && run portkey-sse "$rate" "$PK_PORT" /v1/chat/completions "$SBODY" "${PK_HDR[@]}" \
      --header "x-portkey-custom-host: http://127.0.0.1:$FAKE_PORT/sse/v1"
  fi
done

# Throughput per core: wrk with a POST body (Lua), each gateway on one core.
tput() {  # tput NAME PORT BODY [header lines for lua]
  local name="$1" port="$2" body="$3" hdrs="${4:-}"
  local lua="$BENCH_TMP/$name.lua" rps
  {
    echo 'wrk.method = "POST"'
    printf 'wrk.body = [[%s]]\n' "$(cat "$body")"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    printf '%s' "$hdrs"
  } > "$lua"
  rps="$(taskset -c "$DRIVER_CPU" wrk -t1 -c"$TPUT_CONNS" -d"${TPUT_DURATION}s" -s "$lua" \
    "http://127.0.0.1:$port/v1/chat/completions" | awk '/^Requests\/sec/ {print $2}')"
  echo "{\"case\":\"tput-$name\",\"rps\":${rps:-0}}" | tee -a "$RESULTS" >&2
}
log "throughput per core (load avg $(cut -d' ' -f1-3 /proc/loadavg))"
tput gatehouse-json "$GH_PORT" "$BODY"
tput gatehouse-sse "$GH_PORT" "$GSBODY"
tput gatehouse-mock-json "$GH_PORT" "$MBODY"
if [[ -n "$PK_PORT" ]]; then
  pk_lua() {
    printf 'wrk.headers["x-portkey-provider"] = "openai"\nwrk.headers["Authorization"] = "Bearer sk-bench"\nwrk.headers["x-portkey-custom-host"] = "http://127.0.0.1:%s/%s/v1"\n' "$FAKE_PORT" "$1"
  }
  tput portkey-json "$PK_PORT" "$BODY" "$(pk_lua json)"
  [[ "$PK_SSE" == 1 ]] && tput portkey-sse "$PK_PORT" "$SBODY" "$(pk_lua sse)"
fi

log "load avg at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lat = {(r["case"], r["rate"]): r for r in rows if "rate" in r}
tput = {r["case"][5:]: r["rps"] for r in rows if r["case"].startswith("tput-")}
print("\n| case | rate | achieved | p50 us | p99 us | p50 overhead us | p99 overhead us | errors |")
print("|---|---|---|---|---|---|---|---|")
for (case, rate), r in lat.items():
    kind = "sse" if case.endswith("sse") else "json"
    base = lat.get(("direct-" + kind, rate))
    o50 = o99 = ""
    if base and not case.startswith("direct"):
        o50 = "%d" % (r["p50_us"] - base["p50_us"])
        o99 = "%d" % (r["p99_us"] - base["p99_us"])
    print("| %s | %d | %.0f | %d | %d | %s | %s | %d |" % (
        case, rate, r["achieved_rps"], r["p50_us"], r["p99_us"], o50, o99,
        r["errors"] + r["non2xx"]))
if tput:
    print("\n| throughput, one core | req/s |")
    print("|---|---|")
    for k, v in tput.items():
        print("| %s | %.0f |" % (k, v))
    for kind in ("json", "sse"):
        g, p = tput.get("gatehouse-" + kind), tput.get("portkey-" + kind)
        if g and p:
            print("\nGatehouse / Portkey per core (%s): %.1fx" % (kind, g / p))
PY
