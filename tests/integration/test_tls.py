#!/usr/bin/env python3
"""TLS: termination on the proxy_tls listener (SNI among several certificates
and a wildcard, default certificate, protocol versions, ALPN, resumption,
certificate reload), downstream mTLS with the mtls-auth policy, and TLS to
upstreams (Debian's nginx with TLS: verified, wrong CA, wrong name, client
certificate). Certificates are made with the openssl CLI in a temp dir; curl
and openssl s_client are the clients."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, Nginx, check_problem, run_check, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")


class Pki:
    """A CA and certificates signed by it, made with the openssl CLI."""

    def __init__(self, d, name):
        self.d = d
        self.name = name
        self.ca_key = os.path.join(d, name + "-ca.key")
        self.ca_crt = os.path.join(d, name + "-ca.crt")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", self.ca_key, "-out", self.ca_crt, "-days", "2",
                  "-subj", "/CN=%s test CA" % name)

    def _run(self, *args):
        subprocess.run([OPENSSL] + list(args), check=True, capture_output=True, timeout=60)

    def issue(self, stem, subj, dns=(), uri=(), email=(), client=False):
        """Writes <stem>.key/.crt; returns (crt, key)."""
        key = os.path.join(self.d, stem + ".key")
        csr = os.path.join(self.d, stem + ".csr")
        crt = os.path.join(self.d, stem + ".crt")
        ext = os.path.join(self.d, stem + ".ext")
        sans = ["DNS:" + n for n in dns] + ["URI:" + u for u in uri] + ["email:" + e for e in email]
        with open(ext, "w") as f:
            if sans:
                f.write("subjectAltName=" + ",".join(sans) + "\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", subj)
        self._run("x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
                  "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
        return crt, key


def fingerprint(crt):
    out = subprocess.run([OPENSSL, "x509", "-in", crt, "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def curl(port, host, path, ca, cert=None, key=None, extra=()):
    """HTTPS GET with SNI `host` resolved to 127.0.0.1 -> (exit code, status, body, cert fp)."""
    cmd = [CURL, "-sS", "--max-time", "10", "--resolve", "%s:%d:127.0.0.1" % (host, port),
           "--cacert", ca, "-o", "-", "-w", "\n%{http_code}", "https://%s:%d%s" % (host, port, path)]
    if cert:
        cmd += ["--cert", cert, "--key", key]
    cmd += list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    body, _, status = p.stdout.rpartition("\n")
    return p.returncode, int(status or 0), body, p.stderr


def s_client(port, args, stdin=b"", servername=None):
    cmd = [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port]
    if servername:
        cmd += ["-servername", servername]
    cmd += list(args)
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


def served_subject(port, servername):
    """Subject of the certificate the listener presents for `servername`."""
    _, out = s_client(port, ["-showcerts"], servername=servername)
    for line in out.splitlines():
        if line.startswith("subject="):
            return line[len("subject="):].strip()
    return ""


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class TlsDownstream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="gatehouse-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        cls.pki = Pki(cls.d, "main")
        cls.other = Pki(cls.d, "other")
        cls.default = cls.pki.issue("default", "/CN=default.test", dns=["default.test"])
        cls.a = cls.pki.issue("a", "/CN=a.test", dns=["a.test"])
        cls.b = cls.pki.issue("b", "/CN=b.test", dns=["b.test", "www.b.test"])
        cls.wild = cls.pki.issue("wild", "/CN=wildcard", dns=["*.wild.test"])
        cls.alice = cls.pki.issue("alice", "/O=Acme/CN=alice", client=True)
        cls.bob = cls.pki.issue("bob", "/CN=bob", client=True)
        cls.carol = cls.pki.issue("carol", "/CN=carol", uri=["spiffe://acme/carol"], client=True)
        cls.mallory = cls.other.issue("mallory", "/CN=alice/O=Acme", client=True)
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(cls.config(), extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_tls_port

    @classmethod
    def config(cls, certs=None, client_auth="optional"):
        certs = certs or [cls.default, cls.a, cls.b, cls.wild]
        return {
            "tls": {"certificates": [{"cert": c, "key": k} for c, k in certs],
                    "client_auth": {"mode": client_auth, "ca_file": cls.pki.ca_crt},
                    "handshake_timeout": "1s"},
            "upstreams": [{"name": "svc", "targets": [cls.up.address]}],
            "consumers": [
                {"name": "alice", "credentials": [{"type": "mtls-auth", "subject": "CN=alice,O=Acme"}]},
                {"name": "carol", "credentials": [{"type": "mtls-auth", "san": "spiffe://acme/carol"}]},
                {"name": "guest"},
            ],
            "routes": [
                {"name": "mtls", "match": {"paths": ["/mtls"]}, "upstream": "svc",
                 "policies": [{"name": "mtls-auth"}]},
                {"name": "mtls-anon", "match": {"paths": ["/anon"]}, "upstream": "svc",
                 "policies": [{"name": "mtls-auth", "config": {"anonymous": "guest"}}]},
                {"name": "open", "match": {"paths": ["/"]}, "upstream": "svc"},
            ],
        }

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_sni_selects_certificate(self):
        ca = self.pki.ca_crt
        for host in ("a.test", "b.test", "www.b.test", "x.wild.test", "default.test"):
            rc, status, body, err = curl(self.port, host, "/echo", ca)
            self.assertEqual((rc, status), (0, 200), (host, err))
        # Exact names are served their own certificate, the wildcard covers one
        # label, and unknown names (or a name one label too deep) get the first.
        self.assertIn("CN = a.test", served_subject(self.port, "a.test"))
        self.assertIn("CN = b.test", served_subject(self.port, "www.b.test"))
        self.assertIn("CN = wildcard", served_subject(self.port, "x.wild.test"))
        self.assertIn("CN = default.test", served_subject(self.port, "a.b.wild.test"))
        self.assertIn("CN = default.test", served_subject(self.port, "unknown.test"))
        # curl refuses the default certificate for a name it does not cover.
        rc, _, _, _ = curl(self.port, "unknown.test", "/echo", ca)
        self.assertNotEqual(rc, 0)

    def test_forwarded_proto_and_access_log(self):
        rc, status, body, err = curl(self.port, "a.test", "/echo?tls=1", self.pki.ca_crt)
        self.assertEqual((rc, status), (0, 200), err)
        headers = {k.lower(): v for k, v in json.loads(body)["headers"]}
        self.assertEqual(headers.get("x-forwarded-proto"), "https")
        rec = self.gh.wait_access(lambda r: r.get("path") == "/echo" and r.get("sni") == "a.test")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["scheme"], "https")
        self.assertIn(rec["tls_version"], ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(rec["tls_cipher"])
        # The plain listener still says http.
        r = self.gh.request("GET", "/echo?plain=1")
        headers = {k.lower(): v for k, v in r.json()["headers"]}
        self.assertEqual(headers.get("x-forwarded-proto"), "http")

    def test_protocol_versions(self):
        for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            rc, out = s_client(self.port, [flag], servername="a.test")
            self.assertEqual(rc, 0, out)
            self.assertIn("New, %s, Cipher is" % name, out)
        # TLS 1.1 is refused (the client is allowed to offer it).
        rc, out = s_client(self.port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                           servername="a.test")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("Cipher is (NONE)", out)
        self.assertIn("alert protocol version", out)

    def test_alpn(self):
        # h2 first when HTTP/2 is enabled (the default; test_http2_tls.py has more).
        rc, out = s_client(self.port, ["-alpn", "h2,http/1.1"], servername="a.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("ALPN protocol: h2", out)
        rc, out = s_client(self.port, ["-alpn", "http/1.1"], servername="a.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("ALPN protocol: http/1.1", out)
        rc, out = s_client(self.port, ["-alpn", "spdy/1"], servername="a.test")
        self.assertEqual(rc, 0, out)
        self.assertIn("No ALPN negotiated", out)

    def test_session_resumption(self):
        # Two workers share the session cache and the ticket keys, so any
        # connection may resume; several tries make sure both workers are hit.
        for version, opts in (("-tls1_2", ["-no_ticket"]), ("-tls1_2", []), ("-tls1_3", [])):
            sess = os.path.join(self.d, "sess-%s-%d.pem" % (version, len(opts)))
            req = b"GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
            rc, out = s_client(self.port, [version, "-sess_out", sess, "-ign_eof"] + opts,
                               stdin=req, servername="a.test")
            self.assertEqual(rc, 0, out)
            self.assertIn("New,", out)
            for _ in range(4):
                rc, out = s_client(self.port, [version, "-sess_in", sess, "-ign_eof"] + opts,
                                   stdin=req, servername="a.test")
                self.assertEqual(rc, 0, out)
                self.assertIn("Reused,", out, (version, opts))
                self.assertIn("HTTP/1.1 200", out)

    def test_mtls_optional_with_policy(self):
        ca = self.pki.ca_crt
        # No certificate: the handshake succeeds (optional) and mtls-auth says 401.
        rc, status, body, err = curl(self.port, "a.test", "/mtls", ca)
        self.assertEqual((rc, status), (0, 401), err)
        doc = json.loads(body)
        self.assertEqual(doc["code"], "missing_client_certificate")
        # Open routes do not care.
        rc, status, _, err = curl(self.port, "a.test", "/open", ca)
        self.assertEqual((rc, status), (0, 200), err)
        # alice by subject (written "CN=alice,O=Acme"; the cert has /O=Acme/CN=alice).
        rc, status, body, err = curl(self.port, "a.test", "/mtls?who=alice", ca, *self.alice)
        self.assertEqual((rc, status), (0, 200), err)
        rec = self.gh.wait_access(lambda r: r.get("path") == "/mtls" and r.get("status") == 200
                                  and r.get("consumer") == "alice")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["client_subject"], "CN=alice,O=Acme")
        # carol by URI SAN.
        rc, status, _, err = curl(self.port, "a.test", "/mtls?who=carol", ca, *self.carol)
        self.assertEqual((rc, status), (0, 200), err)
        # bob's certificate verifies but maps to no consumer: 401, even with anonymous.
        for path in ("/mtls", "/anon"):
            rc, status, body, err = curl(self.port, "a.test", path, ca, *self.bob)
            self.assertEqual((rc, status), (0, 401), (path, err))
            self.assertEqual(json.loads(body)["code"], "unknown_client_certificate")
        # No certificate on the anonymous route: the guest consumer.
        rc, status, _, err = curl(self.port, "a.test", "/anon?who=nobody", ca)
        self.assertEqual((rc, status), (0, 200), err)
        rec = self.gh.wait_access(lambda r: r.get("path") == "/anon" and r.get("status") == 200)
        self.assertEqual(rec.get("consumer"), "guest")
        # A certificate from another CA (same subject as alice) fails the handshake.
        rc, status, _, err = curl(self.port, "a.test", "/mtls", ca, *self.mallory)
        self.assertNotEqual(rc, 0)

    def test_mtls_fingerprint_and_required_mode(self):
        cfg = self.config(client_auth="required")
        cfg["consumers"][0]["credentials"] = [
            {"type": "mtls-auth", "fingerprint": "sha256:" + fingerprint(self.alice[0]).upper()}]
        gh = Gatehouse(cfg, extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        try:
            port = gh.proxy_tls_port
            rc, status, _, err = curl(port, "a.test", "/open", self.pki.ca_crt)
            self.assertNotEqual(rc, 0, "required client_auth must refuse a client without a cert")
            rc, status, _, err = curl(port, "a.test", "/mtls", self.pki.ca_crt, *self.alice)
            self.assertEqual((rc, status), (0, 200), err)
            rec = gh.wait_access(lambda r: r.get("path") == "/mtls" and r.get("status") == 200)
            self.assertEqual(rec.get("consumer"), "alice")
            self.assertGreaterEqual(gh.metric("gatehouse_tls_handshake_errors_total"), 1)
        finally:
            gh.stop_and_check(self)

    def test_certificate_reload(self):
        d = tempfile.mkdtemp(prefix="reload-", dir=self.d)
        crt, key = os.path.join(d, "r.crt"), os.path.join(d, "r.key")
        old_crt, old_key = self.pki.issue("reload-old", "/CN=r.test old", dns=["r.test"])
        shutil.copy(old_crt, crt)
        shutil.copy(old_key, key)
        cfg = self.config(certs=[(crt, key)])
        gh = Gatehouse(cfg, extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        try:
            port = gh.proxy_tls_port
            self.assertIn("r.test old", served_subject(port, "r.test"))
            # A connection opened before the reload keeps working after it.
            held = subprocess.Popen(
                [OPENSSL, "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "r.test",
                 "-ign_eof", "-quiet"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL)
            held.stdin.write(b"GET /echo?n=1 HTTP/1.1\r\nHost: r.test\r\n\r\n")
            held.stdin.flush()
            first = b""
            while b"body_sha256" not in first:
                chunk = held.stdout.read1(65536)
                self.assertTrue(chunk, "held connection closed before the reload")
                first += chunk

            new_crt, new_key = self.pki.issue("reload-new", "/CN=r.test new", dns=["r.test"])
            shutil.copy(new_crt, crt)
            shutil.copy(new_key, key)
            gh.signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "r.test new" in served_subject(port, "r.test")))

            held.stdin.write(b"GET /echo?n=2 HTTP/1.1\r\nHost: r.test\r\nConnection: close\r\n\r\n")
            held.stdin.flush()
            held.stdin.close()
            rest = held.stdout.read()
            held.wait(10)
            self.assertIn(b"HTTP/1.1 200", rest)
            self.assertIn(b"/echo?n=2", rest)

            # A broken key on reload is rejected as a whole: the new certificate
            # stays, and the error names the field.
            with open(key, "w") as f:
                f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
            gh.signal(signal.SIGHUP)
            rec = gh.wait_log(lambda r: r.get("msg") == "config rejected")
            self.assertIsNotNone(rec)
            self.assertEqual(rec.get("field"), "tls.certificates[0].key")
            self.assertIn("r.test new", served_subject(port, "r.test"))
        finally:
            gh.stop_and_check(self)

    def test_handshake_timeout(self):
        import socket
        before = self.gh.metric("gatehouse_tls_handshake_errors_total")
        s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        self.addCleanup(s.close)
        s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, never finished
        self.assertEqual(s.recv(100), b"")  # closed by the 1 s handshake timeout
        self.assertTrue(wait_until(
            lambda: self.gh.metric("gatehouse_tls_handshake_errors_total") > before))

    def test_bad_certificate_config(self):
        base = "tls:\n  certificates:\n    - {cert: %s, key: %s}\nlisteners:\n  proxy_tls: {address: \"127.0.0.1:0\"}\n"
        missing = os.path.join(self.d, "nope.crt")
        rc, _, err, path = run_check(base % (missing, self.a[1]))
        self.assertEqual(rc, 1)
        self.assertIn(":3:7: tls.certificates[0].cert: cannot read certificate file", err)
        # A key that belongs to another certificate.
        rc, _, err, _ = run_check(base % (self.a[0], self.b[1]))
        self.assertEqual(rc, 1)
        self.assertIn("tls.certificates[0].key", err)
        self.assertIn("does not match", err)
        # Not PEM at all.
        junk = os.path.join(self.d, "junk.pem")
        with open(junk, "w") as f:
            f.write("hello\n")
        rc, _, err, _ = run_check(base % (junk, self.a[1]))
        self.assertEqual(rc, 1)
        self.assertIn("tls.certificates[0].cert", err)
        # A TLS listener without certificates.
        rc, _, err, _ = run_check("listeners:\n  proxy_tls: \"127.0.0.1:0\"\n")
        self.assertEqual(rc, 1)
        self.assertIn("tls.certificates", err)


@unittest.skipUnless(OPENSSL and os.path.exists("/usr/sbin/nginx"), "needs openssl and nginx")
class TlsUpstream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="gatehouse-tls-up-")
        os.chmod(cls.d, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        cls.pki = Pki(cls.d, "up")
        cls.other = Pki(cls.d, "other")
        crt, key = cls.pki.issue("nginx", "/CN=upstream.test", dns=["upstream.test", "localhost"])
        cls.client = cls.pki.issue("gw", "/O=Gatehouse/CN=gateway", client=True)
        cls.ng = Nginx(tls={"cert": crt, "key": key, "client_ca": cls.pki.ca_crt})
        cls.addClassCleanup(cls.ng.cleanup)

    def run_gh(self, tls, targets=None, path="/nginx/tls"):
        cfg = {"upstreams": [{"name": "ng", "targets": targets or [self.ng.tls_address],
                              "retries": {"attempts": 0}}],
               "routes": [{"name": "all", "match": {"paths": ["/"]}, "upstream": "ng"}]}
        if tls is not None:
            cfg["upstreams"][0]["tls"] = tls
        gh = Gatehouse(cfg)
        self.addCleanup(gh.cleanup)
        return gh

    def test_verified_with_sni_and_pooled(self):
        gh = self.run_gh({"sni": "upstream.test", "ca_file": self.pki.ca_crt})
        for _ in range(5):
            r = gh.request("GET", "/nginx/tls")
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.body.startswith(b"tls TLSv1."), r.body)
            self.assertIn(b"verify=NONE", r.body)
        # Keep-alive: five requests, at most one TLS connection per worker.
        self.assertLessEqual(gh.metric("gatehouse_upstream_connections", upstream="ng"), 2)
        gh.stop_and_check(self)

    def test_https_target_scheme(self):
        # https:// targets turn TLS on; the name checked is the target host.
        gh = self.run_gh({"ca_file": self.pki.ca_crt},
                         targets=["https://localhost:%d" % self.ng.tls_port])
        r = gh.request("GET", "/nginx/ok")
        self.assertEqual(r.status, 200, r)
        gh.stop_and_check(self)

    def test_wrong_ca_is_502(self):
        gh = self.run_gh({"sni": "upstream.test", "ca_file": self.other.ca_crt})
        r = gh.request("GET", "/nginx/ok")
        doc = check_problem(self, r, 502, "upstream_tls_failed")
        self.assertIn("certificate verify failed", doc["detail"])
        gh.stop_and_check(self)

    def test_wrong_name_is_502(self):
        gh = self.run_gh({"sni": "wrong.test", "ca_file": self.pki.ca_crt})
        r = gh.request("GET", "/nginx/ok")
        check_problem(self, r, 502, "upstream_tls_failed")
        # verify: false accepts it (a test setup, documented as unsafe).
        gh2 = self.run_gh({"sni": "wrong.test", "verify": False})
        self.assertEqual(gh2.request("GET", "/nginx/ok").status, 200)
        gh.stop_and_check(self)
        gh2.stop_and_check(self)

    def test_client_certificate_to_upstream(self):
        gh = self.run_gh({"sni": "upstream.test", "ca_file": self.pki.ca_crt,
                          "client_cert": self.client[0], "client_key": self.client[1]})
        r = gh.request("GET", "/nginx/tls")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"client=CN=gateway,O=Gatehouse verify=SUCCESS", r.body)
        gh.stop_and_check(self)

    def test_bad_upstream_tls_config(self):
        cfg = ("upstreams:\n  - name: ng\n    targets: [\"127.0.0.1:1\"]\n"
               "    tls: {ca_file: /nonexistent/ca.pem}\n"
               "routes:\n  - {name: r, match: {paths: [\"/\"]}, upstream: ng}\n")
        rc, _, err, _ = run_check(cfg)
        self.assertEqual(rc, 1)
        self.assertIn("upstreams[0].tls.ca_file", err)
        rc, _, err, _ = run_check(cfg.replace("tls: {ca_file: /nonexistent/ca.pem}",
                                              "tls: {client_cert: /x.pem}"))
        self.assertEqual(rc, 1)
        self.assertIn("client_key", err)


if __name__ == "__main__":
    unittest.main()
