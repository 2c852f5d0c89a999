#!/usr/bin/env python3
"""Cluster mode: two gatehouse nodes sharing one real PostgreSQL.

A route created through node A's admin API reaches node B's data plane via
LISTEN/NOTIFY (the measured latency is printed; the assertion is a generous
5 s bound). A change that arrives without a NOTIFY (written straight into the
database, as when a notification is lost) reaches both nodes through the
periodic resync (every 5 s). Admin tokens live in the database: A's first
token works on B.
"""

import json
import os
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, wait_until  # noqa: E402
from pg import PostgresServer, PostgresUnavailable  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKEN = "cluster-admin-token-0123456789"


class ClusterStore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.pg = PostgresServer()
        except PostgresUnavailable as e:
            raise unittest.SkipTest(str(e))
        cls.addClassCleanup(cls.pg.close)
        cls.url = cls.pg.create_database("gatehouse")
        cls.up = Upstream("U")
        cls.addClassCleanup(cls.up.stop)
        env = {"GATEHOUSE_ADMIN_TOKEN": TOKEN}
        # A first: it creates the schema and the first admin token; B finds both.
        cls.a = Gatehouse(None, extra_args=["--store", cls.url], env=env)
        cls.addClassCleanup(cls.a.cleanup)
        cls.b = Gatehouse(None, extra_args=["--store", cls.url], env=env)
        cls.addClassCleanup(cls.b.cleanup)

    def api(self, node, method, path, body=None):
        return node.api(method, path, body, TOKEN)

    @staticmethod
    def status(node, path):
        try:
            return node.request("GET", path, timeout=5).status
        except OSError:
            return 0

    def test_1_token_and_config_shared(self):
        r = self.api(self.b, "GET", "/api/v1/status")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["mode"], "store")
        self.assertTrue(r.json()["store"].startswith("postgres"), r.json())
        r = self.api(self.a, "POST", "/api/v1/upstreams",
                     {"name": "svc", "targets": [{"address": self.up.address}]})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(wait_until(lambda: self.api(self.b, "GET", "/api/v1/upstreams/svc").status == 200,
                                   timeout=5))

    def test_2_notify_latency_across_nodes(self):
        if self.api(self.a, "GET", "/api/v1/upstreams/svc").status != 200:
            self.test_1_token_and_config_shared()
        lat_b, lat_a = [], []
        for i in range(10):
            path = "/notify/%d" % i
            t0 = time.monotonic()
            r = self.api(self.a, "POST", "/api/v1/routes",
                         {"name": "n%d" % i, "match": {"paths": [path]}, "upstream": "svc"})
            self.assertEqual(r.status, 201, r)
            got_a = wait_until(lambda: self.status(self.a, path) == 200, timeout=10, interval=0.001)
            ta = time.monotonic()
            got_b = wait_until(lambda: self.status(self.b, path) == 200, timeout=10, interval=0.001)
            tb = time.monotonic()
            self.assertTrue(got_a and got_b, "route %s did not reach both nodes" % path)
            lat_a.append((ta - t0) * 1000)
            lat_b.append((tb - t0) * 1000)
        print("\nwrite-to-data-plane latency, PostgreSQL, 10 routes created on node A:\n"
              "  node A (its own commit):     median %.1f ms, max %.1f ms\n"
              "  node B (LISTEN/NOTIFY):      median %.1f ms, max %.1f ms"
              % (statistics.median(lat_a), max(lat_a), statistics.median(lat_b), max(lat_b)),
              file=sys.stderr)
        self.assertLess(max(lat_b), 5000)
        # A deletion travels the same way.
        t0 = time.monotonic()
        self.assertEqual(self.api(self.a, "DELETE", "/api/v1/routes/n0").status, 204)
        self.assertTrue(wait_until(lambda: self.status(self.b, "/notify/0") == 404, timeout=5,
                                   interval=0.001))
        print("  delete on A -> 404 on B:     %.1f ms" % ((time.monotonic() - t0) * 1000),
              file=sys.stderr)

    def test_3_periodic_resync_without_notify(self):
        if self.api(self.a, "GET", "/api/v1/upstreams/svc").status != 200:
            self.test_1_token_and_config_shared()
        r = self.api(self.a, "PUT", "/api/v1/routes/resync",
                     {"match": {"paths": ["/before-resync"]}, "upstream": "svc"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(wait_until(lambda: self.status(self.b, "/before-resync") == 200, timeout=5))
        # Change the route in the database directly: no pg_notify, as if the
        # notification had been lost. Only the periodic resync can find it.
        body = json.dumps({"match": {"paths": ["/after-resync"]}, "upstream": "svc"})
        t0 = time.monotonic()
        self.pg.sql("gatehouse",
                    "BEGIN; UPDATE config_revision SET revision = revision + 1; "
                    "UPDATE entities SET body = '%s', version = version + 1, "
                    "revision = (SELECT revision FROM config_revision) "
                    "WHERE kind = 'route' AND name = 'resync'; COMMIT;" % body)
        got = wait_until(lambda: self.status(self.b, "/after-resync") == 200, timeout=15,
                         interval=0.01)
        took = time.monotonic() - t0
        self.assertTrue(got, "the resync did not pick the change up")
        self.assertTrue(wait_until(lambda: self.status(self.a, "/after-resync") == 200, timeout=15))
        self.assertEqual(self.status(self.b, "/before-resync"), 404)
        print("\nchange without NOTIFY reached node B by periodic resync after %.2f s "
              "(resync interval 5 s)" % took, file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
