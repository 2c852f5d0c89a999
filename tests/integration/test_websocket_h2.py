#!/usr/bin/env python3
"""WebSocket over HTTP/2 (RFC 8441 extended CONNECT) with python3-h2 as the
client: SETTINGS_ENABLE_CONNECT_PROTOCOL, CONNECT with :protocol websocket
turned into an RFC 6455 upgrade for the ws_echo.py upstream, masked frames
both ways, the close handshake and END_STREAM, other streams alongside an
open tunnel, a refused upgrade as an ordinary response, a refused
:protocol, a 4 MiB message under flow control, frame limits (1009 to the
client, 1001 to the upstream), the tunnel's idle timeout, and the same over
TLS (ALPN h2); and to an HTTP/2 upstream (h2_ws_peer.py) by extended
CONNECT, from HTTP/1.1 and from RFC 8441 clients."""

import os
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def reexec_with_system_h2():
    try:
        import h2  # noqa: F401
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
            os.execv(system, [system] + sys.argv)
        raise


reexec_with_system_h2()  # python3-h2 is Debian's

import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402

from harness import Gatehouse, wait_until  # noqa: E402
from h2_ws_peer import H2WsPeer  # noqa: E402
from upstream import Upstream  # noqa: E402
from ws_echo import WsEcho, accept_key, make_frame, read_frame  # noqa: E402
from test_websocket import read_head, upgrade_request  # noqa: E402
from test_tls import OPENSSL, Pki  # noqa: E402


class H2Ws:
    """A minimal RFC 8441 client on h2's state machine."""

    def __init__(self, sock, authority="gatehouse.test", scheme="http"):
        self.sock = sock
        self.authority = authority
        self.scheme = scheme
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.headers, self.data, self.ended, self.reset = {}, {}, set(), {}
        self.settings_seen = False
        while not self.settings_seen:
            self.pump()

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def pump(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        for ev in self.conn.receive_data(d):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.settings_seen = True
            elif isinstance(ev, h2.events.ResponseReceived):
                self.headers[ev.stream_id] = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                self.data.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                self.reset[ev.stream_id] = ev.error_code
        self.flush()

    def enabled(self):
        return self.conn.remote_settings.enable_connect_protocol == 1

    def open(self, path, protocol="websocket", extra=()):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", protocol),
                                     (":scheme", self.scheme), (":path", path),
                                     (":authority", self.authority),
                                     ("sec-websocket-version", "13")] + list(extra))
        self.flush()
        while sid not in self.headers and sid not in self.reset:
            self.pump()
        return sid

    def get(self, path):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", "GET"), (":scheme", self.scheme),
                                     (":path", path), (":authority", self.authority)],
                               end_stream=True)
        self.flush()
        while sid not in self.ended and sid not in self.reset:
            self.pump()
        return sid

    def status(self, sid):
        return int(self.headers[sid][":status"])

    def send(self, sid, data, end=False):
        data = bytes(data)
        while data:
            n = min(len(data), self.conn.local_flow_control_window(sid),
                    self.conn.max_outbound_frame_size)
            if n <= 0:
                self.pump()  # wait for WINDOW_UPDATE (and keep reading)
                continue
            self.conn.send_data(sid, data[:n])
            data = data[n:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def read_frame(self, sid):
        """-> (opcode, payload) of the next WebSocket frame on the stream."""
        buf = self.data.setdefault(sid, bytearray())
        while True:
            if len(buf) >= 2:
                n, off = buf[1] & 0x7F, 2
                if n == 126 and len(buf) >= 4:
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                elif n == 127 and len(buf) >= 10:
                    n, off = struct.unpack("!Q", buf[2:10])[0], 10
                if (buf[1] & 0x7F) < 126 or off > 2:
                    masked = buf[1] & 0x80
                    assert not masked, "server frames are never masked"
                    if len(buf) >= off + n:
                        op, payload = buf[0] & 0x0F, bytes(buf[off:off + n])
                        del buf[:off + n]
                        return op, payload
            if sid in self.ended or sid in self.reset:
                raise EOFError("stream ended mid-frame")
            self.pump()

    def wait_end(self, sid):
        while sid not in self.ended and sid not in self.reset:
            self.pump()
        return sid in self.ended


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0]


class WebSocketOverH2c(unittest.TestCase):
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
                {"name": "small", "match": {"paths": ["/small"]}, "upstream": "ws",
                 "rewrite": {"strip_prefix": True},
                 "websocket": {"max_frame_size": "1k", "max_message_size": "4k"}},
                {"name": "quiet", "match": {"paths": ["/quiet"]}, "upstream": "ws",
                 "rewrite": {"strip_prefix": True}, "websocket": {"idle_timeout": "1s"}},
                {"name": "ws", "match": {"paths": ["/ws", "/ws-hello", "/ws-refuse",
                                                   "/ws-badaccept"]},
                 "upstream": "ws"},
                {"name": "http", "match": {"paths": ["/"]}, "upstream": "http"},
            ]})
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def client(self):
        s = socket.create_connection(("127.0.0.1", self.gh.proxy_port), timeout=15)
        self.addCleanup(s.close)
        return H2Ws(s)

    def test_echo_and_close(self):
        c = self.client()
        self.assertTrue(c.enabled(), "SETTINGS_ENABLE_CONNECT_PROTOCOL not sent")
        before = self.ws.upgrades
        sid = c.open("/ws", extra=[("sec-websocket-protocol", "chat, superchat")])
        self.assertEqual(c.status(sid), 200)
        self.assertEqual(c.headers[sid].get("sec-websocket-protocol"), "chat")
        self.assertNotIn("sec-websocket-accept", c.headers[sid])
        self.assertEqual(self.ws.upgrades, before + 1)
        h = self.ws.last_headers
        self.assertEqual(h.get("upgrade"), "websocket")
        self.assertEqual(h.get("sec-websocket-version"), "13")
        self.assertEqual(len(h.get("sec-websocket-key", "")), 24)
        self.assertEqual(h.get("sec-websocket-protocol"), "chat, superchat")
        for i in range(3):
            msg = ("message %d" % i).encode()
            c.send(sid, make_frame(1, msg, mask=True))
            self.assertEqual(c.read_frame(sid), (1, msg))
        c.send(sid, make_frame(8, b"\x03\xe8", mask=True))
        op, payload = c.read_frame(sid)
        self.assertEqual((op, close_code(payload)), (8, 1000))
        # The upstream closes its TCP connection: the stream ends (END_STREAM).
        self.assertTrue(c.wait_end(sid))
        rec = self.gh.wait_access(lambda r: r.get("path") == "/ws" and r.get("status") == 101
                                  and r.get("protocol") == "HTTP/2")
        self.assertIsNotNone(rec)
        self.assertGreater(rec["bytes_in"], 0)
        self.assertGreater(rec["bytes_out"], 0)

    def test_server_speaks_first_and_other_streams_work_alongside(self):
        c = self.client()
        sid = c.open("/ws-hello")
        self.assertEqual(c.status(sid), 200)
        self.assertEqual(c.read_frame(sid), (1, b"hello"))
        # An ordinary request on the same connection while the tunnel is open.
        g = c.get("/echo")
        self.assertEqual(c.status(g), 200)
        self.assertIn(g, c.ended)
        c.send(sid, make_frame(1, b"still here", mask=True))
        self.assertEqual(c.read_frame(sid), (1, b"still here"))
        # END_STREAM from the client ends the tunnel.
        c.send(sid, b"", end=True)
        self.assertTrue(c.wait_end(sid))

    def test_refused_upgrade_is_an_ordinary_response(self):
        c = self.client()
        sid = c.open("/ws-refuse")
        self.assertEqual(c.status(sid), 403)
        c.wait_end(sid)
        self.assertEqual(bytes(c.data.get(sid, b"")), b"no upgrade for you\n")
        self.assertEqual(c.status(c.get("/echo")), 200)

    def test_wrong_accept_is_502(self):
        c = self.client()
        sid = c.open("/ws-badaccept")
        self.assertEqual(c.status(sid), 502)
        c.wait_end(sid)
        self.assertIn(b"upstream_bad_handshake", bytes(c.data.get(sid, b"")))

    def test_other_protocol_is_refused_with_501(self):
        c = self.client()
        sid = c.open("/ws", protocol="connect-udp")
        self.assertEqual(c.status(sid), 501)
        c.wait_end(sid)
        self.assertIn(b"protocol_unsupported", bytes(c.data.get(sid, b"")))

    def test_four_mib_message_under_flow_control(self):
        c = self.client()
        sid = c.open("/ws")
        self.assertEqual(c.status(sid), 200)
        big = os.urandom(4 * 1024 * 1024)
        c.send(sid, make_frame(2, big, mask=True))
        self.assertEqual(c.read_frame(sid), (2, big))
        c.send(sid, make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(c.read_frame(sid)[0], 8)

    def test_frame_over_the_limit_gets_1009(self):
        c = self.client()
        closes = len(self.ws.closes)
        sid = c.open("/small/ws")
        self.assertEqual(c.status(sid), 200)
        c.send(sid, make_frame(2, b"x" * 1000, mask=True))
        self.assertEqual(c.read_frame(sid), (2, b"x" * 1000))
        c.send(sid, make_frame(2, b"x" * 2000, mask=True))
        op, payload = c.read_frame(sid)
        self.assertEqual((op, close_code(payload)), (8, 1009))
        self.assertTrue(c.wait_end(sid))
        # The upstream was told the peer went away.
        self.assertTrue(wait_until(lambda: len(self.ws.closes) > closes))
        self.assertEqual(self.ws.closes[-1], 1001)
        rec = self.gh.wait_access(lambda r: r.get("path") == "/small/ws"
                                  and r.get("error") == "websocket_too_big")
        self.assertIsNotNone(rec)

    def test_message_over_the_limit_from_the_upstream_gets_1009(self):
        c = self.client()
        sid = c.open("/small/ws")
        c.send(sid, make_frame(1, b"big 900", mask=True))  # one frame under the frame limit
        self.assertEqual(c.read_frame(sid), (2, b"b" * 900))
        c.send(sid, make_frame(1, b"big 5000", mask=True))  # the upstream's frame is too big
        op, payload = c.read_frame(sid)
        self.assertEqual((op, close_code(payload)), (8, 1001))
        self.assertTrue(c.wait_end(sid))

    def test_unmasked_client_frame_gets_1002(self):
        c = self.client()
        sid = c.open("/ws")
        c.send(sid, make_frame(1, b"plain", mask=False))
        op, payload = c.read_frame(sid)
        self.assertEqual((op, close_code(payload)), (8, 1002))
        self.assertTrue(c.wait_end(sid))

    def test_idle_timeout_ends_the_stream(self):
        c = self.client()
        sid = c.open("/quiet/ws")
        self.assertEqual(c.status(sid), 200)
        c.send(sid, make_frame(1, b"x", mask=True))
        self.assertEqual(c.read_frame(sid), (1, b"x"))
        self.assertTrue(c.wait_end(sid))  # silence for 1 s ends it
        self.assertEqual(c.status(c.get("/echo")), 200)  # the connection lives on


class WebSocketToH2Upstream(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = H2WsPeer()
        cls.addClassCleanup(cls.peer.stop)
        cls.plain = H2WsPeer(connect_protocol=False)
        cls.addClassCleanup(cls.plain.stop)
        cls.gh = Gatehouse({
            "upstreams": [{"name": "h2ws", "protocol": "http2", "targets": [cls.peer.address]},
                          {"name": "h2plain", "protocol": "http2",
                           "targets": [cls.plain.address]}],
            "routes": [
                {"name": "plain", "match": {"paths": ["/plain"]}, "upstream": "h2plain"},
                {"name": "small", "match": {"paths": ["/small"]}, "upstream": "h2ws",
                 "websocket": {"max_frame_size": "1k"}},
                {"name": "ws", "match": {"paths": ["/"]}, "upstream": "h2ws"},
            ]})
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def http1(self, path, extra=""):
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        s = socket.create_connection(("127.0.0.1", self.gh.proxy_port), timeout=15)
        self.addCleanup(s.close)
        req = upgrade_request(path, key)
        if extra:
            req = req[:-2] + extra.encode() + b"\r\n"
        s.sendall(req)
        f = s.makefile("rb")
        status, headers = read_head(f)
        return s, f, status, headers, key

    def test_http1_client_through_extended_connect(self):
        s, f, status, headers, key = self.http1("/chat", "Sec-WebSocket-Protocol: chat\r\n")
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-accept"), accept_key(key))
        self.assertEqual(headers.get("sec-websocket-protocol"), "chat")
        h = self.peer.requests[-1]
        self.assertEqual(h[":method"], "CONNECT")
        self.assertEqual(h[":protocol"], "websocket")
        self.assertEqual(h[":path"], "/chat")
        self.assertEqual(h.get("sec-websocket-version"), "13")
        self.assertNotIn("sec-websocket-key", h)
        s.sendall(make_frame(1, b"over h2", mask=True))
        self.assertEqual(read_frame(f), (1, b"over h2"))
        big = os.urandom(300_000)
        s.sendall(make_frame(2, big, mask=True))
        self.assertEqual(read_frame(f), (2, big))
        s.sendall(make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(read_frame(f), (8, b"\x03\xe8"))
        self.assertEqual(f.read(1), b"")  # the peer's END_STREAM closes the tunnel
        rec = self.gh.wait_access(lambda r: r.get("path") == "/chat" and r.get("status") == 101)
        self.assertIsNotNone(rec)

    def test_rfc8441_client_through_extended_connect(self):
        sock = socket.create_connection(("127.0.0.1", self.gh.proxy_port), timeout=15)
        self.addCleanup(sock.close)
        c = H2Ws(sock)
        sid = c.open("/h2-to-h2")
        self.assertEqual(c.status(sid), 200)
        c.send(sid, make_frame(1, b"both sides h2", mask=True))
        self.assertEqual(c.read_frame(sid), (1, b"both sides h2"))
        c.send(sid, make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(c.read_frame(sid)[0], 8)
        self.assertTrue(c.wait_end(sid))

    def test_frame_limit_applies(self):
        s, f, status, _, _ = self.http1("/small")
        self.assertEqual(status, 101)
        closes = len(self.peer.closes)
        s.sendall(make_frame(2, b"z" * 2000, mask=True))
        op, payload = read_frame(f)
        self.assertEqual((op, close_code(payload)), (8, 1009))
        self.assertTrue(wait_until(lambda: len(self.peer.closes) > closes))
        self.assertEqual(self.peer.closes[-1], 1001)

    def test_upstream_without_extended_connect_is_501(self):
        s, f, status, _, _ = self.http1("/plain")
        self.assertEqual(status, 501)


@unittest.skipUnless(OPENSSL, "needs the openssl CLI")
class WebSocketOverH2Tls(unittest.TestCase):
    def test_echo_over_alpn_h2(self):
        d = tempfile.mkdtemp(prefix="gatehouse-h2ws-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d, "h2ws")
        crt, key = pki.issue("srv", "/CN=ws.test", dns=["ws.test"])
        ws = WsEcho()
        self.addCleanup(ws.stop)
        gh = Gatehouse({"tls": {"certificates": [{"cert": crt, "key": key}]},
                        "upstreams": [{"name": "ws", "targets": [ws.address]}],
                        "routes": [{"name": "ws", "match": {"paths": ["/"]}, "upstream": "ws"}]},
                       extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        self.addCleanup(gh.cleanup)
        ctx = ssl.create_default_context(cafile=pki.ca_crt)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", gh.proxy_tls_port), timeout=15)
        s = ctx.wrap_socket(raw, server_hostname="ws.test")
        self.addCleanup(s.close)
        self.assertEqual(s.selected_alpn_protocol(), "h2")
        c = H2Ws(s, authority="ws.test", scheme="https")
        sid = c.open("/ws-hello")
        self.assertEqual(c.status(sid), 200)
        self.assertEqual(c.read_frame(sid), (1, b"hello"))
        big = os.urandom(300_000)
        c.send(sid, make_frame(2, big, mask=True))
        self.assertEqual(c.read_frame(sid), (2, big))
        c.send(sid, make_frame(8, b"\x03\xe8", mask=True))
        self.assertEqual(c.read_frame(sid)[0], 8)
        self.assertTrue(c.wait_end(sid))
        rec = gh.wait_access(lambda r: r.get("status") == 101 and r.get("scheme") == "https")
        self.assertIsNotNone(rec)
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
