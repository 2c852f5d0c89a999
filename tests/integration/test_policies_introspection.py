#!/usr/bin/env python3
"""oauth2-introspection (RFC 7662) through the real binary, against an
introspection endpoint written here: active and inactive tokens, the client
credentials the gateway sends, scopes, consumer mapping, caching, a token that
never reaches the upstream, and a down endpoint (503)."""

import base64
import http.server
import json
import os
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, free_port  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKENS = {
    "tok-alice": {"active": True, "client_id": "alice", "scope": "read write", "sub": "u1"},
    "tok-reader": {"active": True, "client_id": "alice", "scope": "read", "sub": "u2"},
    "tok-stranger": {"active": True, "client_id": "mallory", "scope": "read"},
    "tok-dead": {"active": False},
    "tok-expired": {"active": True, "client_id": "alice", "scope": "read", "exp": 1000},
}


class IntrospectionServer:
    def __init__(self):
        self.calls = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                outer.calls.append({"auth": self.headers.get("Authorization"),
                                    "type": self.headers.get("Content-Type"), "form": form})
                expected = "Basic " + base64.b64encode(b"gateway:s3cret%21").decode()
                if self.headers.get("Authorization") != expected:
                    status, doc = 401, {"error": "invalid_client"}
                else:
                    status, doc = 200, TOKENS.get(form.get("token", [""])[0], {"active": False})
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def introspection(endpoint, scopes):
    return {"name": "oauth2-introspection",
            "config": {"endpoint": endpoint, "client_id": "gateway", "client_secret": "s3cret!",
                       "consumer_claim": "client_id", "required_scopes": scopes,
                       "cache_ttl": "30s"}}


def config(upstream, endpoint):
    return {
        "upstreams": [{"name": "svc", "targets": [{"address": upstream, "weight": 1}]}],
        "consumers": [{"name": "alice"}],
        "routes": [
            {"name": "read", "match": {"paths": ["/echo"]}, "upstream": "svc",
             "policies": [introspection(endpoint, ["read"])]},
            {"name": "write", "match": {"paths": ["/count"]}, "upstream": "svc",
             "policies": [introspection(endpoint, ["write"])]},
        ],
    }


def bearer(token):
    return {"Authorization": "Bearer " + token}


class Introspection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("I")
        cls.addClassCleanup(cls.up.stop)
        cls.idp = IntrospectionServer()
        cls.addClassCleanup(cls.idp.stop)
        cls.gh = Gatehouse(config(cls.up.address,
                                  "http://127.0.0.1:%d/introspect" % cls.idp.port))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_active_token_identifies_the_consumer_and_is_not_forwarded(self):
        r = self.gh.request("GET", "/echo?t=1", headers=bearer("tok-alice"))
        self.assertEqual(r.status, 200, r)
        echoed = json.loads(r.body)
        names = [h[0].lower() for h in echoed.get("headers", [])]
        self.assertNotIn("authorization", names, "the token reached the upstream")
        entry = self.gh.wait_access(lambda e: e.get("path") == "/echo" and e.get("status") == 200)
        self.assertEqual(entry.get("consumer"), "alice")
        call = self.idp.calls[-1]
        self.assertEqual(call["type"], "application/x-www-form-urlencoded")
        self.assertEqual(call["form"]["token_type_hint"], ["access_token"])

    def test_inactive_and_expired_tokens_are_401(self):
        for tok in ("tok-dead", "tok-expired", "never-issued"):
            r = self.gh.request("GET", "/echo", headers=bearer(tok))
            check_problem(self, r, 401)
            self.assertIn('error="invalid_token"', r.header("WWW-Authenticate") or "")

    def test_missing_token_is_401_with_a_challenge(self):
        r = self.gh.request("GET", "/echo")
        check_problem(self, r, 401)
        self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Bearer realm="))

    def test_scope_is_checked_per_route(self):
        self.assertEqual(self.gh.request("GET", "/echo", headers=bearer("tok-reader")).status, 200)
        r = self.gh.request("GET", "/count", headers=bearer("tok-reader"))
        check_problem(self, r, 403)
        self.assertIn('error="insufficient_scope"', r.header("WWW-Authenticate"))
        self.assertEqual(self.gh.request("GET", "/count", headers=bearer("tok-alice")).status,
                         200)

    def test_unknown_consumer_is_401(self):
        check_problem(self, self.gh.request("GET", "/echo", headers=bearer("tok-stranger")), 401)

    def test_answers_are_cached(self):
        before = len(self.idp.calls)
        for _ in range(20):
            r = self.gh.request("GET", "/echo", headers=bearer("tok-alice"))
            self.assertEqual(r.status, 200)
        # One call per worker at most (the cache is per worker), not per request.
        self.assertLessEqual(len(self.idp.calls) - before, 4)


class IntrospectionDown(unittest.TestCase):
    def test_unreachable_endpoint_is_503(self):
        up = Upstream("D")
        self.addCleanup(up.stop)
        gh = Gatehouse(config(up.address, "http://127.0.0.1:%d/introspect" % free_port()))
        try:
            started = time.monotonic()
            r = gh.request("GET", "/echo", headers=bearer("tok-alice"))
            check_problem(self, r, 503, "introspection_unavailable")
            self.assertLess(time.monotonic() - started, 10)
            self.assertEqual(up.count(), 0)
        finally:
            gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
