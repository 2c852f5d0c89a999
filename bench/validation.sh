#!/usr/bin/env bash
# Cost of request validation through the gateway: the same route with and
# without the request-validation policy, for a GET with three typed query
# parameters and for a POST with a 10-item JSON order (about 800 bytes)
# validated against a $ref'd schema. Small responses (nginx `return 200`).
#
#   bench/validation.sh [path/to/gatehouse]
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=3, CONNS=50
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

UP_PORT="$(free_port)"
log "machine: $(machine_summary)"
start_upstream "$UP_PORT"

dir="$BENCH_TMP/gatehouse-validation"
mkdir -p "$dir"
cat > "$dir/orders.yaml" <<'YAML'
openapi: 3.1.0
info: {title: Orders, version: "1"}
paths:
  /small:
    get:
      operationId: listOrders
      parameters:
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: status, in: query, schema: {type: array, items: {enum: [open, paid, shipped]}}}
        - {name: X-Request-Id, in: header, schema: {type: string, format: uuid}}
      responses: {"200": {description: ok}}
    post:
      operationId: createOrder
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Order"}}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Order:
      type: object
      required: [customer, items]
      additionalProperties: false
      properties:
        customer:
          type: object
          required: [email, name]
          properties:
            email: {type: string, format: email}
            name: {type: string, minLength: 1, maxLength: 100}
            tier: {enum: [free, pro, enterprise]}
        items:
          type: array
          minItems: 1
          items:
            type: object
            required: [sku, quantity, price]
            properties:
              sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{4}$"}
              quantity: {type: integer, minimum: 1, maximum: 1000}
              price: {type: number, exclusiveMinimum: 0, multipleOf: 0.01}
        note: {type: [string, "null"], maxLength: 500}
YAML
python3 - "$dir/body.json" <<'PY'
import json, sys
order = {"customer": {"email": "ann@example.com", "name": "Ann", "tier": "pro"}, "note": None,
         "items": [{"sku": "ABC-%d" % (1000 + i), "quantity": 2, "price": 19.99} for i in range(10)]}
open(sys.argv[1], "w").write(json.dumps(order))
PY
body_json="$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$dir/body.json")"
cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.body = $body_json
wrk.headers["Content-Type"] = "application/json"
LUA
cat > "$dir/get.lua" <<'LUA'
wrk.headers["X-Request-Id"] = "123e4567-e89b-12d3-a456-426614174000"
LUA

declare -A PORT
for variant in plain validated; do
  port="$(free_port)"; admin="$(free_port)"
  policies=""
  [[ "$variant" == validated ]] && policies="    policies: [{name: request-validation, config: {spec: orders}}]"
  cat > "$dir/$variant.yaml" <<YAML
access_log: {enabled: false}
specs:
  - {name: orders, file: orders.yaml}
upstreams:
  - name: up
    targets: ["127.0.0.1:$UP_PORT"]
    pool: {max_idle_per_target: 256}
routes:
  - name: all
    match: {paths: ["/small"]}
    upstream: up
$policies
YAML
  "$GATEHOUSE" serve -c "$dir/$variant.yaml" --proxy-listen "127.0.0.1:$port" \
    --admin-listen "127.0.0.1:$admin" --workers "$WORKERS" 2>"$dir/$variant.stderr" &
  BENCH_PIDS+=("$!")
  wait_port "$port" "gatehouse $variant"
  PORT[$variant]=$port
done
url_get="/small?limit=20&status=open&status=paid"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[validated]}/small?limit=0")"
[[ "$code" == 400 ]] || die "validation is not enforced (limit=0 answered $code)"
code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$dir/body.json" "http://127.0.0.1:${PORT[validated]}/small")"
[[ "$code" == 200 ]] || die "the benchmark body does not validate ($code)"

declare -A SUM
RAW="$BENCH_TMP/wrk"
mkdir -p "$RAW"
CASES=(plain:get validated:get plain:post validated:post)
for c in "${CASES[@]}"; do SUM[$c]=""; done
for (( r = 1; r <= ROUNDS; r++ )); do
  for c in "${CASES[@]}"; do
    variant="${c%%:*}"; kind="${c##*:}"
    out="$RAW/r${r}_${variant}_${kind}.txt"
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$dir/$kind.lua" \
      "http://127.0.0.1:${PORT[$variant]}$url_get" >"$out" 2>&1 || true
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    non2xx="$(awk '/Non-2xx/ {print $5}' "$out")"
    [[ -z "$non2xx" ]] || die "$c answered $non2xx non-2xx responses"
    log "round $r $c: ${rps:-?} req/s"
    SUM[$c]+="${rps:-0} "
    sleep 0.5
  done
done

echo "# request validation cost: $(machine_summary); $GH_ID; workers $WORKERS, $CONNS connections, ${DURATION}s x $ROUNDS rounds"
python3 - "${SUM[plain:get]}" "${SUM[validated:get]}" "${SUM[plain:post]}" "${SUM[validated:post]}" <<'PY'
import statistics, sys
pg, vg, pp, vp = ([float(x) for x in a.split()] for a in sys.argv[1:5])
def row(name, plain, val):
    ratio = statistics.median(v / p for v, p in zip(val, plain))
    # Per-request cost at one worker: 1/rps difference, in microseconds.
    cost = (1 / statistics.median(val) - 1 / statistics.median(plain)) * 1e6
    print("| %s | %.0f | %.0f | %.2fx | %.1f us |" % (name, statistics.median(plain),
                                                      statistics.median(val), ratio, cost))
print("| request | without (req/s) | with request-validation (req/s) | ratio | added per request |")
print("|---|---:|---:|---:|---:|")
row("GET, 3 parameters", pg, vg)
row("POST, 800-byte JSON body", pp, vp)
PY
