#!/usr/bin/env python3
"""HTTP/2 over TLS on the proxy_tls listener: ALPN offers h2 then http/1.1
(curl --http2, openssl s_client -alpn, nghttp, h2load as real clients),
HTTP/1.1 clients on the same listener, routing, policies and downstream mTLS
on h2 streams, the access log, bodies both ways under flow control, a flood
defence through the TLS layer (raw frames), close_notify at the end, and a
listener with http2 disabled that offers only http/1.1."""

import hashlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h2raw  # noqa: E402
from h2raw import RawH2, frame  # noqa: E402
from harness import Gatehouse, wait_until  # noqa: E402
from test_tls import Pki, s_client  # noqa: E402
from upstream import Upstream, pattern_sha256  # noqa: E402

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")
NGHTTP = shutil.which("nghttp")
H2LOAD = shutil.which("h2load")


def curl(port, path, ca, *args, host="a.test", version="--http2"):
    """HTTPS request; returns (http_version, status, body bytes, head text)."""
    tmp = tempfile.mkdtemp(prefix="h2tls-curl-")
    try:
        body_path = os.path.join(tmp, "body")
        head_path = os.path.join(tmp, "head")
        r = subprocess.run([CURL, "-sS", version, "--max-time", "60", "--cacert", ca,
                            "--resolve", "%s:%d:127.0.0.1" % (host, port),
                            "-o", body_path, "-D", head_path,
                            "-w", "%{http_version} %{http_code}", *args,
                            "https://%s:%d%s" % (host, port, path)],
                           capture_output=True, timeout=90)
        if r.returncode != 0:
            raise AssertionError("curl failed: %r %r" % (r.returncode, r.stderr))
        got_version, status = r.stdout.decode().split()
        with open(body_path, "rb") as f:
            body = f.read()
        with open(head_path) as f:
            head = f.read()
        return got_version, int(status), body, head
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def headers_of(body):
    return {n.lower(): v for n, v in json.loads(body)["headers"]}


def make_config(pki, cert, up, http2=True):
    return {
        "http2": {"enabled": http2, "max_concurrent_streams": 8},
        "tls": {"certificates": [{"cert": cert[0], "key": cert[1]}],
                "client_auth": {"mode": "optional", "ca_file": pki.ca_crt}},
        "upstreams": [{"name": "svc", "targets": [up.address]}],
        "consumers": [
            {"name": "alice", "credentials": [
                {"type": "mtls-auth", "subject": "CN=alice,O=Acme"},
                {"type": "key-auth", "key": "alice-key"}]},
        ],
        "routes": [
            {"name": "mtls", "match": {"paths": ["/mtls"]}, "upstream": "svc",
             "policies": [{"name": "mtls-auth"}]},
            {"name": "private", "match": {"paths": ["/private"]}, "upstream": "svc",
             "policies": [{"name": "key-auth"}]},
            {"name": "open", "match": {"paths": ["/"]}, "upstream": "svc"},
        ],
    }


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class Http2OverTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="gatehouse-h2tls-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        cls.pki = Pki(cls.d, "main")
        cls.cert = cls.pki.issue("a", "/CN=a.test", dns=["a.test", "localhost"])
        cls.alice = cls.pki.issue("alice", "/O=Acme/CN=alice", client=True)
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(make_config(cls.pki, cls.cert, cls.up), extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_tls_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.pki.ca_crt)
        return ctx

    # ------------------------------------------------------------ negotiation

    def test_curl_negotiates_h2(self):
        version, status, body, head = curl(self.port, "/echo?x=1", self.pki.ca_crt,
                                           "-H", "X-Trace: t1")
        self.assertEqual((version, status), ("2", 200))
        doc = json.loads(body)
        self.assertEqual(doc["path"], "/echo?x=1")
        self.assertEqual(doc["version"], "HTTP/1.1")  # upstreams stay HTTP/1.1
        h = headers_of(body)
        self.assertEqual(h["x-forwarded-proto"], "https")
        self.assertEqual(h["x-forwarded-host"], "a.test:%d" % self.port)
        self.assertEqual(h["x-trace"], "t1")
        self.assertIn("x-request-id:", head.lower())

    def test_http1_clients_still_work(self):
        version, status, body, _ = curl(self.port, "/echo?v=1", self.pki.ca_crt,
                                        version="--http1.1")
        self.assertEqual((version, status), ("1.1", 200))
        self.assertEqual(headers_of(body)["x-forwarded-proto"], "https")
        # A client without ALPN at all is HTTP/1.1 too.
        rc, out = s_client(self.port, ["-ign_eof"], servername="a.test",
                           stdin=b"GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        self.assertEqual(rc, 0, out)
        self.assertIn("No ALPN negotiated", out)
        self.assertIn("HTTP/1.1 200", out)

    def test_s_client_alpn_prefers_h2(self):
        for offer in ("h2,http/1.1", "http/1.1,h2", "h2"):
            rc, out = s_client(self.port, ["-alpn", offer], servername="a.test")
            self.assertEqual(rc, 0, out)
            self.assertIn("ALPN protocol: h2", out, offer)
        rc, out = s_client(self.port, ["-alpn", "http/1.1"], servername="a.test")
        self.assertIn("ALPN protocol: http/1.1", out)
        # h2 is only offered over TLS 1.2+ with the suites RFC 9113 allows;
        # both versions negotiate it.
        for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            rc, out = s_client(self.port, [flag, "-alpn", "h2"], servername="a.test")
            self.assertEqual(rc, 0, out)
            self.assertIn("New, %s, Cipher is" % name, out)
            self.assertIn("ALPN protocol: h2", out)

    @unittest.skipUnless(NGHTTP, "needs nghttp (nghttp2-client)")
    def test_nghttp(self):
        r = subprocess.run([NGHTTP, "-v", "-H", "x-from: nghttp",
                            "https://localhost:%d/echo?client=nghttp" % self.port],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The negotiated protocol: h2", r.stdout)
        self.assertIn(":status: 200", r.stdout)
        self.assertIn('"/echo?client=nghttp"', r.stdout)
        self.assertIn('"x-from"', r.stdout)

    @unittest.skipUnless(H2LOAD, "needs h2load (nghttp2-client)")
    def test_many_concurrent_streams_with_h2load(self):
        r = subprocess.run([H2LOAD, "-n", "600", "-c", "3", "-m", "8",
                            "https://127.0.0.1:%d/echo" % self.port],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Application protocol: h2", r.stdout)
        self.assertIn("600 succeeded", r.stdout, r.stdout)
        self.assertIn("status codes: 600 2xx", r.stdout, r.stdout)

    # ------------------------------------------------------- the pipeline on h2

    def test_policies_and_routing(self):
        version, status, body, head = curl(self.port, "/private", self.pki.ca_crt)
        self.assertEqual((version, status), ("2", 401))
        self.assertEqual(json.loads(body)["code"], "missing_credentials")
        self.assertIn("www-authenticate:", head.lower())
        _, status, body, _ = curl(self.port, "/private?k=1", self.pki.ca_crt,
                                  "-H", "apikey: alice-key")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["path"], "/private?k=1")
        rec = self.gh.wait_access(lambda r: r.get("path") == "/private" and
                                  r.get("status") == 200)
        self.assertEqual(rec["route"], "private")
        self.assertEqual(rec["consumer"], "alice")

    def test_client_certificate_is_visible_on_streams(self):
        ca = self.pki.ca_crt
        version, status, body, _ = curl(self.port, "/mtls", ca)
        self.assertEqual((version, status), ("2", 401))
        self.assertEqual(json.loads(body)["code"], "missing_client_certificate")
        version, status, body, _ = curl(self.port, "/mtls?who=alice", ca,
                                        "--cert", self.alice[0], "--key", self.alice[1])
        self.assertEqual((version, status), ("2", 200))
        rec = self.gh.wait_access(lambda r: r.get("path") == "/mtls" and r.get("status") == 200)
        self.assertIsNotNone(rec)
        self.assertEqual(rec["protocol"], "HTTP/2")
        self.assertEqual(rec["consumer"], "alice")
        self.assertEqual(rec["client_subject"], "CN=alice,O=Acme")

    def test_access_log_has_protocol_and_tls(self):
        curl(self.port, "/echo?log=h2tls", self.pki.ca_crt)
        rec = self.gh.wait_access(lambda r: r.get("path") == "/echo" and
                                  r.get("protocol") == "HTTP/2" and r.get("sni") == "a.test")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["scheme"], "https")
        self.assertIn(rec["tls_version"], ("TLSv1.2", "TLSv1.3"))

    def test_bodies_both_ways(self):
        payload = os.urandom(300_000)
        with tempfile.NamedTemporaryFile() as f:
            f.write(payload)
            f.flush()
            version, status, body, _ = curl(self.port, "/sink", self.pki.ca_crt,
                                            "--data-binary", "@" + f.name)
        self.assertEqual((version, status), ("2", 200))
        doc = json.loads(body)
        self.assertEqual(doc["length"], len(payload))
        self.assertEqual(doc["sha256"], hashlib.sha256(payload).hexdigest())
        n = 8 * 1024 * 1024
        for chunked in ("0", "1"):
            _, status, body, _ = curl(self.port, "/bytes?n=%d&chunked=%s" % (n, chunked),
                                      self.pki.ca_crt)
            self.assertEqual(status, 200)
            self.assertEqual(len(body), n)
            self.assertEqual(hashlib.sha256(body).hexdigest(), pattern_sha256(n))

    # ------------------------------------------------------------ raw frames

    def raw(self):
        c = RawH2(self.port, tls=self.tls_context(), server_hostname="a.test")
        self.addCleanup(c.close)
        self.assertEqual(c.alpn, "h2")
        c.start()
        return c

    def test_raw_request_and_smuggling_reset(self):
        c = self.raw()
        c.send(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1,
                     h2raw.request_block(path="/echo", authority="a.test")))
        f = c.frames_until(lambda f: f.type == h2raw.HEADERS and f.stream == 1)
        self.assertEqual(h2raw.first_status(f.payload), "200")
        before = self.up.count()
        c.send(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 3,
                     h2raw.request_block(path="/echo", extra=[("transfer-encoding", "chunked")])))
        f = c.frames_until(lambda f: f.type in (h2raw.RST_STREAM, h2raw.HEADERS) and f.stream == 3)
        self.assertEqual(f.type, h2raw.RST_STREAM)
        self.assertEqual(f.error_code(), h2raw.PROTOCOL_ERROR)
        self.assertEqual(self.up.count(), before)

    def test_rapid_reset_gets_goaway(self):
        c = self.raw()
        out = b""
        for i in range(400):
            sid = 1 + 2 * i
            out += frame(h2raw.HEADERS, h2raw.END_HEADERS, sid, h2raw.request_block(path="/echo"))
            out += frame(h2raw.RST_STREAM, 0, sid, (8).to_bytes(4, "big"))  # CANCEL
        c.send(out)
        f = c.frames_until(lambda f: f.type == h2raw.GOAWAY)
        self.assertIsNotNone(f)
        self.assertEqual(f.error_code(), h2raw.ENHANCE_YOUR_CALM)

    def test_client_goaway_gets_close_notify(self):
        # After the client's GOAWAY the gateway ends the connection with a TLS
        # close_notify, which Python reports as a clean EOF (b"") rather than
        # an SSLEOFError.
        c = self.raw()
        c.send(frame(h2raw.GOAWAY, 0, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big")))
        c.sock.settimeout(10)
        got = b""
        try:
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ssl.SSLEOFError as e:
            self.fail("connection ended without close_notify: %r" % e)
        self.assertIsInstance(got, bytes)


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class Http2OverTlsDisabled(unittest.TestCase):
    def test_http2_disabled_offers_only_http11(self):
        d = tempfile.mkdtemp(prefix="gatehouse-h2tls-off-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d, "off")
        cert = pki.issue("a", "/CN=a.test", dns=["a.test"])
        up = Upstream("B")
        self.addCleanup(up.stop)
        gh = Gatehouse(make_config(pki, cert, up, http2=False),
                       extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        try:
            port = gh.proxy_tls_port
            rc, out = s_client(port, ["-alpn", "h2,http/1.1"], servername="a.test")
            self.assertEqual(rc, 0, out)
            self.assertIn("ALPN protocol: http/1.1", out)
            version, status, _, _ = curl(port, "/echo", pki.ca_crt)
            self.assertEqual((version, status), ("1.1", 200))
        finally:
            gh.stop_and_check(self)


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class Http2OverTlsDrain(unittest.TestCase):
    def test_sigterm_sends_goaway_and_finishes_open_streams(self):
        d = tempfile.mkdtemp(prefix="gatehouse-h2tls-drain-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d, "drain")
        crt, key = pki.issue("a", "/CN=a.test", dns=["a.test"])
        up = Upstream("C")
        self.addCleanup(up.stop)
        gh = Gatehouse({"tls": {"certificates": [{"cert": crt, "key": key}]},
                        "upstreams": [{"name": "svc", "targets": [up.address]}],
                        "routes": [{"name": "all", "match": {"paths": ["/"]}, "upstream": "svc"}]},
                       extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        self.addCleanup(gh.cleanup)
        c = RawH2(gh.proxy_tls_port, tls=ssl.create_default_context(cafile=pki.ca_crt),
                  server_hostname="a.test")
        self.addCleanup(c.close)
        self.assertEqual(c.alpn, "h2")
        c.start()
        c.send(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1,
                     h2raw.request_block(path="/slow?ms=700", authority="a.test")))
        # Our SETTINGS arrive first; then the stream is in flight at SIGTERM.
        self.assertIsNotNone(c.frames_until(lambda f: f.type == h2raw.SETTINGS))
        self.assertTrue(wait_until(lambda: up.count() >= 1))
        gh.signal(signal.SIGTERM)
        frames = c.all_frames(deadline=15)
        kinds = [(f.type, f.stream) for f in frames]
        self.assertIn((h2raw.GOAWAY, 0), kinds)
        self.assertIn((h2raw.HEADERS, 1), kinds)
        heads = [f for f in frames if f.type == h2raw.HEADERS and f.stream == 1]
        self.assertEqual(h2raw.first_status(heads[0].payload), "200")
        self.assertTrue(c.closed)
        self.assertEqual(gh.wait_exit(30), 0)


if __name__ == "__main__":
    unittest.main()
