"""MCP servers over https (streamable HTTP): the gateway verifies the server's
certificate against the system trust store (SSL_CERT_FILE points it at this
test's CA), checks the URL's host name and sends it as SNI, and keeps the
upstream connections alive between messages. The upstream is our SDK fixture
(tests/node/mcp_fixture_server.mjs) serving HTTPS with a certificate for
`localhost` only."""
import json
import os
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Gatehouse  # noqa: E402
from test_mcp import HAVE_SDK, NODE_DIR, node_client  # noqa: E402
from test_tls import OPENSSL, Pki  # noqa: E402

CONFIG = """\
mcp:
  servers:
    - {{name: good, transport: streamable-http, url: "https://localhost:{port}/mcp"}}
    - {{name: wrongname, transport: streamable-http, url: "https://127.0.0.1:{port}/mcp", timeout: 5s}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [good, wrongname], prefix: never}}
"""


class TlsFixture:
    def __init__(self, crt, key):
        env = dict(os.environ, TLS_CERT=crt, TLS_KEY=key)
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "mcp_fixture_server.mjs"), "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=env)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def stats(self, ca):
        import http.client
        ctx = ssl.create_default_context(cafile=ca)
        c = http.client.HTTPSConnection("localhost", self.port, context=ctx, timeout=10)
        c.request("GET", "/stats")
        body = c.getresponse().read()
        c.close()
        return json.loads(body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@unittest.skipUnless(HAVE_SDK and OPENSSL, "needs the MCP SDK (scripts/bootstrap) and openssl")
class McpTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gatehouse-mcp-tls-")
        cls.pki = Pki(cls.dir, "mcp")
        crt, key = cls.pki.issue("fixture", "/CN=localhost", dns=["localhost"])
        cls.fixture = TlsFixture(crt, key)
        cls.addClassCleanup(cls.fixture.stop)
        cls.config = CONFIG.format(port=cls.fixture.port)
        cls.gh = Gatehouse(cls.config, env={"SSL_CERT_FILE": cls.pki.ca_crt})
        cls.addClassCleanup(cls.gh.cleanup)
        cls.url = "http://127.0.0.1:%d/mcp" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_tools_of_a_verified_server(self):
        out = node_client(self.url, "list")
        self.assertNotIn("error", out, out)
        self.assertIn("echo", out["tools"]["names"])
        # The server behind a URL its certificate does not name is reported, not trusted.
        unavailable = {u["server"] for u in out["tools"]["meta"]["io.gatehouse/unavailable"]}
        self.assertEqual(unavailable, {"wrongname"})
        self.gh.wait_log(lambda r: "wrongname" in json.dumps(r) and
                         "certificate verify failed" in json.dumps(r))

    def test_calls_reuse_the_tls_connection(self):
        before = self.fixture.stats(self.pki.ca_crt)["connections"]
        out = node_client(self.url, "call", "", "echo", '{"message": "over tls"}')
        self.assertNotIn("error", out, out)
        self.assertEqual(out["result"]["content"][0]["text"], "fixture echo: over tls")
        out = node_client(self.url, "call", "", "weather", '{"city": "Bergen"}')
        self.assertEqual(out["result"]["content"][0]["text"], "sunny in Bergen")
        # Two client sessions: initialize, notifications/initialized, the lists,
        # the call and DELETE each, about a dozen upstream messages over one or
        # two kept-alive TLS connections (not one handshake per message).
        opened = self.fixture.stats(self.pki.ca_crt)["connections"] - before - 1  # minus /stats
        self.assertGreaterEqual(opened, 0)
        self.assertLessEqual(opened, 3, "upstream TLS connections opened for two sessions")


@unittest.skipUnless(HAVE_SDK and OPENSSL, "needs the MCP SDK (scripts/bootstrap) and openssl")
class McpTlsUntrusted(unittest.TestCase):
    def test_a_certificate_the_trust_store_does_not_know_is_refused(self):
        d = tempfile.mkdtemp(prefix="gatehouse-mcp-tls-")
        pki = Pki(d, "other")
        crt, key = pki.issue("fixture", "/CN=localhost", dns=["localhost"])
        fixture = TlsFixture(crt, key)
        self.addCleanup(fixture.stop)
        # No SSL_CERT_FILE: the system store, which has never heard of this CA.
        gh = Gatehouse(CONFIG.format(port=fixture.port))
        self.addCleanup(gh.cleanup)
        out = node_client("http://127.0.0.1:%d/mcp" % gh.proxy_port, "list")
        self.assertNotIn("error", out, out)
        self.assertEqual(out["tools"]["names"], [])
        unavailable = {u["server"] for u in out["tools"]["meta"]["io.gatehouse/unavailable"]}
        self.assertEqual(unavailable, {"good", "wrongname"})
        gh.wait_log(lambda r: "certificate verify failed" in json.dumps(r))
        self.assertEqual(fixture.stats(pki.ca_crt)["sessions"], 0)
        gh.stop_and_check()


if __name__ == "__main__":
    unittest.main()
