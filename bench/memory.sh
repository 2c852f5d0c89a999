#!/usr/bin/env bash
# Memory per idle keep-alive client connection: Gatehouse against nginx.
#
#   bench/memory.sh [path/to/gatehouse]
#
# Both proxies run side by side in front of one nginx upstream. For each: RSS
# when idle (after a warm-up: 500 connections used and closed), then bench/idle_conns.py opens
# CONNS connections, sends one GET on each (a used keep-alive connection) and
# holds them idle; RSS again; (loaded - idle) / CONNS is the cost of one idle
# connection. RSS is VmRSS from /proc/PID/status; for nginx master + workers.
# Kernel socket buffers are not in RSS for either.
#
# Environment: WORKERS=1, CONNS=10000, SETTLE=3 (seconds before sampling)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKERS="${WORKERS:-1}"
CONNS="${CONNS:-10000}"
SETTLE="${SETTLE:-3}"

need /usr/sbin/nginx:nginx-light curl:curl python3:python3 ss:iproute2
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"  # taken now: the file may be rebuilt mid-run
bench_init
raise_nofile 65536
nofile="$(ulimit -n)"
(( nofile >= CONNS + 100 )) || die "fd limit $nofile is too low for $CONNS connections"
log "fd limit $nofile (hard $(ulimit -Hn))"

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"; NG_PORT="$(free_port)"
start_upstream "$UP_PORT"
# The default client idle timeout (60 s) is longer than the test; make sure.
start_gatehouse "$GATEHOUSE" "$GH_PORT" "$GH_ADMIN" "$UP_PORT" "$WORKERS" \
  "http: {client_idle_timeout: 300s}"
start_nginx_proxy "$NG_PORT" "$UP_PORT" "$WORKERS"

declare -A PORT=([gatehouse]=$GH_PORT [nginx]=$NG_PORT)
pids_of() {
  case "$1" in
    gatehouse) echo "$GATEHOUSE_PID" ;;
    nginx) nginx_pids "$NGINX_PROXY_PID" ;;
  esac
}
established() {  # established PORT -> server-side established connections
  ss -Htn state established "( sport = :$1 )" | wc -l
}

# open_idle PROXY N -> starts idle_conns.py, waits until its N connections are
# used and idle; sets CLIENT_PID and CLIENT_OUT.
open_idle() {
  CLIENT_OUT="$BENCH_TMP/client-$1-$2.out"
  python3 "$BENCH_DIR/idle_conns.py" 127.0.0.1 "${PORT[$1]}" "$2" /small >"$CLIENT_OUT" 2>&1 &
  CLIENT_PID=$!
  BENCH_PIDS+=("$CLIENT_PID")
  until grep -q '^ready\|^error' "$CLIENT_OUT" 2>/dev/null; do
    kill -0 "$CLIENT_PID" 2>/dev/null || break
    sleep 0.2
  done
  grep -q '^ready' "$CLIENT_OUT" || { cat "$CLIENT_OUT" >&2; die "client for $1 failed"; }
}
close_idle() { kill -TERM "$CLIENT_PID"; wait "$CLIENT_PID" 2>/dev/null || true; }

# Warm-up at the client's batch concurrency, so per-worker buffer free lists
# and upstream keep-alive pools are already filled when "idle" is sampled:
# the delta then holds only what each extra connection costs.
for p in gatehouse nginx; do
  wait_http_200 "http://127.0.0.1:${PORT[$p]}/small"
  open_idle "$p" 500
  close_idle
done
sleep "$SETTLE"

declare -A IDLE LOADED AFTER
for p in gatehouse nginx; do
  # shellcheck disable=SC2046
  IDLE[$p]="$(rss_kib $(pids_of "$p"))"
done
for p in gatehouse nginx; do
  log "$p: idle RSS ${IDLE[$p]} KiB; opening $CONNS keep-alive connections"
  open_idle "$p" "$CONNS"
  sleep "$SETTLE"
  held="$(established "${PORT[$p]}")"
  # shellcheck disable=SC2046
  LOADED[$p]="$(rss_kib $(pids_of "$p"))"
  log "$p: $(cat "$CLIENT_OUT"), server holds $held connections, RSS ${LOADED[$p]} KiB"
  (( held >= CONNS )) || die "$p holds only $held of $CONNS connections"
  close_idle
  sleep "$SETTLE"
  # shellcheck disable=SC2046
  AFTER[$p]="$(rss_kib $(pids_of "$p"))"
done

python3 - "$CONNS" "${IDLE[gatehouse]}" "${LOADED[gatehouse]}" "${AFTER[gatehouse]}" \
  "${IDLE[nginx]}" "${LOADED[nginx]}" "${AFTER[nginx]}" "$WORKERS" "$(machine_summary)" \
  "$GH_ID" <<'EOF'
import sys
n = int(sys.argv[1])
g = [int(x) for x in sys.argv[2:5]]
x = [int(x) for x in sys.argv[5:8]]
workers, machine, gid = sys.argv[8], sys.argv[9], sys.argv[10]
per = lambda v: (v[1] - v[0]) / n
rows = [
    ["", "Gatehouse", "nginx", "GH/nginx"],
    ["RSS idle", f"{g[0]/1024:.1f} MiB", f"{x[0]/1024:.1f} MiB", f"{g[0]/x[0]:.2f}x"],
    [f"RSS with {n} idle conns", f"{g[1]/1024:.1f} MiB", f"{x[1]/1024:.1f} MiB", f"{g[1]/x[1]:.2f}x"],
    ["RSS per idle conn", f"{per(g):.2f} KiB", f"{per(x):.2f} KiB",
     f"{per(g)/per(x):.2f}x" if per(x) > 0 else "n/a"],
    ["RSS after they close", f"{g[2]/1024:.1f} MiB", f"{x[2]/1024:.1f} MiB", f"{g[2]/x[2]:.2f}x"],
]
print(f"# memory per idle keep-alive connection — {machine}")
print(f"# {gid}")
print(f"# workers {workers}; nginx RSS = master + workers")
print()
w = [max(len(r[i]) for r in rows) for i in range(4)]
for k, r in enumerate(rows):
    print("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)))
    if k == 0:
        print("  ".join("-" * v for v in w))
print()
print("Markdown:")
print()
print("| " + " | ".join(rows[0]) + " |")
print("|---|---:|---:|---:|")
for r in rows[1:]:
    print("| " + " | ".join(r) + " |")
EOF
