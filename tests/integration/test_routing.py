#!/usr/bin/env python3
"""Routing through the real binary: the worked example of docs/routing.md,
predicates, and rewrites as the upstream sees them."""

import itertools
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
upstreams:
  - name: svc
    targets: [{{address: "{a}", weight: 1}}]
routes:
  - {{name: health,      upstream: svc, match: {{paths: ["=/healthz"]}}}}
  - {{name: user,        upstream: svc, match: {{paths: ["/users/{{id}}"], methods: [GET]}}}}
  - {{name: user-orders, upstream: svc, match: {{paths: ["/users/{{id}}/orders"]}}}}
  - {{name: user-canary, upstream: svc, match: {{paths: ["/users/{{id}}"], methods: [GET], headers: {{x-canary: "1"}}}}}}
  - {{name: versioned,   upstream: svc, match: {{paths: ["~/v[0-9]+/.*"]}}}}
  - {{name: api,         upstream: svc, match: {{paths: ["/api"]}}}}
  - {{name: catch-all,   upstream: svc, match: {{paths: ["/"]}}}}
  - {{name: tenant,      upstream: svc, match: {{hosts: ["*.example.com"], paths: ["/"]}}}}
  - {{name: admin,       upstream: svc, match: {{hosts: ["admin.example.com"], paths: ["/admin"]}}}}
  - name: strip
    upstream: svc
    match: {{hosts: [rw.test], paths: ["/strip"]}}
    rewrite: {{strip_prefix: true}}
  - name: legacy
    upstream: svc
    match: {{hosts: [rw.test], paths: ["/legacy"]}}
    rewrite: {{strip_prefix: true, path_prefix: /internal}}
  - name: regex
    upstream: svc
    match: {{hosts: [rw.test], paths: ["~/v([0-9]+)/(.*)"]}}
    rewrite: {{regex: "^/v([0-9]+)/(.*)$", replacement: "/\\\\2/version/\\\\1"}}
  - name: status
    upstream: svc
    match: {{hosts: [rw.test], paths: ["=/status"]}}
    rewrite: {{path_prefix: /base, host: legacy.internal}}
  - name: preserve
    upstream: svc
    match: {{hosts: [rw.test], paths: ["/preserve"]}}
    rewrite: {{preserve_host: true}}
  - name: query
    upstream: svc
    match: {{hosts: [q.test], query: {{format: "~json|xml"}}, cookies: {{beta: "*"}}}}
"""


class Routing(unittest.TestCase):
    ids = itertools.count()

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(CONFIG.format(a=cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def send(self, method, host, path, headers=None):
        rid = "routing-%06d" % next(self.ids)
        h = {"X-Request-Id": rid}
        h.update(headers or {})
        with self.gh.raw() as c:
            r = c.request(method, path, host=host, headers=h)
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec, "no access-log line for %s %s%s" % (method, host, path))
        return r, rec

    def route_of(self, method, host, path, headers=None):
        r, rec = self.send(method, host, path, headers)
        # (the test upstream itself answers 404 under /admin/: only the
        # gateway's own errors matter here)
        self.assertNotIn("error", rec, r)
        return rec["route"]

    def test_docs_worked_example(self):
        table = [
            ("GET", "any.test", "/healthz", None, "health"),
            ("GET", "any.test", "/users/7", None, "user"),
            ("GET", "any.test", "/users/7", {"X-Canary": "1"}, "user-canary"),
            ("POST", "any.test", "/users/7", None, "catch-all"),
            ("HEAD", "any.test", "/users/7", None, "user"),
            ("GET", "any.test", "/users/7/orders", None, "user-orders"),
            ("GET", "any.test", "/v2/things", None, "versioned"),
            ("GET", "any.test", "/api/v2/things", None, "api"),
            ("GET", "admin.example.com", "/admin/users", None, "admin"),
            ("GET", "admin.example.com", "/users/7", None, "tenant"),
            ("GET", "example.com", "/users/7", None, "user"),
        ]
        for method, host, path, headers, want in table:
            with self.subTest(method=method, host=host, path=path):
                self.assertEqual(self.route_of(method, host, path, headers), want)

    def test_host_case_and_port_ignored(self):
        self.assertEqual(self.route_of("GET", "ADMIN.Example.COM:8080", "/admin/x"), "admin")

    def test_query_and_cookie_predicates(self):
        self.assertEqual(self.route_of("GET", "q.test", "/x?format=json",
                                       {"Cookie": "a=1; beta=yes"}), "query")
        # predicate fails -> the any-host catch-all
        self.assertEqual(self.route_of("GET", "q.test", "/x?format=yaml",
                                       {"Cookie": "beta=yes"}), "catch-all")
        self.assertEqual(self.route_of("GET", "q.test", "/x?format=xml"), "catch-all")

    # ----------------------------------------------------------- rewrites

    def upstream_view(self, path, host="rw.test"):
        r, rec = self.send("GET", host, path)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        hosts = [v for k, v in doc["headers"] if k.lower() == "host"]
        return doc["path"], hosts[0] if hosts else None, rec["route"]

    def test_strip_prefix(self):
        self.assertEqual(self.upstream_view("/strip/users?x=1")[:1], ("/users?x=1",))
        self.assertEqual(self.upstream_view("/strip")[0], "/")

    def test_strip_prefix_with_path_prefix(self):
        self.assertEqual(self.upstream_view("/legacy/users")[0], "/internal/users")
        self.assertEqual(self.upstream_view("/legacy")[0], "/internal")
        self.assertEqual(self.upstream_view("/legacy/")[0], "/internal/")

    def test_regex_rewrite(self):
        self.assertEqual(self.upstream_view("/v2/items/9")[0], "/items/9/version/2")

    def test_path_prefix_and_host(self):
        path, host, route = self.upstream_view("/status")
        self.assertEqual(route, "status")
        self.assertEqual(path, "/base/status")
        self.assertEqual(host, "legacy.internal")

    def test_preserve_host(self):
        path, host, _ = self.upstream_view("/preserve/x", host="rw.test:9999")
        self.assertEqual(path, "/preserve/x")
        self.assertEqual(host, "rw.test:9999")

    def test_default_host_is_target(self):
        _, host, _ = self.upstream_view("/strip/x")
        self.assertEqual(host, self.up.address)


if __name__ == "__main__":
    unittest.main()
