#!/usr/bin/env python3
"""rate-limit and concurrency-limit through the real binary: exact budgets per
consumer across workers, 429 problem+json with Retry-After and RateLimit-*
headers, counters that survive a reload which leaves the policy alone, and
in-flight limits against the upstream's /slow endpoint.

Sliding windows start at multiples of the window on the gateway's monotonic
clock, which is Python's time.monotonic() on Linux (both CLOCK_MONOTONIC):
bursts that must land in one 1 s window start just after a window begins, and
are repeated if the machine stalled them across a boundary."""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

ALICE = {"apikey": "alice-key"}
BOB = {"apikey": "bob-key"}


def config(address, quota_requests=3, extra_route=None):
    routes = [
        {"name": "limited", "match": {"paths": ["/limited"]}, "upstream": "svc",
         "policies": [{"name": "key-auth"},
                      {"name": "rate-limit",
                       "config": {"requests": 5, "window": "1s", "by": "consumer"}}]},
        # A one-day window: no window boundary falls inside the test.
        {"name": "quota", "match": {"paths": ["/quota"]}, "upstream": "svc",
         "policies": [{"name": "key-auth"},
                      {"name": "rate-limit",
                       "config": {"requests": quota_requests, "window": "1d",
                                  "by": "consumer"}}]},
        {"name": "slow", "match": {"paths": ["/slow"]}, "upstream": "svc",
         "policies": [{"name": "concurrency-limit", "config": {"max": 2}}]},
    ]
    if extra_route:
        routes.append({"name": extra_route, "match": {"paths": ["/" + extra_route]},
                       "upstream": "svc"})
    return {
        "upstreams": [{"name": "svc", "targets": [{"address": address, "weight": 1}]}],
        "consumers": [
            {"name": "alice", "credentials": [{"type": "key-auth", "key": "alice-key"}]},
            {"name": "bob", "credentials": [{"type": "key-auth", "key": "bob-key"}]},
        ],
        "routes": routes,
    }


def window_index(t, window=1.0):
    return int(t // window)


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(config(cls.up.address), workers=2)
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # -- helpers

    def burst_in_one_window(self, n, headers, path="/limited"):
        """n requests, each on a new connection (so both workers see some),
        all inside one 1 s window; returns the responses."""
        for _attempt in range(3):
            # Two windows of silence: the previous window no longer weighs.
            time.sleep(2.0)
            now = time.monotonic()
            time.sleep((1.0 - (now % 1.0)) + 0.05)  # 50 ms into a fresh window
            start = time.monotonic()
            out = [self.gh.request("GET", path, headers=headers) for _ in range(n)]
            if window_index(time.monotonic()) == window_index(start):
                return out
        self.fail("could not fit %d requests into one 1 s window" % n)

    def check_429(self, r):
        check_problem(self, r, 429, "rate_limited")
        retry = r.header("retry-after")
        self.assertIsNotNone(retry, r)
        self.assertGreaterEqual(int(retry), 1)
        self.assertEqual(r.header("ratelimit-remaining"), "0", r)
        self.assertEqual(r.header("ratelimit-limit"), "5", r)
        self.assertEqual(r.header("ratelimit-policy"), "5;w=1", r)
        self.assertIsNotNone(r.header("ratelimit-reset"), r)

    # -- rate-limit

    def test_1_exactly_five_per_consumer(self):
        self.up.get("/admin/reset-count")
        rs = self.burst_in_one_window(8, ALICE)
        statuses = [r.status for r in rs]
        self.assertEqual(statuses, [200] * 5 + [429] * 3, statuses)
        for i, r in enumerate(rs[:5]):
            self.assertEqual(r.header("ratelimit-limit"), "5", r)
            self.assertEqual(r.header("ratelimit-remaining"), str(4 - i), r)
            self.assertEqual(r.header("ratelimit-policy"), "5;w=1", r)
            self.assertIn(r.header("ratelimit-reset"), ("1",), r)
            self.assertIsNone(r.header("retry-after"), r)
        for r in rs[5:]:
            self.check_429(r)
        # Refused requests never reached the upstream.
        self.assertEqual(self.up.count(), 5)

    def test_2_each_consumer_has_its_own_budget(self):
        statuses = None
        for _attempt in range(3):
            time.sleep(2.0)
            now = time.monotonic()
            time.sleep((1.0 - (now % 1.0)) + 0.05)
            start = time.monotonic()
            a = [self.gh.request("GET", "/limited", headers=ALICE).status for _ in range(8)]
            b = [self.gh.request("GET", "/limited", headers=BOB).status for _ in range(8)]
            if window_index(time.monotonic()) == window_index(start):
                statuses = (a, b)
                break
        self.assertIsNotNone(statuses, "could not fit the requests into one window")
        self.assertEqual(statuses[0], [200] * 5 + [429] * 3)
        self.assertEqual(statuses[1], [200] * 5 + [429] * 3)
        # Unauthenticated requests are refused by key-auth before any limit.
        check_problem(self, self.gh.request("GET", "/limited"), 401, "missing_credentials")

    def test_3_reload_of_another_route_keeps_the_counter(self):
        ok = [self.gh.request("GET", "/quota", headers=ALICE).status for _ in range(2)]
        self.assertEqual(ok, [200, 200])
        # Change another route: a new snapshot, new policy objects.
        self.gh.write_config(config(self.up.address, extra_route="added"))
        self.assertTrue(wait_until(lambda: self.gh.request("GET", "/added").status == 200,
                                   timeout=15, interval=0.1), "reload not applied")
        r = self.gh.request("GET", "/quota", headers=ALICE)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ratelimit-remaining"), "0", r)
        r = self.gh.request("GET", "/quota", headers=ALICE)
        check_problem(self, r, 429, "rate_limited")
        self.assertEqual(r.header("ratelimit-policy"), "3;w=86400", r)
        # bob's budget on that route is untouched
        self.assertEqual(self.gh.request("GET", "/quota", headers=BOB).status, 200)
        # Changing the quota policy itself starts it afresh.
        self.gh.write_config(config(self.up.address, quota_requests=4, extra_route="again"))
        self.assertTrue(wait_until(lambda: self.gh.request("GET", "/again").status == 200,
                                   timeout=15, interval=0.1), "reload not applied")
        statuses = [self.gh.request("GET", "/quota", headers=ALICE).status for _ in range(5)]
        self.assertEqual(statuses, [200] * 4 + [429])
        # back to the base config for the following tests
        self.gh.write_config(config(self.up.address))
        self.assertTrue(wait_until(lambda: self.gh.request("GET", "/again").status == 404,
                                   timeout=15, interval=0.1))

    # -- concurrency-limit

    def slow_in_background(self, ms, results):
        def run():
            try:
                results.append(self.gh.request("GET", "/slow?ms=%d" % ms, timeout=30).status)
            except OSError as e:
                results.append(repr(e))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def test_4_concurrency_limit(self):
        for _round in range(2):  # the second round proves every slot came back
            self.up.get("/admin/reset-count")
            results = []
            threads = [self.slow_in_background(1500, results) for _ in range(2)]
            # Both reached the upstream, so both hold a slot.
            self.assertTrue(wait_until(lambda: self.up.count() == 2, timeout=10),
                            "slow requests did not arrive")
            r = self.gh.request("GET", "/slow?ms=1")
            doc = check_problem(self, r, 429, "too_many_concurrent_requests")
            self.assertIn("2 requests in flight", doc["detail"])
            self.assertIsNone(r.header("ratelimit-limit"))
            for t in threads:
                t.join(30)
            self.assertEqual(results, [200, 200])
            self.assertEqual(self.up.count(), 2)  # the refused one never went upstream
            self.assertEqual(self.gh.request("GET", "/slow?ms=1").status, 200)


if __name__ == "__main__":
    unittest.main()
