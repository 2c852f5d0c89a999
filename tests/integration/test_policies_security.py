#!/usr/bin/env python3
"""Security policies through the real binary: cors (preflights answered at the
gateway, grants on actual responses), ip-restriction (allow, deny, trusted
proxies), acl (key-auth consumers and groups, identity headers upstream),
request-size-limit (413/414/431 before the upstream), bot-detection,
uri-block (global) and allowed-methods; plus config errors from `check`."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, build_request, check_problem, run_check  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
upstreams:
  - name: svc
    targets: [{{address: "{a}", weight: 1}}]
consumers:
  - name: alice
    groups: [gold, staff]
    credentials: [{{type: key-auth, key: "alice-key"}}]
  - name: bob
    groups: [silver]
    credentials: [{{type: key-auth, key: "bob-key"}}]
  - name: mallory
    groups: [gold, banned]
    credentials: [{{type: key-auth, key: "mallory-key"}}]
policies:
  - name: uri-block
    config: {{patterns: ["/\\\\.git", "~^/internal"], match_query: true}}
routes:
  - name: cors
    upstream: svc
    match: {{paths: ["/cors"]}}
    policies:
      - name: cors
        config:
          origins: ["https://app.example.com", "*.example.com"]
          methods: [GET, POST]
          headers: [Content-Type, X-Request-Id]
          expose_headers: [X-Upstream-Name]
          credentials: true
          max_age: 600s
  - name: cors-auth
    upstream: svc
    match: {{paths: ["/cors-auth"]}}
    policies:
      - {{name: key-auth}}
      - {{name: cors, config: {{origins: ["https://app.example.com"]}}}}
  - name: ip-allow
    upstream: svc
    match: {{paths: ["/ip-allow"]}}
    policies: [{{name: ip-restriction, config: {{allow: ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]}}}}]
  - name: ip-deny
    upstream: svc
    match: {{paths: ["/ip-deny"]}}
    policies: [{{name: ip-restriction, config: {{allow: ["127.0.0.0/8"], deny: ["127.0.0.1"]}}}}]
  - name: ip-proxy
    upstream: svc
    match: {{paths: ["/ip-proxy"]}}
    policies:
      - name: ip-restriction
        config: {{allow: ["192.0.2.0/24"], trusted_proxies: ["127.0.0.1", "10.1.0.0/16"], status: 404}}
  - name: acl
    upstream: svc
    match: {{paths: ["/acl"]}}
    policies:
      - {{name: acl, config: {{allow: [gold], deny: [banned]}}}}
      - {{name: key-auth}}
  - name: acl-quiet
    upstream: svc
    match: {{paths: ["/acl-quiet"]}}
    policies:
      - {{name: key-auth}}
      - {{name: acl, config: {{deny: [banned], forward_consumer_headers: false}}}}
  - name: acl-no-auth
    upstream: svc
    match: {{paths: ["/acl-no-auth"]}}
    policies: [{{name: acl, config: {{allow: [gold]}}}}]
  - name: size
    upstream: svc
    match: {{paths: ["/size"]}}
    policies:
      - name: request-size-limit
        config: {{max_body: 1k, max_headers_bytes: 2k, max_header_count: 20, max_uri: 256}}
  - name: bots
    upstream: svc
    match: {{paths: ["/bots"]}}
    policies:
      - name: bot-detection
        config: {{deny: ["~(?i)curl|python-requests"], allow: ["^curl/.*internal-probe"]}}
  - name: methods
    upstream: svc
    match: {{paths: ["/methods"]}}
    policies: [{{name: allowed-methods, config: {{methods: [GET, POST]}}}}]
  - name: files
    upstream: svc
    match: {{paths: ["/files", "/internal"]}}
"""

ORIGIN = "https://app.example.com"


class PoliciesSecurity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(CONFIG.format(a=cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def req(self, method, path, headers=None, body=None):
        return self.gh.request(method, path, headers=headers, body=body)

    def echo_headers(self, resp, name):
        return [v for k, v in resp.json()["headers"] if k.lower() == name.lower()]

    def assert_not_proxied(self, fn):
        """Runs fn() and asserts the upstream saw no request meanwhile."""
        before = self.up.count()
        out = fn()
        self.assertEqual(self.up.count(), before, "the request reached the upstream")
        return out

    # ------------------------------------------------------------------ cors

    def test_cors_preflight_answered_at_gateway(self):
        r = self.assert_not_proxied(lambda: self.req("OPTIONS", "/cors", {
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-request-id"}))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ORIGIN)
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET, POST")
        self.assertEqual(r.header("Access-Control-Allow-Headers"), "Content-Type, X-Request-Id")
        self.assertEqual(r.header("Access-Control-Max-Age"), "600")
        self.assertIn("Origin", r.header("Vary", ""))

    def test_cors_preflight_wildcard_subdomain(self):
        r = self.assert_not_proxied(lambda: self.req("OPTIONS", "/cors", {
            "Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"}))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://shop.example.com")

    def test_cors_preflight_rejections(self):
        cases = [({"Origin": "https://evil.test", "Access-Control-Request-Method": "GET"}, "origin"),
                 ({"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}, "method"),
                 ({"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                   "Access-Control-Request-Headers": "x-secret"}, "x-secret")]
        for headers, word in cases:
            with self.subTest(word=word):
                r = self.assert_not_proxied(lambda: self.req("OPTIONS", "/cors", headers))
                check_problem(self, r, 403, "cors_rejected")
                self.assertIn(word, r.json()["detail"])
                self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_cors_actual_request_gets_grant(self):
        r = self.req("GET", "/cors", {"Origin": ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ORIGIN)
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertEqual(r.header("Access-Control-Expose-Headers"), "X-Upstream-Name")
        self.assertEqual(r.header("Vary"), "Origin")
        self.assertEqual(r.header("X-Upstream-Name"), "A")

    def test_cors_disallowed_origin_gets_no_grant(self):
        r = self.req("GET", "/cors", {"Origin": "https://evil.test"})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        self.assertEqual(r.header("Vary"), "Origin")

    def test_cors_headers_on_gateway_errors(self):
        # key-auth refuses, but the page can still read the 401.
        r = self.req("GET", "/cors-auth", {"Origin": ORIGIN})
        check_problem(self, r, 401, "missing_credentials")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ORIGIN)
        # A preflight carries no credentials and is answered before key-auth.
        r = self.req("OPTIONS", "/cors-auth", {"Origin": ORIGIN,
                                               "Access-Control-Request-Method": "GET"})
        self.assertEqual(r.status, 204, r)

    # ------------------------------------------------------- ip-restriction

    def test_ip_allow(self):
        r = self.req("GET", "/ip-allow")
        self.assertEqual(r.status, 200, r)

    def test_ip_deny_wins(self):
        r = self.assert_not_proxied(lambda: self.req("GET", "/ip-deny"))
        check_problem(self, r, 403, "ip_forbidden")
        self.assertIn("127.0.0.1", r.json()["detail"])

    def test_ip_trusted_proxy(self):
        r = self.req("GET", "/ip-proxy", {"X-Forwarded-For": "192.0.2.7"})
        self.assertEqual(r.status, 200, r)
        # Right-most non-trusted entry decides; what the client wrote on the left does not.
        r = self.req("GET", "/ip-proxy", {"X-Forwarded-For": "192.0.2.7, 198.51.100.1"})
        check_problem(self, r, 404, "ip_forbidden")
        r = self.req("GET", "/ip-proxy", {"X-Forwarded-For": "198.51.100.1, 192.0.2.7, 10.1.2.3"})
        self.assertEqual(r.status, 200, r)
        r = self.req("GET", "/ip-proxy")  # no header: the proxy itself is the client
        check_problem(self, r, 404, "ip_forbidden")

    # ------------------------------------------------------------------- acl

    def test_acl_allowed_consumer_and_identity_headers(self):
        r = self.req("GET", "/acl", {"apikey": "alice-key", "X-Consumer-Groups": "admins",
                                     "X-Consumer-Username": "root"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.echo_headers(r, "X-Consumer-Username"), ["alice"])
        self.assertEqual(self.echo_headers(r, "X-Consumer-Groups"), ["gold, staff"])
        self.assertEqual(self.echo_headers(r, "apikey"), [])  # key-auth hid the key

    def test_acl_refusals(self):
        r = self.assert_not_proxied(lambda: self.req("GET", "/acl", {"apikey": "bob-key"}))
        check_problem(self, r, 403, "acl_forbidden")
        self.assertIn("bob", r.json()["detail"])
        r = self.assert_not_proxied(lambda: self.req("GET", "/acl", {"apikey": "mallory-key"}))
        check_problem(self, r, 403, "acl_forbidden")  # deny wins over allow
        # Authentication (phase 20) runs before acl (30) whatever the list order.
        r = self.req("GET", "/acl")
        check_problem(self, r, 401, "missing_credentials")

    def test_acl_without_authentication(self):
        r = self.req("GET", "/acl-no-auth")
        check_problem(self, r, 403, "acl_forbidden")
        self.assertIn("no consumer", r.json()["detail"])

    def test_acl_forwarding_off_still_strips_spoofed_headers(self):
        r = self.req("GET", "/acl-quiet", {"apikey": "bob-key", "X-Consumer-Groups": "gold"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.echo_headers(r, "X-Consumer-Groups"), [])
        self.assertEqual(self.echo_headers(r, "X-Consumer-Username"), [])

    # ---------------------------------------------------- request-size-limit

    def test_size_small_body_passes(self):
        r = self.req("POST", "/size", body=b"x" * 1024)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body_length"], 1024)

    def test_size_content_length_refused_before_upstream(self):
        before = self.up.count()
        with self.gh.raw() as c:
            # Only the head is sent: the answer must not wait for the body.
            c.send(build_request("POST", "/size", {"Content-Length": "1000000"}))
            r = c.read_response()
            check_problem(self, r, 413, "body_too_large")
            self.assertTrue(c.is_closed())
        self.assertEqual(self.up.count(), before)

    def test_size_expect_continue_gets_413(self):
        with self.gh.raw() as c:
            c.send(build_request("POST", "/size", {"Content-Length": "5000",
                                                   "Expect": "100-continue"}))
            r = c.read_response()
            self.assertEqual(r.interim, [])
            check_problem(self, r, 413, "body_too_large")

    def test_size_chunked_enforced_while_streaming(self):
        with self.gh.raw() as c:
            c.send(build_request("POST", "/size", {"Transfer-Encoding": "chunked"}))
            c.send(b"400\r\n" + b"a" * 1024 + b"\r\n")
            c.send(b"10\r\n" + b"b" * 16 + b"\r\n0\r\n\r\n")
            r = c.read_response()
            check_problem(self, r, 413, "body_too_large")
        with self.gh.raw() as c:
            c.send(build_request("POST", "/size", {"Transfer-Encoding": "chunked"}))
            c.send(b"200\r\n" + b"a" * 512 + b"\r\n0\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["body_length"], 512)

    def test_size_uri_and_headers(self):
        r = self.assert_not_proxied(lambda: self.req("GET", "/size?q=" + "x" * 300))
        check_problem(self, r, 414, "uri_too_long")
        r = self.req("GET", "/size", {"X-H%d" % i: "v" for i in range(25)})
        check_problem(self, r, 431, "too_many_headers")
        r = self.req("GET", "/size", {"X-Big": "v" * 3000})
        check_problem(self, r, 431, "headers_too_large")

    # --------------------------------------------------------- bot-detection

    def test_bots(self):
        for ua in ("curl/8.5.0", "python-requests/2.31.0", "sqlmap/1.7.2#stable"):
            with self.subTest(ua=ua):
                r = self.assert_not_proxied(lambda: self.req("GET", "/bots", {"User-Agent": ua}))
                check_problem(self, r, 403, "bot_forbidden")
        for ua in ("Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", "curl/8.5.0 internal-probe"):
            with self.subTest(ua=ua):
                self.assertEqual(self.req("GET", "/bots", {"User-Agent": ua}).status, 200)
        self.assertEqual(self.req("GET", "/bots").status, 200)  # no User-Agent at all

    # ------------------------------------------------------------- uri-block

    def test_uri_block_global(self):
        for path in ("/files/.git/config", "/files/a/../.git/HEAD", "/files/%2Egit/HEAD",
                     "/internal/metrics", "/files/x?path=/.git", "/cors/.git"):
            with self.subTest(path=path):
                r = self.assert_not_proxied(lambda: self.req("GET", path))
                check_problem(self, r, 403, "uri_blocked")
                self.assertNotIn("git", r.json()["detail"])
        self.assertEqual(self.req("GET", "/files/readme.txt").status, 200)
        self.assertEqual(self.req("GET", "/files/internal").status, 200)

    # -------------------------------------------------------- allowed-methods

    def test_allowed_methods(self):
        r = self.assert_not_proxied(lambda: self.req("DELETE", "/methods"))
        check_problem(self, r, 405, "method_not_allowed")
        self.assertEqual(r.header("Allow"), "GET, HEAD, POST")
        self.assertEqual(self.req("GET", "/methods").status, 200)
        self.assertEqual(self.req("HEAD", "/methods").status, 200)
        self.assertEqual(self.req("POST", "/methods", body=b"{}").status, 200)


class PoliciesSecurityConfig(unittest.TestCase):
    """`gatehouse check` reports bad policy configs with their field path."""

    BASE = """\
upstreams:
  - name: svc
    targets: [{address: "127.0.0.1:1", weight: 1}]
routes:
  - name: r
    upstream: svc
    match: {paths: ["/"]}
    policies:
      - %s
"""

    def check_fails(self, policy_yaml, field, words):
        rc, out, err, _ = run_check(self.BASE % policy_yaml)
        output = out + err
        self.assertNotEqual(rc, 0, output)
        self.assertIn(field, output)
        for w in words:
            self.assertIn(w, output)

    def test_bad_cidr(self):
        self.check_fails('{name: ip-restriction, config: {allow: ["10.0.0.0/8", "10.1.0.0/8"]}}',
                         "routes[0].policies[0].config.allow[1]",
                         ["has bits set", "did you mean 10.0.0.0/8?"])

    def test_invalid_regex(self):
        self.check_fails('{name: uri-block, config: {patterns: ["~^/ok", "~(unclosed"]}}',
                         "routes[0].policies[0].config.patterns[1]", ["not a valid RE2 regex", "missing )"])
        self.check_fails('{name: bot-detection, config: {deny: ["a["]}}',
                         "routes[0].policies[0].config.deny[0]", ["not a valid RE2 regex"])

    def test_cors_star_with_credentials(self):
        self.check_fails('{name: cors, config: {origins: ["*"], credentials: true}}',
                         "routes[0].policies[0].config.origins", ["credentials"])

    def test_unknown_field(self):
        self.check_fails("{name: acl, config: {allow: [gold], hide_groups_header: true}}",
                         "routes[0].policies[0].config.hide_groups_header", ["unknown field"])
        self.check_fails("{name: request-size-limit, config: {max_bdy: 1m}}",
                         "routes[0].policies[0].config.max_bdy", ["unknown field"])

    def test_good_config_passes(self):
        rc, out, err, _ = run_check(self.BASE % (
            '{name: allowed-methods, config: {methods: [GET]}}\n'
            '      - {name: cors, config: {origins: ["*.example.com"], credentials: true}}'))
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main()
