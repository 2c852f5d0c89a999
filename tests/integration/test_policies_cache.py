#!/usr/bin/env python3
"""proxy-cache through the real binary: hits served without the upstream,
Cache-Control / Vary honoured, bypass, expiry, large bodies uncached, purge
through the admin API, metrics, and transforms applied to hits."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from body_peer import Peer  # noqa: E402
from harness import Gatehouse, metric_sum, parse_metrics  # noqa: E402

TOKEN = "cache-test-token"

CONFIG = """\
upstreams:
  - name: peer
    targets: [{{address: "{peer}"}}]
routes:
  - name: cached
    upstream: peer
    match: {{paths: ["/cached"]}}
    policies:
      - name: proxy-cache
        config: {{ttl: 0s, max_entry: 2k, memory: 64k, key: {{query: [k, cc, vary, cookie, pad, chunked]}}}}
      - name: response-transformer
        config: {{headers: {{set: {{X-Edited: "yes"}}}}, body: {{set: {{route: "$(route.name)"}}}}}}
  - name: default-ttl
    upstream: peer
    match: {{paths: ["/ttl"]}}
    rewrite: {{strip_prefix: true}}
    policies:
      - {{name: proxy-cache, config: {{ttl: 1s}}}}
"""


class PoliciesCache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = Peer()
        cls.addClassCleanup(cls.peer.stop)
        cls.gh = Gatehouse(CONFIG.format(peer=cls.peer.address),
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def get(self, path, headers=(), method="GET"):
        with self.gh.raw() as c:
            r = c.request(method, path, headers=list(headers))
        self.assertEqual(r.status, 200, r)
        return r

    def served(self, r):
        return json.loads(r.body)["served"]

    def test_miss_then_hit_with_age_and_transforms(self):
        path = "/cached?k=hit&cc=max-age%3D60"
        a = self.get(path)
        self.assertEqual(a.header("x-cache-status"), "MISS")
        b = self.get(path)
        self.assertEqual(b.header("x-cache-status"), "HIT")
        self.assertEqual(self.served(a), self.served(b))  # the upstream was not asked again
        self.assertIsNotNone(b.header("age"))
        self.assertGreaterEqual(int(b.header("age")), 0)
        # The stored answer is the upstream's; hooks run on each hit.
        self.assertEqual(b.header("x-edited"), "yes")
        self.assertEqual(json.loads(b.body)["route"], "cached")
        self.assertEqual(int(b.header("content-length")), len(b.body))
        h = self.get(path, method="HEAD")
        self.assertEqual(h.header("x-cache-status"), "HIT")
        self.assertEqual(h.body, b"")

    def test_chunked_upstream_answer_is_stored(self):
        path = "/cached?k=chunked&chunked=1&cc=max-age%3D60"
        a = self.get(path)
        b = self.get(path)
        self.assertEqual(b.header("x-cache-status"), "HIT")
        self.assertEqual(self.served(a), self.served(b))

    def test_not_stored(self):
        for q in ("cc=no-store", "cc=private%2Cmax-age%3D60", "cc=no-cache",
                  "cc=max-age%3D60&cookie=1", "cc=max-age%3D60&vary=%2A", ""):
            with self.subTest(q=q):
                path = "/cached?k=not&" + q
                a = self.get(path)
                b = self.get(path)
                self.assertEqual(b.header("x-cache-status"), "MISS")
                self.assertNotEqual(self.served(a), self.served(b))

    def test_large_body_streams_uncached(self):
        path = "/cached?k=large&cc=max-age%3D60&pad=5000"
        for chunked in ("0", "1"):
            p = path + "&chunked=" + chunked
            a = self.get(p)
            b = self.get(p)
            self.assertEqual(b.header("x-cache-status"), "MISS")
            self.assertNotEqual(self.served(a), self.served(b))
            self.assertEqual(len(json.loads(b.body)["pad"]), 5000)

    def test_vary_keeps_variants_apart(self):
        path = "/cached?k=vary&vary=Accept-Language&cc=max-age%3D60"
        en = self.get(path, [("Accept-Language", "en")])
        fr = self.get(path, [("Accept-Language", "fr")])
        self.assertEqual(fr.header("x-cache-status"), "MISS")
        en2 = self.get(path, [("Accept-Language", "en")])
        fr2 = self.get(path, [("Accept-Language", "fr")])
        self.assertEqual(en2.header("x-cache-status"), "HIT")
        self.assertEqual(fr2.header("x-cache-status"), "HIT")
        self.assertEqual(json.loads(en2.body)["lang"], "en")
        self.assertEqual(json.loads(fr2.body)["lang"], "fr")
        self.assertEqual(self.served(en2), self.served(en))

    def test_request_no_cache_bypasses_and_refreshes(self):
        path = "/cached?k=bypass&cc=max-age%3D60"
        self.get(path)
        b = self.get(path, [("Cache-Control", "no-cache")])
        self.assertEqual(b.header("x-cache-status"), "BYPASS")
        c = self.get(path)
        self.assertEqual(c.header("x-cache-status"), "HIT")
        self.assertEqual(self.served(c), self.served(b))  # the bypass refreshed the entry

    def test_expiry(self):
        a = self.get("/ttl/cached?k=exp")
        self.assertEqual(a.header("x-cache-status"), "MISS")
        self.assertEqual(self.get("/ttl/cached?k=exp").header("x-cache-status"), "HIT")
        time.sleep(1.2)
        c = self.get("/ttl/cached?k=exp")
        self.assertEqual(c.header("x-cache-status"), "EXPIRED")
        self.assertNotEqual(self.served(a), self.served(c))

    def test_purge_and_metrics(self):
        path = "/cached?k=purge&cc=max-age%3D60"
        self.get(path)
        self.assertEqual(self.get(path).header("x-cache-status"), "HIT")
        r = self.gh.api("DELETE", "/api/v1/cache/cached", token=TOKEN)
        self.assertEqual(r.status, 200, r.body)
        self.assertGreaterEqual(r.json()["purged"], 1)
        self.assertEqual(self.get(path).header("x-cache-status"), "MISS")
        self.assertEqual(self.gh.api("DELETE", "/api/v1/cache", token=TOKEN).status, 200)
        self.assertEqual(self.gh.api("DELETE", "/api/v1/cache/cached").status, 401)
        m = parse_metrics(self.gh.admin("/metrics").body.decode())
        self.assertGreater(metric_sum(m, "gatehouse_proxy_cache_requests_total",
                                      cache="cached", status="hit"), 0)
        self.assertGreater(metric_sum(m, "gatehouse_proxy_cache_requests_total",
                                      cache="cached", status="miss"), 0)
        self.assertGreater(metric_sum(m, "gatehouse_proxy_cache_hit_bytes_total",
                                      cache="cached"), 0)


if __name__ == "__main__":
    unittest.main()
