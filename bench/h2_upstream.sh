#!/usr/bin/env bash
# HTTP/2 to the upstream: Gatehouse (`protocol: http2`) against nginx
# `grpc_pass` (nginx's only HTTP/2 upstream module), both h2c to the same
# h2c nginx upstream, driven by h2load over h2c. This is the shape of gRPC
# proxying without a gRPC server's own cost in the numbers (nginx answers
# /small from memory); the upstream leg is multiplexed on both proxies.
#
#   bench/h2_upstream.sh [path/to/gatehouse]
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=2, CONNS=10, STREAMS=10 (as h2.sh).
# Read the ratio: the machine is shared and noisy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-2}"
CONNS="${CONNS:-10}"
STREAMS="${STREAMS:-10}"

need h2load:nghttp2-client /usr/sbin/nginx:nginx-light curl:curl python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"
bench_init
raise_nofile 65536

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"; NG_PORT="$(free_port)"
log "machine: $(machine_summary)"
log "gatehouse: $GATEHOUSE ($GH_ID)"
start_upstream "$UP_PORT"
# The upstream speaks h2c (prior knowledge) only.
sed -i "s|listen 127.0.0.1:$UP_PORT backlog=4096;|listen 127.0.0.1:$UP_PORT backlog=4096 http2;|" \
  "$BENCH_TMP/upstream/nginx.conf"
kill -HUP "$UPSTREAM_PID"
sleep 1

dir="$BENCH_TMP/gatehouse"
mkdir -p "$dir"
cat > "$dir/gatehouse.yaml" <<EOF
access_log: {enabled: false}
http2: {max_concurrent_streams: 128}
upstreams:
  - name: up
    protocol: http2
    targets: ["127.0.0.1:$UP_PORT"]
routes:
  - name: all
    match: {paths: ["/"]}
    upstream: up
EOF
"$GATEHOUSE" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$GH_PORT" \
  --admin-listen "127.0.0.1:$GH_ADMIN" --workers "$WORKERS" 2>"$dir/stderr" &
BENCH_PIDS+=("$!")
wait_port "$GH_PORT" "gatehouse"

ndir="$BENCH_TMP/nginx-grpc"
mkdir -p "$ndir/logs" "$ndir/tmp"
chmod -R a+rwX "$ndir/tmp"
cat > "$ndir/nginx.conf" <<EOF
worker_processes $WORKERS;
worker_rlimit_nofile 65536;
error_log $ndir/logs/error.log warn;
pid $ndir/logs/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $ndir/tmp/body;
  proxy_temp_path $ndir/tmp/proxy;
  fastcgi_temp_path $ndir/tmp/fastcgi;
  uwsgi_temp_path $ndir/tmp/uwsgi;
  scgi_temp_path $ndir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  http2_max_concurrent_streams 128;
  upstream up {
    server 127.0.0.1:$UP_PORT;
    keepalive 1024;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$NG_PORT backlog=4096 http2;
    location / { grpc_pass grpc://up; }
  }
}
EOF
/usr/sbin/nginx -p "$ndir" -c "$ndir/nginx.conf" -g 'daemon off;' 2>>"$ndir/logs/stderr" &
BENCH_PIDS+=("$!")
wait_port "$NG_PORT" "nginx grpc_pass"

for port in "$GH_PORT" "$NG_PORT"; do
  v="$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
       "http://127.0.0.1:$port/small")"
  [[ "$v" == "2 200" ]] || die "port $port does not proxy to the h2c upstream (got '$v')"
done

declare -A RPS
RUNS=(gatehouse nginx)
for (( r = 1; r <= ROUNDS; r++ )); do
  for (( i = 0; i < ${#RUNS[@]}; i++ )); do
    name="${RUNS[$(( (i + r - 1) % ${#RUNS[@]} ))]}"
    port="$GH_PORT"; [[ "$name" == nginx ]] && port="$NG_PORT"
    rps="$(h2load -t1 -c"$CONNS" -m"$STREAMS" -D"$DURATION" --warm-up-time=1 \
             "http://127.0.0.1:$port/small" 2>&1 | awk '/^finished in/ {gsub(",", "", $4); print $4}')"
    log "round $r $name: ${rps:-?} req/s"
    RPS[$name]="${RPS[$name]:-} ${rps:-0}"
  done
done

echo
echo "h2c client -> proxy -> h2c upstream, h2load -t1 -c$CONNS -m$STREAMS -D$DURATION, WORKERS=$WORKERS, $ROUNDS rounds ($GH_ID)"
echo "| case | GH (protocol: http2) req/s | nginx grpc_pass req/s | GH / nginx |"
echo "|---|---:|---:|---:|"
python3 - "${RPS[gatehouse]}" "${RPS[nginx]}" <<'PY'
import statistics, sys
gh, ng = ([float(x) for x in a.split()] for a in sys.argv[1:3])
m = statistics.median
print("| small | %.0f | %.0f | %.2fx |" % (m(gh), m(ng), m(gh) / m(ng)))
PY
