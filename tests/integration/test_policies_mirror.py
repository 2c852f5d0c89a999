#!/usr/bin/env python3
"""proxy-mirror through the real binary: the shadow upstream receives a copy,
the client only ever sees the primary, and a dead shadow changes nothing."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, free_port, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
upstreams:
  - name: primary
    targets: ["{primary}"]
  - name: shadow
    targets: ["{shadow}"]
  - name: dead
    targets: ["127.0.0.1:{dead}"]
routes:
  - name: mirrored
    match: {{paths: ["/m"]}}
    upstream: primary
    rewrite: {{strip_prefix: true}}
    policies:
      - {{name: proxy-mirror, config: {{upstream: shadow}}}}
  - name: sampled
    match: {{paths: ["/s"]}}
    upstream: primary
    rewrite: {{strip_prefix: true}}
    policies:
      - {{name: proxy-mirror, config: {{upstream: shadow, sample: 0}}}}
  - name: dead-shadow
    match: {{paths: ["/d"]}}
    upstream: primary
    rewrite: {{strip_prefix: true}}
    policies:
      - {{name: proxy-mirror, config: {{upstream: dead}}}}
"""


class Mirror(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.primary = Upstream("P")
        cls.addClassCleanup(cls.primary.stop)
        cls.shadow = Upstream("S")
        cls.addClassCleanup(cls.shadow.stop)
        cls.gh = Gatehouse(CONFIG.format(primary=cls.primary.address, shadow=cls.shadow.address,
                                         dead=free_port()))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def shadow_count(self):
        return self.shadow.count()

    def test_copy_reaches_shadow_and_client_sees_primary(self):
        before = self.shadow_count()
        with self.gh.raw() as c:
            for _ in range(5):
                r = c.request("POST", "/m/echo", body=b"hello", headers={"Content-Type": "text/plain"})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json()["name"], "P")
        self.assertTrue(wait_until(lambda: self.shadow_count() >= before + 5, timeout=10),
                        "shadow saw %d of 5 copies" % (self.shadow_count() - before))

    def test_sample_zero_sends_nothing(self):
        before = self.shadow_count()
        with self.gh.raw() as c:
            for _ in range(5):
                self.assertEqual(c.request("GET", "/s/echo").status, 200)
        # Give a stray copy time to arrive, then check none did.
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/m/echo").status, 200)
        self.assertTrue(wait_until(lambda: self.shadow_count() >= before + 1, timeout=10))
        self.assertEqual(self.shadow_count(), before + 1)

    def test_dead_shadow_does_not_affect_primary(self):
        with self.gh.raw() as c:
            for _ in range(3):
                r = c.request("GET", "/d/echo")
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json()["name"], "P")


if __name__ == "__main__":
    unittest.main()
