#!/usr/bin/env bash
# Hot reload at scale: how long Gatehouse takes to compile 10,000 routes and
# how long a one-route change takes to reach the data plane.
#
#   bench/reload.sh [path/to/gatehouse]
#
# Generates a config with ROUTES routes (a third each: exact "=/r/N",
# template "/t/N/{id}", prefix "/p/N"), starts Gatehouse on it and samples
# the startup build time. Then, REPEAT times, rewrites the file (atomically,
# write + rename) with one more route "=/new/K" and polls the new path with
# curl until it answers 200: that is the propagation time as a user sees it
# (it includes the file watcher's 500 ms poll and 100 ms settle delay). The
# same is repeated with SIGHUP right after the write, which skips the poll.
# After each reload, gatehouse_config_last_reload_duration_ms (parse +
# validate + snapshot build) is read from the admin /metrics.
#
# Environment: ROUTES=10000, REPEAT=5, WORKERS=1, POLL_INTERVAL=0.02 (seconds)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUTES="${ROUTES:-10000}"
REPEAT="${REPEAT:-5}"
WORKERS="${WORKERS:-1}"
POLL_INTERVAL="${POLL_INTERVAL:-0.02}"

need /usr/sbin/nginx:nginx-light curl:curl python3:python3
GATEHOUSE="$(find_gatehouse "${1:-}")"
GH_ID="$(gatehouse_id "$GATEHOUSE")"  # taken now: the file may be rebuilt mid-run
bench_init

UP_PORT="$(free_port)"; GH_PORT="$(free_port)"; GH_ADMIN="$(free_port)"
start_upstream "$UP_PORT"

CFG="$BENCH_TMP/routes.yaml"
# gen_config EXTRA -> writes $CFG with ROUTES routes plus EXTRA "=/new/K" routes
gen_config() {
  python3 - "$CFG.tmp" "$UP_PORT" "$ROUTES" "$1" <<'EOF'
import sys
path, port, n, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = ["access_log: {enabled: false}",
       "upstreams:",
       "  - name: up",
       f'    targets: ["127.0.0.1:{port}"]',
       "routes:"]
for i in range(n):
    pat = (f"=/r/{i}", f"/t/{i}/{{id}}", f"/p/{i}")[i % 3]
    out += [f"  - name: route-{i}",
            f'    match: {{paths: ["{pat}"], methods: [GET, POST]}}',
            "    upstream: up"]
for k in range(1, extra + 1):
    out += [f"  - name: new-{k}",
            f'    match: {{paths: ["=/new/{k}"]}}',
            "    upstream: up"]
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
EOF
  mv -f "$CFG.tmp" "$CFG"
}

metric() {  # metric NAME -> value from the admin /metrics
  curl -s "http://127.0.0.1:$GH_ADMIN/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
now_us() { echo "${EPOCHREALTIME/./}"; }
code_of() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GH_PORT$1" || true; }

gen_config 0
log "generated $ROUTES routes ($(du -h "$CFG" | cut -f1))"
t0="$(now_us)"
"$GATEHOUSE" serve -c "$CFG" --proxy-listen "127.0.0.1:$GH_PORT" \
  --admin-listen "127.0.0.1:$GH_ADMIN" --workers "$WORKERS" 2>"$BENCH_TMP/gatehouse.err" &
GATEHOUSE_PID=$!
BENCH_PIDS+=("$GATEHOUSE_PID")
until grep -q '"msg":"listening","listener":"proxy"' "$BENCH_TMP/gatehouse.err" 2>/dev/null; do
  kill -0 "$GATEHOUSE_PID" 2>/dev/null || { cat "$BENCH_TMP/gatehouse.err" >&2; die "gatehouse exited"; }
  sleep 0.01
done
startup_ms=$(( ($(now_us) - t0) / 1000 ))
wait_port "$GH_PORT" gatehouse
initial_build_ms="$(metric gatehouse_config_last_reload_duration_ms)"
# Sanity: one route of each kind answers, an unknown path does not.
for pth in /r/0 /t/1/abc /p/2/deeper "/r/$(( (ROUTES - 1) / 3 * 3 ))"; do
  [[ "$(code_of "$pth")" == 200 ]] || die "route $pth does not answer 200"
done
[[ "$(code_of /new/1)" == 404 ]] || die "/new/1 answers before it exists"
log "startup to listening: ${startup_ms} ms; initial snapshot build: ${initial_build_ms} ms"

RESULTS="$BENCH_TMP/results.tsv"
: >"$RESULTS"
k=0
for mode in file-watch sighup; do
  for (( i = 1; i <= REPEAT; i++ )); do
    k=$((k + 1))
    before="$(metric gatehouse_config_reloads_total)"
    sleep 0.7  # let the watcher settle on the current file before changing it
    gen_config "$k"
    t0="$(now_us)"
    [[ "$mode" == sighup ]] && kill -HUP "$GATEHOUSE_PID"
    polls=0
    until [[ "$(code_of "/new/$k")" == 200 ]]; do
      polls=$((polls + 1))
      # A short pause keeps the poller (a curl process per try) from eating
      # the CPU the reload needs on a 2-core machine; it costs <= 20 ms.
      sleep "$POLL_INTERVAL"
      (( $(now_us) - t0 < 30000000 )) || die "/new/$k never answered"
    done
    prop_ms=$(( ($(now_us) - t0) / 1000 ))
    # Wait until the reload counter moved, then read the build time it recorded.
    for _ in $(seq 1 100); do
      [[ "$(metric gatehouse_config_reloads_total)" != "$before" ]] && break
      sleep 0.02
    done
    build_ms="$(metric gatehouse_config_last_reload_duration_ms)"
    log "$mode #$i: route $((ROUTES + k)) answers after ${prop_ms} ms ($polls polls); reload build ${build_ms} ms"
    printf '%s\t%s\t%s\n' "$mode" "$prop_ms" "$build_ms" >>"$RESULTS"
  done
done
errors="$(metric gatehouse_config_reload_errors_total)"
rss="$(rss_kib "$GATEHOUSE_PID")"
metrics_bytes="$(curl -s "http://127.0.0.1:$GH_ADMIN/metrics" | wc -c)"

python3 - "$RESULTS" "$ROUTES" "$startup_ms" "$initial_build_ms" "${errors:-?}" "$rss" "$metrics_bytes" "$(machine_summary)" \
  "$GH_ID" <<'EOF'
import statistics, sys
res, routes, startup, initial, errors, rss, metrics_bytes, machine, gid = sys.argv[1:10]
rows = [l.split("\t") for l in open(res).read().split("\n") if l]
def stats(vals):
    vals = sorted(float(v) for v in vals)
    return f"{statistics.median(vals):.0f} ms (min {vals[0]:.0f}, max {vals[-1]:.0f})"
table = [["measure", "value"],
         ["routes", routes],
         ["startup to listening", f"{startup} ms"],
         ["initial snapshot build (metric; YAML parse not included)", f"{initial} ms"],
         ["RSS after the reloads", f"{int(rss)/1024:.1f} MiB"],
         ["admin /metrics size", f"{int(metrics_bytes)/1e6:.1f} MB"]]
for mode in ("file-watch", "sighup"):
    sel = [r for r in rows if r[0] == mode]
    if not sel:
        continue
    table.append([f"reload parse+validate+build, {mode} (metric, n={len(sel)})", stats(r[2] for r in sel)])
    table.append([f"propagation, {mode} (write -> new route 200)", stats(r[1] for r in sel)])
table.append(["reload errors", errors])
print(f"# reload with {routes} routes — {machine}")
print(f"# {gid}")
print()
w = [max(len(r[i]) for r in table) for i in range(2)]
for k, r in enumerate(table):
    print(r[0].ljust(w[0]) + "  " + r[1])
    if k == 0:
        print("-" * w[0] + "  " + "-" * w[1])
print()
print("Markdown:")
print()
print("| measure | value |")
print("|---|---|")
for r in table[1:]:
    print(f"| {r[0]} | {r[1]} |")
EOF
