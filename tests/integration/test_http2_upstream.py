#!/usr/bin/env python3
"""Plain HTTP/2 upstreams (`protocol: http2`) with HTTP/1.1 and HTTP/2
clients: header translation (Host <-> :authority, no connection-specific
fields, TE only "trailers"), bodies both ways past the flow-control windows,
trailers both ways, multiplexing (h2load through one connection per
worker), GOAWAY and REFUSED_STREAM retried, idle connections closed by the
pool's idle timeout, PING keep-alive (ACKed, and unanswered: closed), and
h2 over TLS chosen by ALPN. The peer is
h2_peer.py (python3-h2)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grpc_peer import reexec_with_system_grpc  # noqa: E402

reexec_with_system_grpc()  # python3-h2 is Debian's, beside grpcio

from h2_peer import H2Peer  # noqa: E402
from harness import Gatehouse, simple_config, wait_until  # noqa: E402

CURL = shutil.which("curl")
H2LOAD = shutil.which("h2load")
OPENSSL = shutil.which("openssl")


def config(target, extra=None):
    up = {"protocol": "http2", "pool": {"idle_timeout": "1s"}}
    up.update(extra or {})
    return simple_config([target], upstream_extra=up)


class PlainH2Upstream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = H2Peer()
        cls.gh = Gatehouse(config(cls.peer.address))

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop()
        cls.gh.cleanup()
        cls.peer.stop()

    def curl_h2(self, path, *args):
        r = subprocess.run([CURL, "-sS", "--http2-prior-knowledge", "--max-time", "30", *args,
                            "http://127.0.0.1:%d%s" % (self.gh.proxy_port, path)],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_http1_client_header_translation(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/echo?q=1", headers={
                "Connection": "keep-alive, X-Hop", "X-Hop": "drop me", "Keep-Alive": "timeout=5",
                "TE": "trailers, deflate", "X-Custom": "kept", "Proxy-Connection": "x"})
        self.assertEqual(r.status, 200)
        j = json.loads(r.body)
        self.assertEqual(j["method"], "GET")
        self.assertEqual(j["path"], "/echo?q=1")
        self.assertEqual(j["authority"], self.peer.address)
        self.assertEqual(j["scheme"], "http")
        names = j["header_names"]
        for bad in ("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                    "upgrade", "host", "x-hop"):
            self.assertNotIn(bad, names)
        self.assertEqual(j["headers"].get("te"), "trailers")
        self.assertEqual(j["headers"]["x-custom"], "kept")
        self.assertEqual(j["headers"]["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(names[:4], [":method", ":scheme", ":authority", ":path"])

    def test_http1_bodies_both_ways(self):
        body = b"b" * 300_000
        with self.gh.raw() as c:
            r = c.request("POST", "/upload", headers={"Content-Type": "application/octet-stream"},
                          body=body)
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.body)["body_len"], len(body))
            big = c.request("GET", "/big?n=3000000")
            self.assertEqual(big.status, 200)
            self.assertEqual(len(big.body), 3_000_000)

    def test_http1_chunked_request_with_trailers(self):
        req = (b"POST /chunked HTTP/1.1\r\nHost: gatehouse.test\r\nTransfer-Encoding: chunked\r\n"
               b"TE: trailers\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 42\r\n\r\n")
        with self.gh.raw() as c:
            c.send(req)
            r = c.read_response("POST")
        j = json.loads(r.body)
        self.assertEqual(j["body_len"], 11)
        self.assertEqual(j["trailers"], {"x-sum": "42"})

    def test_response_trailers_to_http1_and_http2_clients(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/trailers", headers={"TE": "trailers"})
            self.assertEqual(r.body, b"hello")
            self.assertIn(("x-checksum", "abc"), [(k.lower(), v) for k, v in r.trailers])
            plain = c.request("GET", "/trailers")  # no TE: trailers dropped
            self.assertEqual(plain.body, b"hello")
            self.assertEqual(plain.trailers, [])
        out = self.curl_h2("/trailers", "-H", "TE: trailers", "-D", "-")
        self.assertIn(b"hello", out)
        self.assertIn(b"x-checksum: abc", out)

    def test_http2_client_post_and_large_download(self):
        out = self.curl_h2("/up", "--data-binary", "@-", "-H", "Content-Type: x/y", "-X", "POST")
        self.assertEqual(json.loads(out)["method"], "POST")
        big = self.curl_h2("/big?n=2000000")
        self.assertEqual(len(big), 2_000_000)

    @unittest.skipUnless(H2LOAD, "needs h2load")
    def test_multiplexed_connections(self):
        before = self.peer.connections
        r = subprocess.run([H2LOAD, "-n", "400", "-c", "2", "-m", "20",
                            "http://127.0.0.1:%d/mux" % self.gh.proxy_port],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("400 succeeded", r.stdout)
        # 40 requests in flight at a time over at most one upstream
        # connection per worker (HTTP/1.1 would need one per request).
        self.assertLessEqual(self.peer.connections - before, 2)

    def test_goaway_before_processing_is_retried(self):
        r = self.gh.request("GET", "/goaway-once")
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["path"], "/goaway-once")
        self.assertIn("goaway", self.peer.once)  # the first try did get the GOAWAY

    def test_refused_stream_is_retried(self):
        r = self.gh.request("GET", "/refuse-once")
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["path"], "/refuse-once")
        self.assertIn("refuse", self.peer.once)


class IdleClose(unittest.TestCase):
    def test_idle_connection_closed_by_pool_timeout(self):
        peer = H2Peer()
        gh = Gatehouse(config(peer.address), workers=1)
        try:
            self.assertEqual(gh.request("GET", "/x").status, 200)
            self.assertEqual(peer.open, 1)
            # pool.idle_timeout is 1 s: the gateway closes the connection.
            self.assertTrue(wait_until(lambda: peer.open == 0, timeout=10))
            self.assertEqual(gh.request("GET", "/y").status, 200)
            self.assertEqual(peer.connections, 2)
        finally:
            gh.stop()
            gh.cleanup()
            peer.stop()


@unittest.skipUnless(OPENSSL, "needs the openssl CLI")
class PingKeepalive(unittest.TestCase):
    """upstreams[].http2.ping_interval: PINGs on a connection the peer is
    silent on; an ACKed one keeps the connection, an unanswered one closes
    it and the next call gets a new connection."""

    def start(self, timeout):
        peer = H2Peer()
        gh = Gatehouse(config(peer.address, {
            "pool": {"idle_timeout": "60s"},
            "http2": {"ping_interval": "200ms", "ping_timeout": timeout}}), workers=1)
        self.addCleanup(peer.stop)
        self.addCleanup(gh.cleanup)
        self.addCleanup(gh.stop)
        return peer, gh

    def get(self, gh, path):
        with gh.raw() as c:
            r = c.request("GET", path)
        self.assertEqual(r.status, 200)
        return json.loads(r.body)["connection"]

    def test_acked_pings_keep_the_connection(self):
        peer, gh = self.start("5s")
        first = self.get(gh, "/echo")
        self.assertTrue(wait_until(lambda: peer.pings >= 3, timeout=30), peer.pings)
        self.assertEqual(self.get(gh, "/echo"), first)
        self.assertEqual(peer.connections, 1)

    def test_unanswered_ping_closes_the_connection(self):
        peer, gh = self.start("300ms")
        muted = self.get(gh, "/mute")
        self.assertTrue(wait_until(lambda: peer.muted_closed >= 1, timeout=30))
        self.assertNotEqual(self.get(gh, "/echo"), muted)
        self.assertEqual(peer.connections, 2)
        self.assertTrue(gh.wait_log(lambda r: "PING unanswered" in r.get("msg", "")))


class TlsH2Upstream(unittest.TestCase):
    def test_alpn_h2(self):
        from test_tls import Pki
        d = tempfile.mkdtemp(prefix="gatehouse-h2tls-")
        pki = Pki(d, "h2")
        crt, key = pki.issue("up", "/CN=upstream.test", dns=["upstream.test"])
        peer = H2Peer(tls_cert=crt, tls_key=key)
        gh = Gatehouse(config(peer.address, {"tls": {"sni": "upstream.test",
                                                     "ca_file": pki.ca_crt}}))
        try:
            r = gh.request("GET", "/secure")
            self.assertEqual(r.status, 200)
            j = json.loads(r.body)
            self.assertEqual(j["scheme"], "https")
            self.assertEqual(peer.alpn, ["h2"])
        finally:
            gh.stop()
            gh.cleanup()
            peer.stop()


if __name__ == "__main__":
    unittest.main()
