#!/usr/bin/env python3
"""MCP authorization (the gateway as OAuth 2.1 resource server on an MCP route):
RFC 9728 protected-resource metadata at the path-inserted well-known URL, 401
with `WWW-Authenticate: Bearer resource_metadata=...`, the RFC 8707 audience
and required scopes on JWTs the route's jwt policy verified, no token
passthrough, and the upstream's own credential from the config (env). The
official SDK client does the whole flow (ClientCredentialsProvider) against a
small authorization server written here."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request, wait_until  # noqa: E402
from test_mcp import HAVE_SDK, INIT, JSON_HEADERS, NODE_DIR, Fixture  # noqa: E402

KEY = "an HS256 key of the test IdP, 32+ bytes long"
CLIENT_ID, CLIENT_SECRET = "agent-1", "agent-1-secret"
UPSTREAM_KEY = "the gateway's own key for the fixture"

CONFIG = """\
mcp:
  servers:
    - name: fixture
      url: "http://127.0.0.1:{fixture}/mcp"
      headers: {{x-upstream-key: "${{FIXTURE_KEY}}"}}
routes:
  - name: oauth
    match: {{paths: ["/mcp"]}}
    mcp:
      servers: [fixture]
      authorization:
        resource: "http://127.0.0.1:{port}/mcp"
        authorization_servers: ["{issuer}"]
        scopes: ["mcp:tools"]
        scopes_supported: ["mcp:tools", "mcp:admin"]
    policies:
      - name: jwt
        config:
          issuers: ["{issuer}"]
          keys: [{{kid: idp, algorithm: HS256, secret: "{key}"}}]
"""


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims, key=KEY):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "idp"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(key.encode(), ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64(sig))


class AuthServer:
    """An OAuth 2.1 authorization server with only what the flow needs: RFC 8414
    metadata and a token endpoint for client_credentials, which puts the RFC 8707
    `resource` the client asked for into the token's `aud`."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.startswith("/.well-known/oauth-authorization-server"):
                    return self.reply(200, {
                        "issuer": outer.issuer, "token_endpoint": outer.issuer + "/token",
                        "authorization_endpoint": outer.issuer + "/authorize",
                        "response_types_supported": ["code"],
                        "grant_types_supported": ["client_credentials"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"]})
                self.reply(404, {"error": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                outer.requests.append(form)
                basic = base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
                if self.headers.get("authorization") != "Basic " + basic:
                    return self.reply(401, {"error": "invalid_client"})
                now = int(time.time())
                token = sign({"iss": outer.issuer, "sub": CLIENT_ID, "aud": form.get("resource"),
                              "scope": form.get("scope", ""), "iat": now, "exp": now + 300})
                self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpAuthorization(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.auth = AuthServer()
        cls.addClassCleanup(cls.auth.stop)
        cfg = dict(fixture=cls.fixture.port, issuer=cls.auth.issuer, key=KEY)
        # The resource names the gateway's own URL, known once it listens:
        # start with a placeholder, then reload with the real port.
        cls.gh = Gatehouse(CONFIG.format(port=1, **cfg), env={"FIXTURE_KEY": UPSTREAM_KEY})
        cls.addClassCleanup(cls.gh.cleanup)
        port = cls.gh.proxy_port
        cls.resource = "http://127.0.0.1:%d/mcp" % port
        cls.gh.write_config(CONFIG.format(port=port, **cfg))
        ok = wait_until(lambda: cls.metadata().get("resource") == cls.resource, 15)
        assert ok, cls.gh.stderr_text()

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    @classmethod
    def metadata(cls, path="/.well-known/oauth-protected-resource/mcp"):
        r = http_request(cls.gh.proxy_port, "GET", path)
        return r.json() if r.status == 200 else {}

    def claims(self, **over):
        now = int(time.time())
        claims = {"iss": self.auth.issuer, "sub": "someone", "aud": self.resource,
                  "scope": "mcp:tools", "iat": now, "exp": now + 300}
        claims.update(over)
        return claims

    def post(self, body=INIT, token=None):
        h = dict(JSON_HEADERS)
        if token:
            h["authorization"] = "Bearer " + token
        return http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=body)

    def challenge(self, r):
        v = r.header("www-authenticate") or ""
        self.assertTrue(v.startswith("Bearer "), v)
        return v

    # -------------------------------------------------------------- tests

    def test_metadata_document(self):
        r = http_request(self.gh.proxy_port, "GET", "/.well-known/oauth-protected-resource/mcp")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("application/json"))
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(r.json(), {"resource": self.resource,
                                    "authorization_servers": [self.auth.issuer],
                                    "bearer_methods_supported": ["header"],
                                    "scopes_supported": ["mcp:tools", "mcp:admin"]})
        # The bare well-known path (clients' fallback) serves the same.
        self.assertEqual(self.metadata("/.well-known/oauth-protected-resource"), r.json())
        # Not a route, so no policy applies; other paths below it are not ours.
        self.assertEqual(http_request(self.gh.proxy_port, "GET",
                                      "/.well-known/oauth-protected-resource/other").status, 404)
        r = http_request(self.gh.proxy_port, "POST", "/.well-known/oauth-protected-resource/mcp",
                         body="{}")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")

    def test_no_token_is_401_pointing_at_the_metadata(self):
        r = self.post()
        self.assertEqual(r.status, 401)
        v = self.challenge(r)
        meta = "http://127.0.0.1:%d/.well-known/oauth-protected-resource/mcp" % self.gh.proxy_port
        self.assertIn('resource_metadata="%s"' % meta, v)
        self.assertIn('scope="mcp:tools"', v)
        self.assertNotIn("error=", v)  # RFC 6750 3.1: no error without credentials
        # A bad token: the jwt policy's invalid_token, with resource_metadata too.
        r = self.post(token=sign({"aud": self.resource}, key="another key of 32 bytes or more!!"))
        self.assertEqual(r.status, 401)
        v = self.challenge(r)
        self.assertIn('error="invalid_token"', v)
        self.assertIn('resource_metadata="%s"' % meta, v)

    def test_audience_must_be_this_resource(self):
        no_aud = self.claims()
        del no_aud["aud"]
        for claims in (self.claims(aud="http://127.0.0.1:1/other"),
                       self.claims(aud=["api://orders"]), no_aud):
            r = self.post(token=sign(claims))
            self.assertEqual(r.status, 401, (claims, r.body))
            v = self.challenge(r)
            self.assertIn('error="invalid_token"', v)
            self.assertIn("audience", v)
            self.assertIn("resource_metadata=", v)
        # Several audiences, one of them this resource: accepted.
        r = self.post(token=sign(self.claims(aud=["api://orders", self.resource])))
        self.assertEqual(r.status, 200, r.body)

    def test_missing_scope_is_403(self):
        r = self.post(token=sign(self.claims(scope="openid")))
        self.assertEqual(r.status, 403, r.body)
        v = self.challenge(r)
        self.assertIn('error="insufficient_scope"', v)
        self.assertIn('scope="mcp:tools"', v)
        self.assertIn("resource_metadata=", v)
        # `scp` as an array (some issuers) works as well as `scope`.
        claims = self.claims(scp=["mcp:tools"])
        del claims["scope"]
        self.assertEqual(self.post(token=sign(claims)).status, 200)

    def test_sdk_client_does_the_oauth_flow(self):
        p = subprocess.run(["node", os.path.join(NODE_DIR, "mcp_oauth_client.mjs"),
                            self.resource, self.auth.issuer, CLIENT_ID, CLIENT_SECRET, "mcp:tools"],
                           capture_output=True, text=True, timeout=90)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, (p.stdout, p.stderr))
        out = json.loads(lines[-1])
        self.assertNotIn("error", out, out)
        self.assertIn("whoami", out["tools"])
        # The client asked its token for this resource (RFC 8707).
        self.assertEqual(self.auth.requests[-1].get("resource"), self.resource)
        self.assertEqual(self.auth.requests[-1].get("grant_type"), "client_credentials")
        # The upstream got the gateway's credential, not the client's token.
        self.assertEqual(out["whoami"], {"authorization": None, "upstreamKey": UPSTREAM_KEY})


if __name__ == "__main__":
    unittest.main()
