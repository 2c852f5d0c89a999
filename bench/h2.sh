#!/usr/bin/env bash
# HTTP/2 (h2c, prior knowledge) throughput: Gatehouse against nginx with
# `http2` on its listener, both proxying to the same HTTP/1.1 nginx upstream,
# driven by h2load. Gatehouse is also measured over HTTP/1.1 (h2load --h1)
# with the same connection and request counts, which shows what serving each
# stream through the HTTP/1.1 pipeline costs (net/http2/README.md).
# h2 over TLS (ALPN, TLS 1.3, one EC P-256 certificate) is measured the same
# way: Gatehouse's proxy_tls listener against nginx `listen ... ssl http2`
# (nginx 1.22 has no `http2 on;` yet; the listen flag is the same thing).
#
#   bench/h2.sh [path/to/gatehouse]
#
# Environment:
#   WORKERS=1     Gatehouse workers / nginx worker_processes
#   DURATION=10   seconds per h2load run
#   ROUNDS=2      rounds; the proxies are interleaved inside every round
#   CONNS=10      client connections
#   STREAMS=10    concurrent streams per connection (h2load -m)
# Runtime with the defaults: 2 rounds x 2 cases x 5 runs x 10 s ~ 4 min.
# Read the ratios: the machine is shared and noisy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
CONNS="${CONNS:-10}"
STREAMS="${STREAMS:-10}"

need h2load:nghttp2-client /usr/sbin/nginx:nginx-light curl:curl python3:python3 openssl:openssl
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"; NG_PORT="$(free_port)"
GH_TLS="$(free_port)"; NG_TLS="$(free_port)"
CERT="$BENCH_TMP/cert.pem"; KEY="$BENCH_TMP/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" \
  -out "$CERT" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
chmod 644 "$KEY"
log "machine: $(machine_summary)"
log "gatehouse: $GATEHOUSE ($GH_ID)"
start_upstream "$UP_PORT"
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS" \
  "http2: {max_concurrent_streams: 128}
tls: {certificates: [{cert: $CERT, key: $KEY}]}
listeners: {proxy_tls: \"127.0.0.1:$GH_TLS\"}"
wait_port "$GH_TLS" "gatehouse TLS"
start_nginx_proxy "$NG_PORT" "$UP_PORT" "$WORKERS"
# The same nginx proxy, its listener switched to HTTP/2 (h2c with prior
# knowledge), plus a TLS listener with h2 in ALPN and the same certificate.
dir="$BENCH_TMP/nginx-proxy"
sed -i "s|listen 127.0.0.1:$NG_PORT backlog=4096;|listen 127.0.0.1:$NG_PORT backlog=4096 http2;\\
    listen 127.0.0.1:$NG_TLS ssl http2 backlog=4096;\\
    ssl_certificate $CERT; ssl_certificate_key $KEY; ssl_protocols TLSv1.2 TLSv1.3;|" \
  "$dir/nginx.conf"
sed -i "s|keepalive_timeout 300s;|keepalive_timeout 300s;\\
  ssl_session_cache shared:SSL:10m;|" "$dir/nginx.conf"
kill -HUP "$NGINX_PROXY_PID"
sleep 1

for port in "$GH_PORT" "$NG_PORT"; do
  v="$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
       "http://127.0.0.1:$port/small")"
  [[ "$v" == "2 200" ]] || die "port $port does not answer h2c (got '$v')"
done
for port in "$GH_TLS" "$NG_TLS"; do
  v="$(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code}' \
       "https://127.0.0.1:$port/small")"
  [[ "$v" == "2 200" ]] || die "port $port does not answer h2 over TLS (got '$v')"
done

declare -A PATH_OF=([small]=/small [64k]=/files/64k.bin)
RUNS=(gatehouse-h2 nginx-h2 gatehouse-h1 gatehouse-h2tls nginx-h2tls)
declare -A RPS

run_one() {  # run_one NAME CASE -> req/s
  local name="$1" c="$2" url args=()
  case "$name" in
    gatehouse-h2) url="http://127.0.0.1:$GH_PORT" ;;
    nginx-h2) url="http://127.0.0.1:$NG_PORT" ;;
    gatehouse-h1) url="http://127.0.0.1:$GH_PORT"; args=(--h1) ;;
    gatehouse-h2tls) url="https://127.0.0.1:$GH_TLS" ;;
    nginx-h2tls) url="https://127.0.0.1:$NG_TLS" ;;
  esac
  h2load "${args[@]}" -t1 -c"$CONNS" -m"$STREAMS" -D"$DURATION" --warm-up-time=1 \
    "$url${PATH_OF[$c]}" 2>&1 |
    awk '/^finished in/ {gsub(",", "", $4); print $4}'
}

for (( r = 1; r <= ROUNDS; r++ )); do
  for c in small 64k; do
    for (( i = 0; i < ${#RUNS[@]}; i++ )); do
      name="${RUNS[$(( (i + r - 1) % ${#RUNS[@]} ))]}"
      rps="$(run_one "$name" "$c")"
      log "round $r $c $name: ${rps:-?} req/s"
      RPS[$c,$name]="${RPS[$c,$name]:-} ${rps:-0}"
    done
  done
done

echo
echo "h2load -t1 -c$CONNS -m$STREAMS -D$DURATION, WORKERS=$WORKERS, $ROUNDS rounds ($GH_ID)"
echo "| case | GH h2 req/s | nginx h2 req/s | GH h1 req/s | GH h2 / nginx h2 | GH h2 / GH h1 |"
echo "|---|---:|---:|---:|---:|---:|"
for c in small 64k; do
  python3 - "$c" "${RPS[$c,gatehouse-h2]}" "${RPS[$c,nginx-h2]}" "${RPS[$c,gatehouse-h1]}" <<'PY'
import statistics, sys
c = sys.argv[1]
gh, ng, h1 = ([float(x) for x in a.split()] for a in sys.argv[2:5])
m = statistics.median
print("| %s | %.0f | %.0f | %.0f | %.2fx | %.2fx |" % (c, m(gh), m(ng), m(h1), m(gh) / m(ng), m(gh) / m(h1)))
PY
done
echo
echo "h2 over TLS (TLS 1.3, ALPN h2), same load"
echo "| case | GH h2 TLS req/s | nginx h2 TLS req/s | GH / nginx |"
echo "|---|---:|---:|---:|"
for c in small 64k; do
  python3 - "$c" "${RPS[$c,gatehouse-h2tls]}" "${RPS[$c,nginx-h2tls]}" <<'PY'
import statistics, sys
c = sys.argv[1]
gh, ng = ([float(x) for x in a.split()] for a in sys.argv[2:4])
m = statistics.median
print("| %s | %.0f | %.0f | %.2fx |" % (c, m(gh), m(ng), m(gh) / m(ng)))
PY
done
