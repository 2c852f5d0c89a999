#!/usr/bin/env python3
"""jwt with keys from a JWKS URL (`jwks_uri`): fetched before the first
request, fetched again when a token names a kid the set lacks (rotation), over
http and over https verified against a CA file; a bad URL is a config error."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, run_check, to_yaml, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(secret, kid, claims=None):
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    body = {"sub": "someone", "exp": int(time.time()) + 600}
    body.update(claims or {})
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def jwks(*keys):
    return {"keys": [{"kty": "oct", "kid": kid, "alg": "HS256", "k": b64url(secret)}
                     for kid, secret in keys]}


class JwksServer:
    """Serves the current JWKS at /jwks; counts fetches."""

    def __init__(self, tls_cert=None, tls_key=None):
        self.doc = jwks()
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                body = json.dumps(outer.doc).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert, tls_key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


KEY_A = b"first-secret-of-at-least-32-bytes!!"
KEY_B = b"second-secret-of-at-least-32-bytes!"


def config(upstream, uri, extra=None):
    jwt_cfg = {"jwks_uri": uri}
    jwt_cfg.update(extra or {})
    return {
        "upstreams": [{"name": "svc", "targets": [{"address": upstream, "weight": 1}]}],
        "routes": [{"name": "api", "match": {"paths": ["/echo"]}, "upstream": "svc",
                    "policies": [{"name": "jwt", "config": jwt_cfg}]}],
    }


def bearer(token):
    return {"Authorization": "Bearer " + token}


class JwksOverHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("J")
        cls.addClassCleanup(cls.up.stop)
        cls.idp = JwksServer()
        cls.addClassCleanup(cls.idp.stop)
        cls.idp.doc = jwks(("a", KEY_A))
        cls.gh = Gatehouse(config(cls.up.address, "http://127.0.0.1:%d/jwks" % cls.idp.port))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_1_keys_are_there_for_the_first_request(self):
        r = self.gh.request("GET", "/echo", headers=bearer(hs256_token(KEY_A, "a")))
        self.assertEqual(r.status, 200, r)
        check_problem(self, self.gh.request("GET", "/echo",
                                            headers=bearer(hs256_token(KEY_B, "a"))), 401)

    def test_2_rotation_is_picked_up_on_an_unknown_kid(self):
        self.idp.doc = jwks(("b", KEY_B))
        token_b = hs256_token(KEY_B, "b")
        started = time.monotonic()
        # The first request with kid b asks for a refetch (at most one per
        # 5 s); within that, b becomes valid.
        self.assertTrue(wait_until(lambda: self.gh.request(
            "GET", "/echo", headers=bearer(token_b)).status == 200, 15),
            "the rotated key never became valid")
        print("rotation picked up in %.2f s" % (time.monotonic() - started), file=sys.stderr)
        # a left the set with the rotation.
        r = self.gh.request("GET", "/echo", headers=bearer(hs256_token(KEY_A, "a")))
        check_problem(self, r, 401)
        self.assertLessEqual(self.idp.hits, 5, "the issuer was fetched too often")


class JwksOverHttps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gatehouse-jwks-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.cert = os.path.join(cls.dir, "idp.crt")
        cls.key = os.path.join(cls.dir, "idp.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", cls.key, "-out", cls.cert, "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        cls.up = Upstream("K")
        cls.addClassCleanup(cls.up.stop)
        cls.idp = JwksServer(tls_cert=cls.cert, tls_key=cls.key)
        cls.addClassCleanup(cls.idp.stop)
        cls.idp.doc = jwks(("a", KEY_A))
        cls.uri = "https://localhost:%d/jwks" % cls.idp.port

    def test_verified_against_the_ca_file(self):
        gh = Gatehouse(config(self.up.address, self.uri, {"jwks_ca_file": self.cert}))
        try:
            r = gh.request("GET", "/echo", headers=bearer(hs256_token(KEY_A, "a")))
            self.assertEqual(r.status, 200, r)
        finally:
            gh.stop_and_check(self)

    def test_untrusted_certificate_gives_no_keys(self):
        gh = Gatehouse(config(self.up.address, self.uri, {"jwks_timeout": "2s"}))
        try:
            r = gh.request("GET", "/echo", headers=bearer(hs256_token(KEY_A, "a")))
            check_problem(self, r, 401)
            self.assertTrue(wait_until(lambda: any(
                rec.get("msg") == "jwks fetch failed" for rec in gh.log_records()), 10),
                "the failed fetch was not logged")
        finally:
            gh.stop_and_check(self)


class JwksConfig(unittest.TestCase):
    def test_bad_uri_is_a_config_error(self):
        code, out, err, _ = run_check(to_yaml(config("127.0.0.1:1", "ftp://example.com/jwks")))
        self.assertNotEqual(code, 0)
        self.assertIn("routes[0].policies[0].config.jwks_uri", out + err)

    def test_refresh_without_uri_is_a_config_error(self):
        cfg = config("127.0.0.1:1", "http://127.0.0.1:1/jwks")
        del cfg["routes"][0]["policies"][0]["config"]["jwks_uri"]
        cfg["routes"][0]["policies"][0]["config"]["jwks_refresh"] = "1m"
        code, out, err, _ = run_check(to_yaml(cfg))
        self.assertNotEqual(code, 0)
        self.assertIn("jwks_refresh needs jwks_uri", out + err)


if __name__ == "__main__":
    unittest.main()
