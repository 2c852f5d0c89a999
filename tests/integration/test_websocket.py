#!/usr/bin/env python3
"""WebSocket upgrade proxying over HTTP/1.1: the upgrade headers reach the
upstream, a 101 turns the exchange into a two-way byte relay (large frames
both ways, server speaks first, close handshake), a refused upgrade is an
ordinary response on a connection that stays usable, the idle timeout ends a
silent tunnel, other upgrades (h2c) are still stripped."""

import base64
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, RawClient, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402
from ws_echo import WsEcho, accept_key, make_frame, read_frame  # noqa: E402
from test_tls import OPENSSL, Pki  # noqa: E402


def upgrade_request(path, key, host="gatehouse.test"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n"
            % (path, host, key)).encode()


def read_head(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise EOFError("closed before the response head ended")
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.decode().rstrip("\r\n"))
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for h in lines[1:]:
        k, v = h.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers


class WebSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws = WsEcho()
        cls.addClassCleanup(cls.ws.stop)
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse({
            "upstreams": [{"name": "ws", "targets": [cls.ws.address]},
                          {"name": "http", "targets": [cls.up.address]}],
            "routes": [
                {"name": "quiet", "match": {"paths": ["/quiet"]}, "upstream": "ws",
                 "timeouts": {"idle": "1s"}, "rewrite": {"strip_prefix": True}},
                {"name": "small", "match": {"paths": ["/small"]}, "upstream": "ws",
                 "rewrite": {"strip_prefix": True}, "websocket": {"max_frame_size": "1k"}},
                {"name": "ws", "match": {"paths": ["/ws", "/ws-hello", "/ws-refuse",
                                                   "/ws-badaccept"]},
                 "upstream": "ws"},
                {"name": "http", "match": {"paths": ["/"]}, "upstream": "http"},
            ]})
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def connect(self, path):
        key = base64.b64encode(os.urandom(16)).decode()
        s = socket.create_connection(("127.0.0.1", self.gh.proxy_port), timeout=15)
        self.addCleanup(s.close)
        s.sendall(upgrade_request(path, key))
        f = s.makefile("rb")
        status, headers = read_head(f)
        return s, f, status, headers, key

    def test_echo_both_directions(self):
        before = self.ws.upgrades
        s, f, status, headers, key = self.connect("/ws")
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("upgrade", "").lower(), "websocket")
        self.assertIn("upgrade", headers.get("connection", "").lower())
        self.assertEqual(headers.get("sec-websocket-accept"), accept_key(key))
        self.assertEqual(self.ws.upgrades, before + 1)
        self.assertEqual(self.ws.last_headers.get("upgrade"), "websocket")
        for i in range(3):
            msg = ("message %d" % i).encode()
            s.sendall(make_frame(1, msg, mask=True))
            self.assertEqual(read_frame(f), (1, msg))
        # A frame larger than a relay buffer, both ways.
        big = os.urandom(300_000)
        s.sendall(make_frame(2, big, mask=True))
        self.assertEqual(read_frame(f), (2, big))
        # Close handshake passes through; then the tunnel ends.
        s.sendall(make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(read_frame(f), (8, b"\x03\xe8"))
        self.assertEqual(f.read(1), b"")
        rec = self.gh.wait_access(lambda r: r.get("path") == "/ws" and r.get("status") == 101)
        self.assertIsNotNone(rec)
        self.assertGreaterEqual(rec["bytes_in"], 300_000)
        self.assertGreaterEqual(rec["bytes_out"], 300_000)

    def test_server_speaks_first(self):
        s, f, status, _, _ = self.connect("/ws-hello")
        self.assertEqual(status, 101)
        self.assertEqual(read_frame(f), (1, b"hello"))
        s.sendall(make_frame(1, b"after hello", mask=True))
        self.assertEqual(read_frame(f), (1, b"after hello"))

    def test_refused_upgrade_is_a_normal_response(self):
        key = base64.b64encode(os.urandom(16)).decode()
        with RawClient(self.gh.proxy_port) as c:
            c.send(upgrade_request("/ws-refuse", key))
            r = c.read_response()
            self.assertEqual(r.status, 403)
            self.assertEqual(r.body, b"no upgrade for you\n")
            # Still an HTTP connection, kept alive.
            r = c.request("GET", "/echo")
            self.assertEqual(r.status, 200)

    def test_frame_over_the_limit_gets_1009(self):
        closes = len(self.ws.closes)
        s, f, status, _, _ = self.connect("/small/ws")
        self.assertEqual(status, 101)
        s.sendall(make_frame(2, b"y" * 1024, mask=True))
        self.assertEqual(read_frame(f), (2, b"y" * 1024))
        s.sendall(make_frame(2, b"y" * 1025, mask=True))
        op, payload = read_frame(f)
        self.assertEqual(op, 8)
        self.assertEqual(payload[:2], b"\x03\xf1")  # 1009 Message Too Big
        self.assertEqual(f.read(1), b"")
        wait_until(lambda: len(self.ws.closes) > closes)
        self.assertEqual(self.ws.closes[-1], 1001)  # the upstream: going away
        rec = self.gh.wait_access(lambda r: r.get("path") == "/small/ws"
                                  and r.get("error") == "websocket_too_big")
        self.assertIsNotNone(rec)

    def test_invalid_frames_get_1002(self):
        for bad in (make_frame(1, b"unmasked", mask=False),  # client frames are masked
                    make_frame(3, b"x", mask=True),           # reserved opcode
                    make_frame(9, b"p" * 126, mask=True)):    # control frame over 125
            s, f, status, _, _ = self.connect("/ws")
            self.assertEqual(status, 101)
            s.sendall(bad)
            op, payload = read_frame(f)
            self.assertEqual(op, 8)
            self.assertEqual(payload[:2], b"\x03\xea")  # 1002 Protocol Error
            self.assertEqual(f.read(1), b"")

    def test_wrong_accept_from_the_upstream_is_502(self):
        s, f, status, headers, _ = self.connect("/ws-badaccept")
        self.assertEqual(status, 502)

    def test_idle_timeout_closes_tunnel(self):
        s, f, status, _, _ = self.connect("/quiet/ws")
        self.assertEqual(status, 101)
        s.sendall(make_frame(1, b"x", mask=True))
        self.assertEqual(read_frame(f), (1, b"x"))
        start = time.monotonic()
        self.assertEqual(f.read(1), b"")  # closed by the 1 s idle timeout
        self.assertLess(time.monotonic() - start, 10)

    def test_other_upgrades_are_stripped(self):
        with RawClient(self.gh.proxy_port) as c:
            c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            names = [k.lower() for k, _ in r.json()["headers"]]
            self.assertNotIn("upgrade", names)
            self.assertNotIn("http2-settings", names)
        # A websocket upgrade on a non-GET is not one either.
        with RawClient(self.gh.proxy_port) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                   b"Content-Length: 0\r\n\r\n")
            r = c.read_response("POST")
            self.assertEqual(r.status, 200)
            names = [k.lower() for k, _ in r.json()["headers"]]
            self.assertNotIn("upgrade", names)


@unittest.skipUnless(OPENSSL, "needs the openssl CLI")
class WebSocketOverTls(unittest.TestCase):
    def test_wss_echo(self):
        d = tempfile.mkdtemp(prefix="gatehouse-wss-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d, "wss")
        crt, key = pki.issue("srv", "/CN=ws.test", dns=["ws.test"])
        ws = WsEcho()
        self.addCleanup(ws.stop)
        gh = Gatehouse({"tls": {"certificates": [{"cert": crt, "key": key}]},
                        "upstreams": [{"name": "ws", "targets": [ws.address]}],
                        "routes": [{"name": "ws", "match": {"paths": ["/"]}, "upstream": "ws"}]},
                       extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        self.addCleanup(gh.cleanup)
        ctx = ssl.create_default_context(cafile=pki.ca_crt)
        raw = socket.create_connection(("127.0.0.1", gh.proxy_tls_port), timeout=15)
        s = ctx.wrap_socket(raw, server_hostname="ws.test")
        self.addCleanup(s.close)
        k = base64.b64encode(os.urandom(16)).decode()
        s.sendall(upgrade_request("/ws-hello", k, host="ws.test"))
        f = s.makefile("rb")
        status, headers = read_head(f)
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-accept"), accept_key(k))
        self.assertEqual(read_frame(f), (1, b"hello"))
        big = os.urandom(200_000)
        s.sendall(make_frame(2, big, mask=True))
        self.assertEqual(read_frame(f), (2, big))
        s.sendall(make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(read_frame(f), (8, b"\x03\xe8"))
        rec = gh.wait_access(lambda r: r.get("status") == 101 and r.get("scheme") == "https")
        self.assertIsNotNone(rec)
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
