#!/usr/bin/env python3
"""request-transformer, response-transformer and traffic-split through the real
binary: what the upstream sees, what the client sees, and where requests go."""

import itertools
import os
import sys
import unittest
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, run_check  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
upstreams:
  - name: svc
    targets: [{{address: "{v1}", weight: 1}}]
  - name: svc-v2
    targets: [{{address: "{v2}", weight: 1}}]
routes:
  - name: transform
    upstream: svc
    match: {{paths: ["/transform"]}}
    policies:
      - name: request-transformer
        config:
          headers:
            remove: [X-Debug]
            rename: {{X-Old: X-New}}
            set: {{X-Route: "$(route.name)", X-Rid: "rid=$(request_id)", X-Owned: "$(query.owner)"}}
            add: {{X-Added: "a", X-Keep: "gateway", X-Lang-Copy: "$(query.lang)"}}
            append: {{X-Multi: "two"}}
          query:
            remove: [secret]
            rename: {{q: search}}
            set: {{page: "1"}}
            add: {{from: "$(header.x-from)", note: "a b&c"}}
      - name: response-transformer
        config:
          headers:
            remove: [X-Debug-Info]
            rename: {{X-Upstream-Name: X-Backend}}
            set: {{Cache-Control: "no-store", X-Echo-Rid: "$(request_id)"}}
            add: {{X-Frame-Options: DENY, Content-Type: "text/never-used"}}
            append: {{X-Multi: "two"}}
  - name: split
    upstream: svc
    match: {{paths: ["/split"]}}
    policies:
      - name: traffic-split
        config:
          rules: [{{match: {{headers: {{x-canary: "1"}}}}, upstream: svc-v2}}]
          weighted: [{{upstream: svc-v2, weight: 30}}]
      - name: response-transformer
        config:
          headers: {{set: {{X-Test-Split: "$(var.traffic_split.match)"}}}}
  - name: sticky
    upstream: svc
    match: {{paths: ["/sticky"]}}
    policies:
      - name: traffic-split
        config:
          weighted: [{{upstream: svc-v2, weight: 50}}]
          sticky: {{by: header, name: x-user}}
"""


def headers_of(doc, name):
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


class PoliciesTransform(unittest.TestCase):
    ids = itertools.count()

    @classmethod
    def setUpClass(cls):
        cls.v1 = Upstream("v1")
        cls.addClassCleanup(cls.v1.stop)
        cls.v2 = Upstream("v2")
        cls.addClassCleanup(cls.v2.stop)
        cls.gh = Gatehouse(CONFIG.format(v1=cls.v1.address, v2=cls.v2.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def get(self, path, headers=None, client=None):
        rid = "transform-%06d" % next(self.ids)
        h = [("X-Request-Id", rid)] + list((headers or {}).items()
                                          if isinstance(headers, dict) else headers or [])
        if client is not None:
            r = client.request("GET", path, headers=h)
        else:
            with self.gh.raw() as c:
                r = c.request("GET", path, headers=h)
        self.assertEqual(r.status, 200, r)
        return r, rid

    # ------------------------------------------------------ request-transformer

    def test_request_headers_seen_by_upstream(self):
        r, rid = self.get("/transform", [("X-Debug", "1"), ("x-old", "o"), ("X-Keep", "client"),
                                         ("X-Multi", "one"), ("X-Route", "forged")])
        doc = r.json()
        self.assertEqual(doc["name"], "v1")
        self.assertEqual(headers_of(doc, "X-Debug"), [])
        self.assertEqual(headers_of(doc, "X-Old"), [])
        self.assertEqual(headers_of(doc, "X-New"), ["o"])
        self.assertEqual(headers_of(doc, "X-Route"), ["transform"])  # set overwrites
        self.assertEqual(headers_of(doc, "X-Rid"), ["rid=" + rid])
        self.assertEqual(headers_of(doc, "X-Added"), ["a"])
        self.assertEqual(headers_of(doc, "X-Keep"), ["client"])  # add never overwrites
        self.assertEqual(headers_of(doc, "X-Multi"), ["one", "two"])

    def test_set_with_absent_value_removes_forged_header(self):
        r, _ = self.get("/transform", [("X-Owned", "forged")])
        self.assertEqual(headers_of(r.json(), "X-Owned"), [])
        r, _ = self.get("/transform?owner=team-a", [("X-Owned", "forged")])
        self.assertEqual(headers_of(r.json(), "X-Owned"), ["team-a"])

    def test_query_edits_seen_by_upstream(self):
        r, _ = self.get("/transform?q=shoes&secret=s3&page=9&keep=%7e", [("X-From", "web app")])
        path = r.json()["path"]
        u = urlsplit(path)
        self.assertEqual(u.path, "/transform")
        pairs = parse_qsl(u.query, keep_blank_values=True)
        self.assertEqual(pairs, [("search", "shoes"), ("page", "1"), ("keep", "~"),
                                 ("from", "web app"), ("note", "a b&c")])
        self.assertIn("keep=%7e", u.query)  # untouched pairs keep their bytes
        self.assertIn("note=a%20b%26c", u.query)  # new values percent-encoded
        self.assertNotIn("secret", u.query)

    def test_query_other_pairs_keep_their_order(self):
        # page is always set, so the query changes; the client's pairs stay first, in order.
        r, _ = self.get("/transform?z=1&a=2")
        self.assertEqual(urlsplit(r.json()["path"]).query, "z=1&a=2&page=1&note=a%20b%26c")

    def test_expanded_crlf_is_dropped_not_injected(self):
        r, _ = self.get("/transform?lang=en%0D%0AX-Injected:%20yes")
        doc = r.json()
        self.assertEqual(headers_of(doc, "X-Injected"), [])
        self.assertEqual(headers_of(doc, "X-Lang-Copy"), [])
        r, _ = self.get("/transform?lang=en")
        self.assertEqual(headers_of(r.json(), "X-Lang-Copy"), ["en"])

    # ----------------------------------------------------- response-transformer

    def test_response_headers_seen_by_client(self):
        r, rid = self.get("/transform", [("X-Multi", "one")])
        self.assertIsNone(r.header("X-Upstream-Name"))
        self.assertEqual(r.header("X-Backend"), "v1")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("X-Echo-Rid"), rid)
        self.assertEqual(r.header("X-Frame-Options"), "DENY")
        self.assertEqual(r.header("Content-Type"), "application/json")  # add: upstream's kept
        self.assertEqual(r.headers_all("X-Multi"), ["two"])
        self.assertEqual(r.json()["name"], "v1")  # framing intact: the body parses

    # ------------------------------------------------------------ traffic-split

    def test_canary_header_always_goes_to_v2(self):
        with self.gh.raw() as c:
            for _ in range(50):
                r, _ = self.get("/split", {"X-Canary": "1"}, client=c)
                self.assertEqual(r.json()["name"], "v2")
                self.assertEqual(r.header("X-Test-Split"), "rules[0]")
            r, _ = self.get("/split", {"X-Canary": "0"}, client=c)
            self.assertIn(r.header("X-Test-Split"), ("weighted", "default"))

    def test_weighted_split_proportions(self):
        n = 400
        seen = {"v1": 0, "v2": 0}
        with self.gh.raw() as c:
            for _ in range(n):
                r, _ = self.get("/split", client=c)
                name = r.json()["name"]
                seen[name] += 1
                self.assertEqual(r.header("X-Test-Split"),
                                 "weighted" if name == "v2" else "default")
        # 30% of 400 is 120 (sd ~9): a generous band, and both sides get traffic.
        self.assertGreater(seen["v1"], 0, seen)
        self.assertGreater(seen["v2"], 0, seen)
        self.assertTrue(60 <= seen["v2"] <= 180, seen)

    def test_access_log_names_the_chosen_upstream(self):
        _, rid = self.get("/split", {"X-Canary": "1"})
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec)
        self.assertEqual(rec.get("upstream"), "svc-v2", rec)

    def test_sticky_by_header(self):
        sides = {}
        with self.gh.raw() as c:
            for u in range(40):
                user = "user-%d" % u
                got = {self.get("/sticky", {"X-User": user}, client=c)[0].json()["name"]
                       for _ in range(5)}
                self.assertEqual(len(got), 1, "%s moved between %s" % (user, got))
                sides[user] = got.pop()
        self.assertIn("v1", sides.values())
        self.assertIn("v2", sides.values())

    # ------------------------------------------------------------ config errors

    def check_fails(self, policy_yaml, field, words):
        text = CONFIG.format(v1="127.0.0.1:1", v2="127.0.0.1:2").replace(
            "routes:\n", "routes:\n  - name: bad\n    upstream: svc\n    match: {paths: [\"/bad\"]}\n"
            "    policies:\n      - " + policy_yaml + "\n", 1)
        rc, out, err, path = run_check(text)
        output = out + err
        self.assertNotEqual(rc, 0, output)
        self.assertIn(field, output)
        for w in words:
            self.assertIn(w, output)

    def test_check_rejects_framing_header(self):
        self.check_fails("{name: request-transformer, config: {headers: {add: {Content-Length: '1'}}}}",
                         "routes[0].policies[0].config.headers.add.Content-Length",
                         ["framing header"])

    def test_check_rejects_unknown_split_upstream(self):
        self.check_fails("{name: traffic-split, config: {weighted: [{upstream: svc-v3, weight: 10}]}}",
                         "routes[0].policies[0].config.weighted[0].upstream", ["svc-v3"])

    def test_check_rejects_weights_over_100(self):
        self.check_fails("{name: traffic-split, config: {weighted: [{upstream: svc-v2, weight: 101}]}}",
                         "routes[0].policies[0].config.weighted[0].weight", ["percentage"])


if __name__ == "__main__":
    unittest.main()
