# Shared helpers for the bench/*.sh scripts. Sourced, not run.
#
# Everything a script starts lives under one temp dir ($BENCH_TMP) and is
# recorded in $BENCH_PIDS; bench_cleanup (installed as an EXIT trap by
# bench_init) stops exactly those processes and removes the dir.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
BENCH_PIDS=()
BENCH_TMP=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    # Give each a moment for a graceful stop, then insist.
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n "$BENCH_TMP" && -d "$BENCH_TMP" && -z "${KEEP_TMP:-}" ]]; then
    rm -rf "$BENCH_TMP"
  fi
}

bench_init() {
  BENCH_TMP="$(mktemp -d /tmp/gatehouse-bench.XXXXXX)"
  # nginx workers run as "nobody" when started by root: they must be able
  # to read the static files and write their temp dirs.
  chmod 755 "$BENCH_TMP"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Resolve the gatehouse binary (first arg or build/gatehouse) and wait if it
# is missing, e.g. while another engineer rebuilds it.
find_gatehouse() {
  local bin="${1:-$REPO_DIR/build/gatehouse}"
  local waited=0 lock="${GATEHOUSE_BUILD_LOCK:-/tmp/gatehouse-build.lock}"
  # Builds here run under `flock $lock ninja ...`: wait for one in progress to
  # finish (the lock is only touched, never held while benchmarking).
  if [[ -e "$lock" ]] && command -v flock >/dev/null 2>&1; then
    if ! flock -n -s "$lock" true 2>/dev/null; then
      log "a build holds $lock; waiting for it to finish"
      flock -w 1800 -s "$lock" true 2>/dev/null || log "still locked; going on anyway"
    fi
  fi
  until [[ -x "$bin" ]]; do
    (( waited >= 300 )) && die "gatehouse binary not found at $bin"
    (( waited == 0 )) && log "waiting for $bin to appear (being rebuilt?)"
    sleep 5; waited=$((waited + 5))
  done
  # A binary that is being written right now fails to exec; retry briefly.
  for _ in $(seq 1 60); do
    "$bin" version >/dev/null 2>&1 && { realpath "$bin"; return 0; }
    sleep 5
  done
  die "$bin does not run"
}

need() {
  local cmd pkg missing=()
  for spec in "$@"; do
    cmd="${spec%%:*}"; pkg="${spec#*:}"
    command -v "$cmd" >/dev/null 2>&1 || [[ -x "$cmd" ]] || missing+=("$pkg")
  done
  if (( ${#missing[@]} )); then
    log "installing missing packages: ${missing[*]}"
    apt-get install -y -q "${missing[@]}" >&2 || die "cannot install ${missing[*]}"
  fi
}

# A free TCP port on 127.0.0.1 (bound and released; the tiny race is fine here).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {  # wait_port PORT [what]
  local port="$1" what="${2:-port $1}"
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  die "$what did not start listening on 127.0.0.1:$port"
}

wait_http_200() {  # wait_http_200 URL
  for _ in $(seq 1 200); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" == 200 ]] && return 0
    sleep 0.05
  done
  die "$1 does not answer 200"
}

# Highest fd limit we may use (the hard limit may be below 65536 in a container).
raise_nofile() {
  local want="${1:-65536}" hard
  hard="$(ulimit -Hn)"
  [[ "$hard" == unlimited ]] && hard="$want"
  ulimit -n "$want" 2>/dev/null || ulimit -n "$(( hard < want ? hard : want ))"
}

rss_kib() {  # rss_kib PID... -> summed VmRSS in KiB
  local total=0 v pid
  for pid in "$@"; do
    v="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# --- the upstream: nginx, one worker, small body and a 64 KiB file ----------

# start_upstream PORT -> sets UPSTREAM_PID
start_upstream() {
  local port="$1" dir="$BENCH_TMP/upstream"
  mkdir -p "$dir/html/files" "$dir/logs" "$dir/tmp"
  head -c 65536 /dev/urandom > "$dir/html/files/64k.bin"
  chmod -R a+rX "$dir"
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $dir/logs/error.log warn;
pid $dir/logs/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  sendfile on;
  tcp_nopush on;
  # The 64 KiB file stays open: without the cache every request costs the
  # upstream an open, fstat and close, and at 64 KiB its one worker, not the
  # proxies, was what ran out of CPU (strace: 8 syscalls a request behind
  # either proxy, epoll_wait once per 50 requests).
  open_file_cache max=16 inactive=300s;
  open_file_cache_valid 300s;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location = /small { default_type text/plain; return 200 "hello, world\n"; }
    location /files/ { root $dir/html; }
    # Any other path answers 200 too (bench/reload.sh routes /r/N, /t/N/x, ...).
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
EOF
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/logs/stderr" &
  UPSTREAM_PID=$!
  BENCH_PIDS+=("$UPSTREAM_PID")
  wait_port "$port" "upstream nginx"
}

# start_gatehouse BIN PROXY_PORT ADMIN_PORT UPSTREAM_PORT WORKERS [extra yaml for server]
# -> sets GATEHOUSE_PID
start_gatehouse() {
  local bin="$1" port="$2" admin="$3" up="$4" workers="$5" extra="${6:-}"
  local dir="$BENCH_TMP/${7:-gatehouse}"  # a 7th argument names the instance (bench/ab.sh runs two)
  mkdir -p "$dir"
  cat > "$dir/gatehouse.yaml" <<EOF
access_log: {enabled: false}
$extra
upstreams:
  - name: up
    targets: ["127.0.0.1:$up"]
    pool: {max_idle_per_target: ${GH_POOL:-1024}}
routes:
  - name: all
    match: {paths: ["/"]}
    upstream: up
EOF
  "$bin" serve -c "$dir/gatehouse.yaml" --proxy-listen "127.0.0.1:$port" \
    --admin-listen "127.0.0.1:$admin" --workers "$workers" 2>"$dir/stderr" &
  GATEHOUSE_PID=$!
  BENCH_PIDS+=("$GATEHOUSE_PID")
  for _ in $(seq 1 200); do
    grep -q '"msg":"listening","listener":"proxy"' "$dir/stderr" 2>/dev/null && break
    kill -0 "$GATEHOUSE_PID" 2>/dev/null || { cat "$dir/stderr" >&2; die "gatehouse exited"; }
    sleep 0.05
  done
  wait_port "$port" "gatehouse"
}

# BENCH_HEADERS=same (default): nginx and haproxy add the headers Gatehouse
# adds by default (X-Forwarded-For/-Proto/-Host, Via and X-Request-Id both
# ways), so all three move the same bytes and the upstream and wrk parse the
# same messages. BENCH_HEADERS=minimal runs them on their own defaults (no
# added headers; Gatehouse's are still there).
BENCH_HEADERS="${BENCH_HEADERS:-same}"
case "$BENCH_HEADERS" in same|minimal) ;; *) echo "BENCH_HEADERS must be same or minimal" >&2; exit 2 ;; esac

nginx_same_headers() {
  [[ "$BENCH_HEADERS" == same ]] || return 0
  cat <<'NGX'
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header Via "1.1 nginx";
      proxy_set_header X-Request-Id $request_id;
      add_header Via "1.1 nginx";
      add_header X-Request-Id $request_id;
NGX
}

haproxy_same_headers() {
  [[ "$BENCH_HEADERS" == same ]] || return 0
  cat <<'HAP'
  option forwardfor
  unique-id-format %{+X}o%ci%cp%fi%fp%Ts%rt%pid
  unique-id-header X-Request-Id
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request add-header Via "1.1 haproxy"
  http-response add-header Via "1.1 haproxy"
  http-response set-header X-Request-Id %[unique-id]
HAP
}

# start_nginx_proxy PORT UPSTREAM_PORT WORKERS -> sets NGINX_PROXY_PID
start_nginx_proxy() {
  local port="$1" up="$2" workers="$3" dir="$BENCH_TMP/nginx-proxy"
  mkdir -p "$dir/logs" "$dir/tmp"
  chmod -R a+rwX "$dir/tmp"
  cat > "$dir/nginx.conf" <<EOF
worker_processes $workers;
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
  upstream up {
    server 127.0.0.1:$up;
    keepalive ${NG_POOL:-1024};
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
$(nginx_same_headers)
      # Enough memory buffers for a whole 64 KiB response, so nginx never
      # spills to a temp file (that would handicap it, not measure it).
      proxy_buffers 16 8k;
      proxy_busy_buffers_size 16k;
    }
  }
}
EOF
  /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/logs/stderr" &
  NGINX_PROXY_PID=$!
  BENCH_PIDS+=("$NGINX_PROXY_PID")
  wait_port "$port" "nginx proxy"
}

nginx_pids() {  # nginx_pids MASTER_PID -> master and its workers
  echo "$1"
  pgrep -P "$1" || true
}

# start_haproxy PORT UPSTREAM_PORT THREADS -> sets HAPROXY_PID
start_haproxy() {
  local port="$1" up="$2" threads="$3" dir="$BENCH_TMP/haproxy"
  mkdir -p "$dir"
  cat > "$dir/haproxy.cfg" <<EOF
global
  nbthread $threads
  # each connection may need a client and a server fd; keep under the fd limit
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 60s
  timeout http-keep-alive 300s
  http-reuse always
frontend fe
  bind 127.0.0.1:$port
$(haproxy_same_headers)
  default_backend be
backend be
  server s1 127.0.0.1:$up
EOF
  /usr/sbin/haproxy -f "$dir/haproxy.cfg" -db 2>"$dir/stderr" &
  HAPROXY_PID=$!
  BENCH_PIDS+=("$HAPROXY_PID")
  wait_port "$port" "haproxy"
}

# start_three_proxies GATEHOUSE_BIN WORKERS: the upstream and, in front of it,
# Gatehouse, nginx and haproxy (bench/run.sh, bench/latency.sh). Sets
# UP_PORT GH_PORT GH_ADMIN NG_PORT HA_PORT, PORT[proxy], PATH_OF[size] and
# PROXIES, and logs the machine and the binary.
start_three_proxies() {
  local bin="$1" workers="$2"
  UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
  NG_PORT="$(free_port)"; HA_PORT="$(free_port)"
  log "machine: $(machine_summary)"
  log "gatehouse: $bin (${GH_ID:-$(gatehouse_id "$bin")})"
  start_upstream "$UP_PORT"
  start_gatehouse "$bin" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$workers"
  start_nginx_proxy "$NG_PORT" "$UP_PORT" "$workers"
  start_haproxy "$HA_PORT" "$UP_PORT" "$workers"
  declare -gA PORT=([gatehouse]=$GH_PORT [nginx]=$NG_PORT [haproxy]=$HA_PORT)
  declare -gA PATH_OF=([small]=/small [64k]=/files/64k.bin)
  PROXIES=(gatehouse nginx haproxy)
  pin_processes "$workers" "$GATEHOUSE_PID" "$(nginx_pids "$NGINX_PROXY_PID")" "$HAPROXY_PID"
}

# PIN=auto (default) | off. With auto, and more CPUs than proxy workers, the
# proxies run on the first WORKERS CPUs and the upstream and the load generator on
# the others, as they would on separate machines: otherwise the three share
# every core and the result depends on how the scheduler places three
# threads that keep waking each other (docs/benchmarks.md, "Three processes
# on two cores"). Every proxy gets the same CPUs. Sets LOAD_PIN (a command
# prefix for the load generator, empty when nothing is pinned) and PIN_DESC.
LOAD_PIN=()
PIN_DESC="not pinned"
pin_processes() {  # pin_processes WORKERS PROXY_PID... (the upstream is $UPSTREAM_PID)
  local workers="$1" pid ids
  shift
  LOAD_PIN=()
  PIN_DESC="not pinned"
  [[ "${PIN:-auto}" == off ]] && return 0
  [[ "${PIN:-auto}" == auto ]] || die "PIN must be auto or off, not '$PIN'"
  # The CPUs this shell may use (a container's cpuset need not start at 0).
  read -r -a ids < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')
  if (( ${#ids[@]} <= workers )); then
    PIN_DESC="not pinned (${#ids[@]} CPUs for $workers proxy workers)"
    return 0
  fi
  command -v taskset >/dev/null || die "taskset (util-linux) is missing"
  local proxy_cpus load_cpus
  proxy_cpus="$(IFS=,; echo "${ids[*]:0:workers}")"
  load_cpus="$(IFS=,; echo "${ids[*]:workers}")"
  for pid in $*; do taskset -a -p -c "$proxy_cpus" "$pid" >/dev/null; done
  for pid in $(nginx_pids "$UPSTREAM_PID"); do taskset -a -p -c "$load_cpus" "$pid" >/dev/null; done
  LOAD_PIN=(taskset -c "$load_cpus")
  PIN_DESC="proxies on CPU $proxy_cpus, upstream and load generator on CPU $load_cpus"
  log "pinned: $PIN_DESC (PIN=off to let them share every CPU)"
}

machine_summary() {
  local model
  model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "$(date -u +%Y-%m-%d) · nproc $(nproc) · ${model:-unknown CPU} · $(uname -r) · load avg $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Which binary was measured: version, build time, and the repo HEAD it sits in.
gatehouse_id() {
  local bin="$1" head dirty=""
  head="$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  [[ -n "$(git -C "$REPO_DIR" status --porcelain -- src 2>/dev/null)" ]] && dirty="+local changes"
  echo "$("$bin" version 2>/dev/null), binary built $(date -u -r "$bin" '+%Y-%m-%d %H:%M UTC'), repo HEAD $head$dirty"
}
