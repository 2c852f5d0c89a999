#!/usr/bin/env python3
"""Provider connections of the AI gateway: HTTPS to providers (certificate and
host name verified against the system CAs plus the provider's ca_file) and
keep-alive reuse per worker, including providers that drop idle connections.
Plain HTTP from the test to Gatehouse; the fake providers (fake_llm.py) count
the connections they accept."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402

CONFIG = """\
llm:
  providers:
    - {{name: tls-ok, kind: openai, base_url: "{tls_ok}", api_key: "sk-a", ca_file: "{ca}"}}
    - {{name: tls-untrusted, kind: openai, base_url: "{tls_ok}", api_key: "sk-a"}}
    - {{name: tls-wrong-name, kind: openai, base_url: "{tls_ip}", api_key: "sk-a", ca_file: "{ca}"}}
    - {{name: plain, kind: openai, base_url: "{plain}", api_key: "sk-b"}}
    - {{name: dropper, kind: anthropic, base_url: "{dropper}", api_key: "sk-c"}}
  models:
    - {{name: tls, targets: [{{provider: tls-ok, model: gpt-4o-mini}}]}}
    - {{name: untrusted, targets: [{{provider: tls-untrusted, model: gpt-4o-mini}}]}}
    - {{name: wrong-name, targets: [{{provider: tls-wrong-name, model: gpt-4o-mini}}]}}
    - {{name: plain, targets: [{{provider: plain, model: gpt-4o-mini}}]}}
    - {{name: dropper, targets: [{{provider: dropper, model: claude-x}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [tls, untrusted, wrong-name, plain, dropper]}}
"""


def make_ca_and_cert(d):
    """A CA and a server certificate for DNS:localhost only (no IP SAN)."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Gatehouse Test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return (os.path.join(d, "ca.crt"), os.path.join(d, "server.crt"),
            os.path.join(d, "server.key"))


def chat(port, model, stream=False):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if stream:
        body["stream"] = True
    return http_request(port, "POST", "/v1/chat/completions",
                        headers={"Content-Type": "application/json"},
                        body=json.dumps(body).encode())


@unittest.skipUnless(shutil.which("openssl"), "openssl CLI needed")
class ProviderConnections(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gatehouse-llm-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        ca, crt, key = make_ca_and_cert(cls.dir)
        cls.tls = FakeLLM("openai", tls=(crt, key))
        cls.addClassCleanup(cls.tls.stop)
        cls.plain = FakeLLM("openai")
        cls.addClassCleanup(cls.plain.stop)
        cls.dropper = FakeLLM("anthropic")
        cls.dropper.drop_after_response = True
        cls.addClassCleanup(cls.dropper.stop)
        # One worker: every call below shares one provider connection cache.
        cls.gh = Gatehouse(CONFIG.format(tls_ok=cls.tls.base_url, ca=ca,
                                         tls_ip="https://127.0.0.1:%d" % cls.tls.port,
                                         plain=cls.plain.base_url, dropper=cls.dropper.base_url),
                           workers=1)
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_https_provider_verified_and_reused(self):
        before = self.tls.connections
        for _ in range(3):
            r = chat(self.gh.proxy_port, "tls")
            self.assertEqual(r.status, 200, r.body)
            self.assertIn("fake openai", json.loads(r.body)["choices"][0]["message"]["content"])
        r = chat(self.gh.proxy_port, "tls", stream=True)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"data: [DONE]", r.body)
        reqs = self.tls.take()
        self.assertEqual(len(reqs), 4)
        self.assertEqual(reqs[0]["headers"].get("host"), "localhost:%d" % self.tls.port)
        # Four calls, one TLS connection: the handshake is paid once.
        self.assertEqual(self.tls.connections - before, 1)

    def test_untrusted_certificate_refused(self):
        r = chat(self.gh.proxy_port, "untrusted")
        self.assertEqual(r.status, 502, r.body)
        self.assertIn(b"certificate verify failed", r.body)

    def test_wrong_host_name_refused(self):
        # The certificate names localhost only; the provider is addressed by IP.
        r = chat(self.gh.proxy_port, "wrong-name")
        self.assertEqual(r.status, 502, r.body)
        self.assertIn(b"certificate verify failed", r.body)

    def test_plain_provider_reused(self):
        before = self.plain.connections
        for _ in range(5):
            self.assertEqual(chat(self.gh.proxy_port, "plain").status, 200)
        self.assertEqual(self.plain.connections - before, 1)

    def test_provider_dropping_idle_connections(self):
        # The provider closes after every answer without saying so; each call
        # must still succeed, on a fresh connection.
        before = self.dropper.connections
        for _ in range(4):
            r = chat(self.gh.proxy_port, "dropper")
            self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(self.dropper.take()), 4)
        self.assertEqual(self.dropper.connections - before, 4)


class ProviderTlsConfig(unittest.TestCase):
    def check(self, provider_line):
        cfg = ("llm:\n  providers:\n    - " + provider_line + "\n"
               "  models: [{name: m, targets: [{provider: p, model: x}]}]\n")
        gh = Gatehouse(cfg, start=False)
        try:
            p = subprocess.run([os.environ["GATEHOUSE_BIN"], "check", "-c", gh.config_path],
                               capture_output=True, text=True, timeout=30)
        finally:
            gh.cleanup()
        return p

    def test_ca_file_on_http_is_an_error(self):
        p = self.check('{name: p, kind: openai, base_url: "http://x", api_key: k, ca_file: /etc/hostname}')
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("llm.providers[0].ca_file", p.stdout + p.stderr)

    def test_unloadable_ca_file_is_an_error(self):
        p = self.check('{name: p, kind: openai, base_url: "https://x", api_key: k, ca_file: /etc/hostname}')
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot load CA certificates", p.stdout + p.stderr)

    def test_https_accepted(self):
        p = self.check('{name: p, kind: openai, base_url: "https://api.openai.com", api_key: k}')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
