#!/usr/bin/env python3
"""Admin API write cost and write-to-data-plane latency at a given config size.

    GATEHOUSE_BIN=build/gatehouse python3 bench/admin_write.py 10 1000 5000

For each size N: PUT /api/v1/config with N routes, then 5 times POST one
route and poll the proxy until it answers 200 (SQLite store, one worker).
"""
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Gatehouse, wait_until
from upstream import Upstream
TOKEN = "scale-token-0123456789abcdef"
up = Upstream("S")
gh = Gatehouse(None, workers=1, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
try:
    for n in (int(a) for a in sys.argv[1:]):
        doc = {"upstreams": [{"name": "svc", "targets": [up.address]}],
               "routes": [{"name": "r%05d" % i, "match": {"paths": ["/r/%05d" % i]}, "upstream": "svc"} for i in range(n)]}
        t0 = time.monotonic()
        r = gh.api("PUT", "/api/v1/config", doc, TOKEN)
        t_put = time.monotonic() - t0
        assert r.status == 200, r
        wait_until(lambda: gh.request("GET", "/r/%05d" % (n - 1)).status == 200, timeout=60, interval=0.01)
        t_put_dp = time.monotonic() - t0
        lat = []; commit = []
        for k in range(5):
            t0 = time.monotonic()
            r = gh.api("POST", "/api/v1/routes", {"name": "x%d-%d" % (n, k), "match": {"paths": ["/x/%d/%d" % (n, k)]}, "upstream": "svc"}, TOKEN)
            commit.append((time.monotonic() - t0) * 1000)
            assert r.status == 201, r
            wait_until(lambda: gh.request("GET", "/x/%d/%d" % (n, k)).status == 200, timeout=60, interval=0.002)
            lat.append((time.monotonic() - t0) * 1000)
        lat.sort(); commit.sort()
        print("routes=%d PUT /config %.0f ms (to data plane %.0f ms); POST route: commit median %.0f ms max %.0f; to data plane median %.0f ms max %.0f"
              % (n, t_put * 1000, t_put_dp * 1000, commit[2], commit[-1], lat[2], lat[-1]))
finally:
    gh.stop(); gh.cleanup(); up.stop()
