"""MCP servers over https (streamable HTTP): the gateway verifies the server's
certificate against the system trust store (SSL_CERT_FILE points it at this
test's CA), checks the URL's host name and sends it as SNI, and keeps the
upstream connections alive between messages. The upstream is our SDK fixture
(tests/node/mcp_fixture_server.mjs) serving HTTPS with a certificate for
`localhost` only. A server's own `tls:` block (private CA, mTLS, SNI, verify)
is tested without SSL_CERT_FILE, in file and store mode, and its config
errors through `gatehouse check`."""
import json
import os
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Gatehouse, wait_until  # noqa: E402
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
    def __init__(self, crt, key, client_ca=None, mode=()):
        """client_ca: require a client certificate issued by it (mTLS); mode ("sse",): HTTP+SSE."""
        env = dict(os.environ, TLS_CERT=crt, TLS_KEY=key)
        if client_ca:
            env["TLS_CLIENT_CA"] = client_ca
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "mcp_fixture_server.mjs"), "0"] +
                                     list(mode), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
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
        self.proc.stdout.close()


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


PER_SERVER = """\
mcp:
  servers:
    - {{name: private, url: "https://localhost:{port}/mcp", tls: {{ca_file: "{ca}"}}}}
    - {{name: wrongca, url: "https://localhost:{port}/mcp", timeout: 5s, tls: {{ca_file: "{other_ca}"}}}}
    - {{name: sni, url: "https://127.0.0.1:{port}/mcp", tls: {{sni: localhost, ca_file: "{ca}"}}}}
    - {{name: noverify, url: "https://127.0.0.1:{port}/mcp", tls: {{verify: false}}}}
    - name: mtls
      url: "https://localhost:{mtls_port}/mcp"
      tls: {{ca_file: certs/ca.crt, client_cert: certs/gw.crt, client_key: certs/gw.key}}
    - {{name: mtls-nocert, url: "https://localhost:{mtls_port}/mcp", timeout: 5s, tls: {{ca_file: "{ca}"}}}}
    - {{name: legacy, transport: sse, url: "https://localhost:{sse_port}/sse", tls: {{ca_file: "{ca}"}}}}
routes:
  - {{name: private, match: {{paths: ["/private"]}}, mcp: {{servers: [private, wrongca], prefix: never}}}}
  - {{name: sni, match: {{paths: ["/sni"]}}, mcp: {{servers: [sni]}}}}
  - {{name: noverify, match: {{paths: ["/noverify"]}}, mcp: {{servers: [noverify]}}}}
  - {{name: mtls, match: {{paths: ["/mtls"]}}, mcp: {{servers: [mtls]}}}}
  - {{name: mtls-nocert, match: {{paths: ["/mtls-nocert"]}}, mcp: {{servers: [mtls-nocert]}}}}
  - {{name: legacy, match: {{paths: ["/legacy"]}}, mcp: {{servers: [legacy]}}}}
"""


def unavailable(out):
    return {u["server"]: u for u in out["tools"].get("meta", {}).get("io.gatehouse/unavailable", [])}


class PerServerTlsBase:
    @classmethod
    def make_fixtures(cls):
        cls.dir = tempfile.mkdtemp(prefix="gatehouse-mcp-tls-")
        cls.pki = Pki(cls.dir, "private")
        cls.other = Pki(cls.dir, "other")
        crt, key = cls.pki.issue("server", "/CN=localhost", dns=["localhost"])
        cls.fixture = TlsFixture(crt, key)
        cls.addClassCleanup(cls.fixture.stop)
        cls.mtls_fixture = TlsFixture(crt, key, client_ca=cls.pki.ca_crt)
        cls.addClassCleanup(cls.mtls_fixture.stop)
        cls.sse_fixture = TlsFixture(crt, key, mode=("sse",))
        cls.addClassCleanup(cls.sse_fixture.stop)
        cls.gw_crt, cls.gw_key = cls.pki.issue("gw", "/CN=gatehouse", client=True)

    @classmethod
    def place_certs(cls, folder):
        """The mtls server's files, written relative to the config file's folder."""
        certs = os.path.join(folder, "certs")
        os.makedirs(certs, exist_ok=True)
        for src, name in ((cls.pki.ca_crt, "ca.crt"), (cls.gw_crt, "gw.crt"), (cls.gw_key, "gw.key")):
            with open(src, "rb") as f, open(os.path.join(certs, name), "wb") as g:
                g.write(f.read())

    @classmethod
    def config(cls):
        return PER_SERVER.format(port=cls.fixture.port, mtls_port=cls.mtls_fixture.port,
                                 sse_port=cls.sse_fixture.port, ca=cls.pki.ca_crt,
                                 other_ca=cls.other.ca_crt)

    def list(self, path):
        out = node_client("http://127.0.0.1:%d%s" % (self.gh.proxy_port, path), "list")
        self.assertNotIn("error", out, out)
        return out

    def assert_serves(self, path):
        out = self.list(path)
        self.assertIn("echo", [n.split("_", 1)[-1] for n in out["tools"]["names"]], out)
        self.assertEqual(unavailable(out), {}, out)
        return out

    def test_private_ca_without_ssl_cert_file(self):
        out = self.list("/private")
        self.assertIn("echo", out["tools"]["names"], out)
        down = unavailable(out)
        self.assertEqual(set(down), {"wrongca"}, out)
        # The list itself says why, with OpenSSL's reason.
        self.assertIn("certificate verify failed", down["wrongca"]["error"], down)
        self.assertIn("unable to get local issuer certificate", down["wrongca"]["error"], down)
        call = node_client("http://127.0.0.1:%d/private" % self.gh.proxy_port, "call", "", "echo",
                           '{"message": "private ca"}')
        self.assertEqual(call["result"]["content"][0]["text"], "fixture echo: private ca", call)

    def test_sni_override_names_the_certificate(self):
        # The URL is an IP literal; the certificate names only localhost.
        self.assert_serves("/sni")

    def test_verify_false_accepts_an_unknown_certificate(self):
        self.assert_serves("/noverify")

    def test_mtls_with_and_without_a_client_certificate(self):
        # With the certificate first: its pooled connections must not serve
        # the server without one (another context, so another pool entry).
        out = self.assert_serves("/mtls")
        call = node_client("http://127.0.0.1:%d/mtls" % self.gh.proxy_port, "call", "", "echo",
                           '{"message": "mtls"}')
        self.assertEqual(call["result"]["content"][0]["text"], "fixture echo: mtls", call)
        out = self.list("/mtls-nocert")
        self.assertEqual(out["tools"]["names"], [], out)
        down = unavailable(out)
        self.assertEqual(set(down), {"mtls-nocert"}, out)
        self.assertIn("https://localhost:%d/mcp" % self.mtls_fixture.port, down["mtls-nocert"]["error"])
        self.assertRegex(down["mtls-nocert"]["error"], "certificate|alert|handshake|reset|closed")

    def test_sse_server_with_a_private_ca(self):
        self.assert_serves("/legacy")


@unittest.skipUnless(HAVE_SDK and OPENSSL, "needs the MCP SDK (scripts/bootstrap) and openssl")
class McpPerServerTls(PerServerTlsBase, unittest.TestCase):
    """File mode. No SSL_CERT_FILE: the CAs are made here, so only tls: blocks can trust them."""

    @classmethod
    def setUpClass(cls):
        cls.make_fixtures()
        cls.gh = Gatehouse(cls.config(), start=False)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.place_certs(cls.gh.tmpdir)
        cls.gh.start()

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()


@unittest.skipUnless(HAVE_SDK and OPENSSL, "needs the MCP SDK (scripts/bootstrap) and openssl")
class McpPerServerTlsStoreMode(PerServerTlsBase, unittest.TestCase):
    """Store mode: the servers are the --settings file's mcp section, in a subfolder of the
    gateway's working folder, so its relative tls files are found only from that file's folder.
    The routes come from the admin API."""
    TOKEN = "mcp-tls-admin-token-0123456789"

    @classmethod
    def setUpClass(cls):
        cls.make_fixtures()
        tmp = tempfile.mkdtemp(prefix="gatehouse-it-")
        conf = os.path.join(tmp, "conf")
        cls.place_certs(conf)
        servers = cls.config().split("routes:\n", 1)[0]
        settings = os.path.join(conf, "settings.yaml")
        with open(settings, "w") as f:
            f.write(servers)
        cls.gh = Gatehouse(None, tmpdir=tmp, extra_args=["--settings", settings],
                           env={"GATEHOUSE_ADMIN_TOKEN": cls.TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        routes = [("private", ["private", "wrongca"]), ("sni", ["sni"]), ("noverify", ["noverify"]),
                  ("mtls", ["mtls"]), ("mtls-nocert", ["mtls-nocert"]), ("legacy", ["legacy"])]
        for name, servers in routes:
            r = cls.gh.api("POST", "/api/v1/routes",
                           {"name": name, "match": {"paths": ["/" + name]},
                            "mcp": {"servers": servers, "prefix": "never"}}, cls.TOKEN)
            assert r.status == 201, r.body
        url = "http://127.0.0.1:%d/legacy" % cls.gh.proxy_port
        assert wait_until(lambda: node_client(url, "list").get("tools") is not None, timeout=15)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()


class McpTlsCheck(unittest.TestCase):
    """`gatehouse check` refuses bad tls: blocks with file:line:column and the field path."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gatehouse-mcp-tls-check-")
        cls.pki = Pki(cls.dir, "check") if OPENSSL else None

    def check(self, server_lines):
        path = os.path.join(self.dir, "gatehouse.yaml")
        with open(path, "w") as f:
            f.write("mcp:\n  servers:\n" + server_lines)
        p = subprocess.run([os.environ["GATEHOUSE_BIN"], "check", "-c", path],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        return path, p.stdout + p.stderr

    def test_tls_on_an_http_url(self):
        path, out = self.check('    - name: a\n      url: "http://a.internal/mcp"\n'
                               '      tls: {ca_file: ca.pem}\n')
        self.assertIn(path + ":5:12: mcp.servers[0].tls: tls applies to an https url; this one is http://",
                      out)

    def test_tls_on_stdio_and_openapi_servers(self):
        path, out = self.check('    - {name: a, command: [node, s.js], tls: {verify: false}}\n'
                               '    - {name: b, openapi: {spec: pets}, tls: {verify: false}}\n')
        self.assertIn(path + ":3:45: mcp.servers[0].tls: tls applies to a streamable-http or sse", out)
        self.assertIn(path + ":4:45: mcp.servers[1].tls: tls applies to a streamable-http or sse", out)

    def test_client_cert_without_key_and_the_reverse(self):
        path, out = self.check('    - {name: a, url: "https://a/mcp", tls: {client_cert: c.pem}}\n'
                               '    - {name: b, url: "https://b/mcp", tls: {client_key: k.pem}}\n')
        self.assertIn(path + ":3:44: mcp.servers[0].tls.client_key: client_cert and client_key go together", out)
        self.assertIn(path + ":4:44: mcp.servers[1].tls.client_cert: client_cert and client_key go together", out)

    def test_unreadable_ca_file(self):
        path, out = self.check('    - {name: a, url: "https://a/mcp", tls: {ca_file: missing/ca.pem}}\n')
        # Relative to the config's folder, and named as resolved.
        self.assertIn(path + ":3:44: mcp.servers[0].tls.ca_file: cannot read CA file '%s'"
                      % os.path.join(self.dir, "missing/ca.pem"), out)

    def test_ca_file_without_a_certificate(self):
        junk = os.path.join(self.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        path, out = self.check('    - {name: a, url: "https://a/mcp", tls: {ca_file: junk.pem}}\n')
        self.assertIn(path + ":3:44: mcp.servers[0].tls.ca_file: '%s' holds no PEM CA certificate" % junk,
                      out)

    @unittest.skipUnless(OPENSSL, "needs openssl")
    def test_key_that_does_not_match_the_certificate(self):
        crt, _ = self.pki.issue("one", "/CN=one", client=True)
        _, key = self.pki.issue("two", "/CN=two", client=True)
        path, out = self.check('    - {name: a, url: "https://a/mcp", tls: {client_cert: "%s", client_key: "%s"}}\n'
                               % (crt, key))
        self.assertIn(path + ":3:44: mcp.servers[0].tls.client_key: '%s' does not match '%s'" % (key, crt),
                      out)

    @unittest.skipUnless(OPENSSL, "needs openssl")
    def test_a_key_where_the_certificate_belongs(self):
        crt, key = self.pki.issue("three", "/CN=three", client=True)
        path, out = self.check('    - {name: a, url: "https://a/mcp", tls: {client_cert: "%s", client_key: "%s"}}\n'
                               % (key, key))
        self.assertIn(path + ":3:44: mcp.servers[0].tls.client_cert: '%s' is not a PEM certificate" % key, out)


if __name__ == "__main__":
    unittest.main()
