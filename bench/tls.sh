#!/usr/bin/env bash
# HTTPS throughput of Gatehouse against nginx: TLS terminated by the proxy,
# plain HTTP/1.1 keep-alive to the same nginx upstream as run.sh.
#
#   bench/tls.sh [path/to/gatehouse]
#
# Load: h2load --h1 (Debian's nghttp2-client), TLS 1.3, one connection per
# client kept alive, so this measures record encryption and the proxy path,
# not handshakes.
# Both proxies use one EC P-256 certificate, WORKERS workers, and are
# interleaved per round (the starting proxy alternates) so drift hits both.
#
# Environment: WORKERS=1 DURATION=10 ROUNDS=2 CONNS=50
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
CONNS="${CONNS:-50}"

need h2load:nghttp2-client /usr/sbin/nginx:nginx-light openssl:openssl curl:curl
GATEHOUSE="$(find_gatehouse "${1:-}")"
bench_init
raise_nofile 65536

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_TLS="$(free_port)"; GH_ADMIN="$(free_port)"
NG_PORT="$(free_port)"
CERT="$BENCH_TMP/cert.pem"; KEY="$BENCH_TMP/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" \
  -out "$CERT" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
chmod 644 "$KEY"

log "machine: $(machine_summary)"
log "gatehouse: $GATEHOUSE ($(gatehouse_id "$GATEHOUSE"))"
start_upstream "$UP_PORT"
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS" \
  "tls: {certificates: [{cert: $CERT, key: $KEY}]}
listeners: {proxy_tls: \"127.0.0.1:$GH_TLS\"}"
wait_port "$GH_TLS" "gatehouse TLS"

dir="$BENCH_TMP/nginx-tls"
mkdir -p "$dir/logs" "$dir/tmp"
chmod -R a+rwX "$dir/tmp"
cat > "$dir/nginx.conf" <<NGX
worker_processes $WORKERS;
worker_rlimit_nofile 65536;
error_log $dir/logs/error.log warn;
pid $dir/logs/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  ssl_session_cache shared:SSL:10m;
  upstream up { server 127.0.0.1:$UP_PORT; keepalive ${NG_POOL:-1024}; }
  server {
    listen 127.0.0.1:$NG_PORT ssl backlog=4096;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 16 8k;
      proxy_busy_buffers_size 16k;
    }
  }
}
NGX
/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/logs/stderr" &
BENCH_PIDS+=("$!")
wait_port "$NG_PORT" "nginx TLS proxy"

declare -A PORT=([gatehouse]=$GH_TLS [nginx]=$NG_PORT)
for p in gatehouse nginx; do
  code="$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:${PORT[$p]}/small")"
  [[ "$code" == 200 ]] || die "$p answered $code over TLS"
done

# h2load prints "finished in 10.00s, 41234.50 req/s, ..." and a "time for request"
# line (min max mean sd): we keep req/s and the mean.
run_h2load() {  # run_h2load PORT PATH -> "rps mean"
  local out
  out="$(h2load --h1 -t1 -c "$CONNS" -D "$DURATION" "https://127.0.0.1:$1$2" 2>&1 || true)"

  local rps mean
  rps="$(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")"
  mean="$(awk '/^time for request:/ {print $6}' <<<"$out")"
  local failed
  failed="$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$out" | head -1)"
  [[ -n "$rps" ]] || { echo "$out" >&2; die "h2load gave no result"; }
  echo "$rps $mean ${failed:-?}"
}

CASES=(/small /files/64k.bin)
declare -A SUM
for (( r = 1; r <= ROUNDS; r++ )); do
  order=(gatehouse nginx)
  (( r % 2 == 0 )) && order=(nginx gatehouse)
  for c in "${CASES[@]}"; do
    for p in "${order[@]}"; do
      read -r rps mean failed < <(run_h2load "${PORT[$p]}" "$c")
      log "round $r $c $p: $rps req/s, mean $mean, failed $failed"
      SUM[$c,$p]="$(python3 -c "print(${SUM[$c,$p]:-0} + $rps)")"
    done
  done
done

echo
echo "| case (TLS 1.3, h2load --h1 -c$CONNS, keep-alive) | Gatehouse req/s | nginx req/s | ratio |"
echo "|---|---:|---:|---:|"
for c in "${CASES[@]}"; do
  python3 - "$c" "${SUM[$c,gatehouse]}" "${SUM[$c,nginx]}" "$ROUNDS" <<'PY'
import sys
c, g, n, r = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print("| %s | %s | %s | %.2fx |" % (c, format(round(g / r), ","), format(round(n / r), ","), g / n))
PY
done
