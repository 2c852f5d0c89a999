#!/usr/bin/env python3
"""Config hot reload: file edits, invalid files, SIGHUP, reloads under load,
and graceful shutdown of in-flight requests."""

import http.client
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402


def config(address, extra_routes=()):
    routes = [{"name": "base", "match": {"paths": ["/base"]}, "upstream": "svc"}]
    for name, path in extra_routes:
        routes.append({"name": name, "match": {"paths": [path]}, "upstream": "svc"})
    return {"upstreams": [{"name": "svc", "targets": [{"address": address, "weight": 1}]}],
            "routes": routes}


INVALID_YAML = """\
upstreams:
  - name: svc
    targets: [{address: "127.0.0.1:1", weight: 1}
routes:
  - name: : broken
"""


class Reload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(config(cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def status_of(self, path, gh=None):
        try:
            return (gh or self.gh).request("GET", path, timeout=5).status
        except OSError:
            return None

    def wait_status(self, path, want, gh=None, timeout=10):
        ok = wait_until(lambda: self.status_of(path, gh) == want, timeout=timeout, interval=0.1)
        self.assertTrue(ok, "GET %s never answered %d (last %s)" %
                        (path, want, self.status_of(path, gh)))

    def test_1_file_edit_adds_route(self):
        self.assertEqual(self.status_of("/added"), 404)
        r0 = self.gh.metric("gatehouse_config_reloads_total")
        self.gh.write_config(config(self.up.address, [("added", "/added")]))
        self.wait_status("/added", 200)
        self.assertEqual(self.status_of("/base"), 200)
        self.assertTrue(wait_until(lambda: self.gh.metric("gatehouse_config_reloads_total") > r0,
                                   timeout=5))

    def test_1b_in_place_edit_adds_route(self):
        # editors often rewrite the same inode
        self.gh.write_config(config(self.up.address, [("inplace", "/inplace")]), atomic=False)
        self.wait_status("/inplace", 200)

    def test_2_invalid_yaml_keeps_old_config(self):
        self.gh.write_config(config(self.up.address, [("keep", "/keep")]))
        self.wait_status("/keep", 200)
        e0 = self.gh.metric("gatehouse_config_reload_errors_total")
        self.assertIsNotNone(e0)
        self.gh.write_config(INVALID_YAML)
        self.assertTrue(
            wait_until(lambda: self.gh.metric("gatehouse_config_reload_errors_total") > e0,
                       timeout=10),
            "gatehouse_config_reload_errors_total did not increase")
        self.assertEqual(self.status_of("/keep"), 200)
        self.assertEqual(self.status_of("/base"), 200)
        st = self.gh.admin("/status")
        self.assertEqual(st.status, 200)
        self.assertEqual(st.json()["status"], "ready")
        # a semantically invalid file (unknown upstream) is rejected too
        bad = config(self.up.address, [("keep", "/keep")])
        bad["routes"].append({"name": "bad", "match": {"paths": ["/bad"]}, "upstream": "nope"})
        e1 = self.gh.metric("gatehouse_config_reload_errors_total")
        self.gh.write_config(bad)
        self.assertTrue(
            wait_until(lambda: self.gh.metric("gatehouse_config_reload_errors_total") > e1,
                       timeout=10))
        self.assertEqual(self.status_of("/keep"), 200)
        self.assertEqual(self.status_of("/bad"), 404)
        # and a valid file afterwards is picked up again
        self.gh.write_config(config(self.up.address, [("again", "/again")]))
        self.wait_status("/again", 200)
        self.wait_status("/keep", 404)

    def test_2b_target_change(self):
        b = Upstream("B")
        try:
            cfg = config(self.up.address, [("moved", "/moved")])
            self.gh.write_config(cfg)
            self.wait_status("/moved", 200)
            self.assertEqual(self.gh.request("GET", "/moved").json()["name"], "A")
            cfg["upstreams"][0]["targets"] = [{"address": b.address, "weight": 1}]
            self.gh.write_config(cfg)
            moved = wait_until(lambda: self.gh.request("GET", "/moved").json()["name"] == "B",
                               timeout=10, interval=0.1)
            self.assertTrue(moved, "requests still go to the old target after the reload")
            for _ in range(10):
                self.assertEqual(self.gh.request("GET", "/moved").json()["name"], "B")
            # back to A, for the following tests
            self.gh.write_config(config(self.up.address))
            self.wait_status("/moved", 404)
        finally:
            b.stop()

    def test_3_sighup_reload(self):
        gh = Gatehouse(config(self.up.address), extra_args=["--no-watch"])
        try:
            self.assertEqual(self.status_of("/hup", gh), 404)
            gh.write_config(config(self.up.address, [("hup", "/hup")]))
            time.sleep(1.5)  # longer than the watcher's poll: --no-watch must not reload
            self.assertEqual(self.status_of("/hup", gh), 404)
            gh.signal(signal.SIGHUP)
            self.wait_status("/hup", 200, gh)
            self.assertEqual(gh.metric("gatehouse_config_reloads_total"), 1)
            self.assertTrue(gh.alive())
        finally:
            gh.stop_and_check(self)

    def test_4_reload_under_load(self):
        stop = threading.Event()
        failures = []
        counts = [0] * 4

        def client(i):
            conn = None
            while not stop.is_set():
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port,
                                                          timeout=10)
                    conn.request("GET", "/base?c=%d" % i)
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200:
                        failures.append("client %d: status %d %r" % (i, r.status, body[:200]))
                    else:
                        counts[i] += 1
                    if r.getheader("connection", "").lower() == "close":
                        conn.close()
                        conn = None
                except Exception as e:  # noqa: BLE001
                    failures.append("client %d: %r" % (i, e))
                    if conn:
                        conn.close()
                    conn = None
            if conn:
                conn.close()

        r0 = self.gh.metric("gatehouse_config_reloads_total")
        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 8.0
            for n in range(20):
                extra = [("x-route", "/x")] if n % 2 == 0 else [("y-route", "/y")]
                self.gh.write_config(config(self.up.address, extra))
                time.sleep(max(0.0, min(0.4, deadline - time.monotonic())))
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(failures[:10], [], "%d failed requests during reloads" % len(failures))
        self.assertTrue(all(c > 0 for c in counts), counts)
        self.assertTrue(wait_until(lambda: self.gh.metric("gatehouse_config_reloads_total") > r0,
                                   timeout=5))
        reloads = self.gh.metric("gatehouse_config_reloads_total") - r0
        self.assertGreaterEqual(reloads, 2, "the load test saw fewer than 2 reloads")
        self.assertTrue(self.gh.alive())

    def test_5_graceful_shutdown(self):
        gh = Gatehouse(config(self.up.address, [("slow", "/slow")]))
        try:
            result = {}
            n0 = self.up.count()

            def slow():
                try:
                    result["r"] = gh.request("GET", "/slow?ms=1000", timeout=30)
                except Exception as e:  # noqa: BLE001
                    result["e"] = e

            t = threading.Thread(target=slow)
            t.start()
            self.assertTrue(wait_until(lambda: self.up.count() > n0, timeout=10),
                            "the slow request never reached the upstream")
            gh.signal(signal.SIGTERM)
            # draining: the admin listener stays up and says so
            st = wait_until(lambda: gh.admin("/status").status == 503, timeout=5)
            draining = gh.admin("/status") if t.is_alive() else None
            t.join(30)
            self.assertNotIn("e", result, result.get("e"))
            self.assertEqual(result["r"].status, 200, result["r"])
            self.assertEqual(result["r"].header("connection", "").lower(), "close",
                             "a response finished during the drain must say Connection: close")
            self.assertTrue(st, "/status did not answer 503 while draining")
            if draining is not None and draining.status == 503:
                self.assertEqual(draining.json()["status"], "draining")
            self.assertEqual(gh.wait_exit(30), 0, gh.stderr_text())
        finally:
            gh.stop_and_check(self)

    def test_6_shutdown_closes_idle_keepalive(self):
        gh = Gatehouse(config(self.up.address))
        try:
            with gh.raw() as c:
                r = c.request("GET", "/base")
                self.assertEqual(r.status, 200, r)
                gh.signal(signal.SIGTERM)
                self.assertTrue(c.is_closed(timeout=10),
                                "an idle keep-alive connection was not closed by the drain")
            self.assertEqual(gh.wait_exit(30), 0, gh.stderr_text())
        finally:
            gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
