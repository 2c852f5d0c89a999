#!/usr/bin/env bash
# Cache hits: Gatehouse with proxy-cache against nginx with proxy_cache, both
# answering every request from their cache (the upstream is asked once), and
# Gatehouse without a cache (every request proxied) for scale. Small and
# 64 KiB responses.
#
#   bench/cache.sh [path/to/gatehouse]
#
# Environment: WORKERS=1, DURATION=10, ROUNDS=3, CONNS=50
# nginx keeps its cache in memory for these sizes (keys_zone + a tmpfs-less
# proxy_cache_path in the bench temp dir; the 64 KiB file is served from the
# page cache after the first read).
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

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
GC_PORT="$(free_port)"; GC_ADMIN="$(free_port)"; NC_PORT="$(free_port)"

log "machine: $(machine_summary)"
start_upstream "$UP_PORT"
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS"

dir="$BENCH_TMP/gatehouse-cache"
mkdir -p "$dir"
cat > "$dir/gatehouse.yaml" <<YAML
access_log: {enabled: false}
upstreams:
  - name: up
    targets: ["127.0.0.1:$UP_PORT"]
    pool: {max_idle_per_target: 256}
routes:
  - name: all
    match: {paths: ["/"]}
    upstream: up
    policies:
      - {name: proxy-cache, config: {ttl: 1h, max_entry: 128k, memory: 64m}}
YAML
"$GATEHOUSE" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$GC_PORT" \
  --admin-listen "127.0.0.1:$GC_ADMIN" --workers "$WORKERS" 2>"$dir/stderr" &
BENCH_PIDS+=("$!")
wait_port "$GC_PORT" "gatehouse with proxy-cache"

ndir="$BENCH_TMP/nginx-cache"
mkdir -p "$ndir/logs" "$ndir/tmp" "$ndir/cache"
chmod -R a+rwX "$ndir/tmp" "$ndir/cache"
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
  proxy_cache_path $ndir/cache keys_zone=bench:10m max_size=64m;
  upstream up {
    server 127.0.0.1:$UP_PORT;
    keepalive 256;
  }
  server {
    listen 127.0.0.1:$NC_PORT backlog=4096;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_valid 200 1h;
      add_header X-Cache-Status \$upstream_cache_status;
      proxy_buffers 16 8k;
      proxy_busy_buffers_size 16k;
    }
  }
}
EOF
/usr/sbin/nginx -p "$ndir" -c "$ndir/nginx.conf" -g 'daemon off;' 2>>"$ndir/logs/stderr" &
BENCH_PIDS+=("$!")
wait_port "$NC_PORT" "nginx with proxy_cache"

# Warm both caches and check that the second answer is a hit.
for path in /small /files/64k.bin; do
  for port in "$GC_PORT" "$NC_PORT"; do
    curl -s -o /dev/null "http://127.0.0.1:$port$path"
    status="$(curl -s -o /dev/null -D - "http://127.0.0.1:$port$path" | tr -d '\r' |
              awk -F': ' 'tolower($1) == "x-cache-status" {print $2}')"
    [[ "$status" == HIT ]] || die "port $port $path: X-Cache-Status '$status', not HIT"
  done
done

declare -A PORT=([nocache]=$GH_PORT [cache]=$GC_PORT [nginx]=$NC_PORT)
NAMES=(nocache cache nginx)
RAW="$BENCH_TMP/wrk"
mkdir -p "$RAW"
for path in /small /files/64k.bin; do
  declare -A SUM=()
  for n in "${NAMES[@]}"; do SUM[$n]=""; done
  for (( r = 1; r <= ROUNDS; r++ )); do
    for (( i = 0; i < 3; i++ )); do
      n="${NAMES[$(( (i + r - 1) % 3 ))]}"
      out="$RAW/r${r}_${n}_$(basename "$path").txt"
      wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$n]}$path" \
        >"$out" 2>&1 || true
      rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
      log "$path round $r $n: ${rps:-?} req/s"
      SUM[$n]+="${rps:-0} "
      sleep 0.5
    done
  done
  echo "# cache hits $path: $(machine_summary); $GH_ID; workers $WORKERS, $CONNS connections, ${DURATION}s x $ROUNDS rounds"
  python3 - "$path" "${SUM[nocache]}" "${SUM[cache]}" "${SUM[nginx]}" <<'PY'
import statistics, sys
path = sys.argv[1]
nocache, cache, ng = ([float(x) for x in a.split()] for a in sys.argv[2:5])
print("| %s | req/s (median) |" % path)
print("|---|---:|")
print("| Gatehouse, no cache (proxied) | %.0f |" % statistics.median(nocache))
print("| Gatehouse proxy-cache hits | %.0f |" % statistics.median(cache))
print("| nginx proxy_cache hits | %.0f |" % statistics.median(ng))
print("| ratio Gatehouse hits / nginx hits (median of per-round ratios) | %.2fx |"
      % statistics.median(c / n for c, n in zip(cache, ng)))
print()
PY
done
