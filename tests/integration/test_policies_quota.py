#!/usr/bin/env python3
"""quota through the real binary: 5 calls a day per consumer behind key-auth,
429 problem+json with Retry-After and X-Quota-* headers, and counts that
survive a restart on the same --data-dir (SIGTERM flushes; after a hard kill
what the background writer saved a second earlier is still there).

Quota days are UTC calendar days: a test that would straddle midnight UTC
waits for the new day first."""

import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

ALICE = {"apikey": "alice-key"}
BOB = {"apikey": "bob-key"}
CAROL = {"apikey": "carol-key"}
DAY = 86400


def config(address):
    return {
        "upstreams": [{"name": "svc", "targets": [{"address": address, "weight": 1}]}],
        "consumers": [
            {"name": name, "credentials": [{"type": "key-auth", "key": name + "-key"}]}
            for name in ("alice", "bob", "carol")
        ],
        "routes": [
            {"name": "daily", "match": {"paths": ["/daily"]}, "upstream": "svc",
             "policies": [{"name": "key-auth"},
                          {"name": "quota",
                           "config": {"limit": 5, "period": "day", "by": "consumer"}}]},
            # Only answers below 400 use the quota: /success/status/500 is free.
            {"name": "success", "match": {"paths": ["/success"]}, "upstream": "svc",
             "rewrite": {"strip_prefix": True},
             "policies": [{"name": "key-auth"},
                          {"name": "quota",
                           "config": {"limit": 2, "period": "month", "count": "success"}}]},
        ],
    }


def seconds_to_utc_midnight():
    return DAY - int(time.time()) % DAY


def avoid_midnight(margin=60):
    """Counts of one test must land in one UTC day."""
    left = seconds_to_utc_midnight()
    if left < margin:
        time.sleep(left + 1)


class Quota(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.data = tempfile.mkdtemp(prefix="gatehouse-quota-data-")
        cls.addClassCleanup(shutil.rmtree, cls.data, True)

    def start(self):
        gh = Gatehouse(config(self.up.address), workers=2,
                       extra_args=["--data-dir", os.path.join(self.data, "state")])
        self.addCleanup(gh.cleanup)
        return gh

    def rows(self):
        db = sqlite3.connect(os.path.join(self.data, "state", "quotas.db"))
        try:
            return {(scope, key): n for scope, key, n in db.execute(
                "SELECT scope, key, count FROM quota_usage")}
        finally:
            db.close()

    def check_ok(self, r, limit, remaining):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-quota-limit"), str(limit), r)
        self.assertEqual(r.header("x-quota-remaining"), str(remaining), r)
        reset = int(r.header("x-quota-reset"))
        self.assertGreaterEqual(reset, 1, r)
        self.assertIsNone(r.header("retry-after"), r)
        return reset

    def check_429(self, r, limit):
        doc = check_problem(self, r, 429, "quota_exceeded")
        self.assertIn("quota of %d calls per day exceeded" % limit, doc["detail"])
        retry = int(r.header("retry-after"))
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, DAY)
        # Until the next 00:00 UTC (a second of slack for the clock read).
        self.assertLessEqual(abs(retry - seconds_to_utc_midnight()), 2)
        self.assertEqual(r.header("x-quota-limit"), str(limit), r)
        self.assertEqual(r.header("x-quota-remaining"), "0", r)
        self.assertEqual(r.header("x-quota-reset"), str(retry), r)

    def test_1_daily_quota_survives_a_restart(self):
        avoid_midnight()
        gh = self.start()
        self.up.get("/admin/reset-count")
        for i in range(5):
            self.check_ok(gh.request("GET", "/daily", headers=ALICE), 5, 4 - i)
        for _ in range(2):
            self.check_429(gh.request("GET", "/daily", headers=ALICE), 5)
        self.assertEqual(self.up.count(), 5)  # refused calls never went upstream
        for i in range(2):
            self.check_ok(gh.request("GET", "/daily", headers=BOB), 5, 4 - i)
        # No key: key-auth refuses before the quota is consulted.
        check_problem(self, gh.request("GET", "/daily"), 401, "missing_credentials")

        # SIGTERM: a clean exit, and the last counts are on disk.
        self.assertEqual(gh.stop(), 0, gh.stderr_text())
        rows = self.rows()
        scope = "quota|route:daily/policies[1]|limit=5;period=day;by=consumer;count=all"
        self.assertEqual(rows.get((scope, "consumer:alice")), 5, rows)
        self.assertEqual(rows.get((scope, "consumer:bob")), 2, rows)

        # A new process on the same data folder carries on.
        gh2 = self.start()
        self.check_429(gh2.request("GET", "/daily", headers=ALICE), 5)
        for i in range(3):
            self.check_ok(gh2.request("GET", "/daily", headers=BOB), 5, 2 - i)
        self.check_429(gh2.request("GET", "/daily", headers=BOB), 5)
        self.assertEqual(gh2.stop(), 0, gh2.stderr_text())

    def test_2_background_writer_survives_a_hard_kill(self):
        avoid_midnight()
        gh = self.start()
        for i in range(3):
            self.check_ok(gh.request("GET", "/daily", headers=CAROL), 5, 4 - i)
        # The writer saves every second; wait until it has, then SIGKILL.
        scope = "quota|route:daily/policies[1]|limit=5;period=day;by=consumer;count=all"
        self.assertTrue(wait_until(lambda: self.rows().get((scope, "consumer:carol")) == 3,
                                   timeout=10, interval=0.2), self.rows())
        gh.proc.send_signal(signal.SIGKILL)
        gh.proc.wait(10)

        gh2 = self.start()
        self.check_ok(gh2.request("GET", "/daily", headers=CAROL), 5, 1)
        self.check_ok(gh2.request("GET", "/daily", headers=CAROL), 5, 0)
        self.check_429(gh2.request("GET", "/daily", headers=CAROL), 5)
        self.assertEqual(gh2.stop(), 0, gh2.stderr_text())

    def test_3_count_success_skips_failed_calls(self):
        gh = self.start()
        for _ in range(4):
            r = gh.request("GET", "/success/status/500", headers=ALICE)
            self.assertEqual(r.status, 500, r)
            self.assertEqual(r.header("x-quota-remaining"), "1", r)  # nothing used yet
        self.check_ok(gh.request("GET", "/success/echo", headers=ALICE), 2, 1)
        self.check_ok(gh.request("GET", "/success/echo", headers=ALICE), 2, 0)
        r = gh.request("GET", "/success/echo", headers=ALICE)
        doc = check_problem(self, r, 429, "quota_exceeded")
        self.assertIn("per month", doc["detail"])
        self.assertEqual(gh.stop(), 0, gh.stderr_text())


if __name__ == "__main__":
    unittest.main()
