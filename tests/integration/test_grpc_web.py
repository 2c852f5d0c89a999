#!/usr/bin/env python3
"""gRPC-Web through the gateway to a gRPC upstream (`grpc_web: true` on the
route): a gRPC-Web client written here (http.client over HTTP/1.1, curl
over h2c) -> gatehouse -> grpcio server (grpc_peer.py). Binary and text
modes, unary and server streaming (each message flushed as it comes),
statuses in the trailer frame or trailers-only headers, malformed frames
and base64 answered with a precise grpc-message, gateway errors as
gRPC-Web answers, CORS preflights."""

import base64
import http.client
import os
import struct
import subprocess
import sys
import tempfile
import unittest
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grpc_peer import EchoPeer, reexec_with_system_grpc  # noqa: E402

reexec_with_system_grpc()

from harness import Gatehouse, simple_config  # noqa: E402

ORIGIN = "https://app.example"


def frame(msg, flag=0):
    return bytes([flag]) + struct.pack(">I", len(msg)) + msg


def b64decode_chunks(text):
    """Text-mode bodies may hold several padded base64 pieces back to back;
    decode them 4 characters at a time as a gRPC-Web client does."""
    out = b""
    for i in range(0, len(text), 4):
        out += base64.b64decode(text[i:i + 4])
    return out


def parse_frames(body):
    """[(flag, payload)] of a binary gRPC-Web body; fails on a cut frame."""
    frames = []
    at = 0
    while at < len(body):
        assert len(body) - at >= 5, "cut frame header at %d" % at
        flag = body[at]
        (n,) = struct.unpack(">I", body[at + 1:at + 5])
        assert len(body) - at - 5 >= n, "cut frame at %d" % at
        frames.append((flag, body[at + 5:at + 5 + n]))
        at += 5 + n
    return frames


def trailer_fields(payload):
    out = {}
    for line in payload.decode().split("\r\n"):
        if line:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


class Answer:
    def __init__(self, status, headers, body, text):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = body
        self.body = b64decode_chunks(body) if text and body else body
        self.frames = parse_frames(self.body)
        self.messages = [p for f, p in self.frames if not f & 0x80]
        trailers = [p for f, p in self.frames if f & 0x80]
        assert len(trailers) <= 1, "more than one trailer frame"
        if trailers:
            assert self.frames[-1][0] & 0x80, "trailer frame is not the last"
            self.trailers = trailer_fields(trailers[0])
        else:
            self.trailers = {}

    def grpc_status(self):
        """From the trailer frame, else from a trailers-only head."""
        v = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return None if v is None else int(v)

    def grpc_message(self):
        v = self.trailers.get("grpc-message", self.headers.get("grpc-message", ""))
        return unquote(v)


class GrpcWebCase(unittest.TestCase):
    routes = None

    @classmethod
    def setUpClass(cls):
        cls.peer = EchoPeer()
        routes = cls.routes or [{"name": "web", "match": {"paths": ["/"]}, "upstream": "svc",
                                 "grpc_web": True}]
        cls.gh = Gatehouse(simple_config([cls.peer.address], routes=routes,
                                         upstream_extra={"protocol": "http2"}))

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop()
        cls.gh.cleanup()
        cls.peer.stop()

    def call(self, method, body, text=False, accept=None, headers=None, conn=None,
             content_type=None):
        ct = content_type or ("application/grpc-web-text+proto" if text
                              else "application/grpc-web+proto")
        h = {"content-type": ct, "x-grpc-web": "1", "x-user-agent": "grpc-web-test/1"}
        if accept:
            h["accept"] = accept
        h.update(headers or {})
        own = conn is None
        c = conn or http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("POST", "/test.Echo/" + method, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            resp_text = "grpc-web-text" in (r.getheader("content-type") or "")
            return Answer(r.status, r.getheaders(), data, resp_text)
        finally:
            if own:
                c.close()


class TestGrpcWeb(GrpcWebCase):
    def test_unary_binary(self):
        # A request id of its own: other tests' calls to the same path (CORS
        # preflights with no grpc_status among them) may be logged first by
        # another worker.
        a = self.call("Unary", frame(b"hello"), headers={"x-request-id": "web-unary-binary"})
        self.assertEqual(a.status, 200)
        self.assertEqual(a.headers["content-type"], "application/grpc-web+proto")
        self.assertEqual(a.messages, [b"echo:hello"])
        self.assertEqual(a.grpc_status(), 0)
        self.assertEqual(a.trailers.get("x-trailer"), "t1")
        # The status is in the body: no HTTP trailers, no content-length guess.
        self.assertNotIn("content-length", a.headers)
        rec = self.gh.wait_access(lambda r: r.get("request_id") == "web-unary-binary")
        self.assertEqual(rec["grpc_status"], 0)

    def test_plain_grpc_web_content_type(self):
        a = self.call("Unary", frame(b"x"), content_type="application/grpc-web")
        self.assertEqual(a.headers["content-type"], "application/grpc-web")
        self.assertEqual(a.messages, [b"echo:x"])

    def test_upstream_sees_grpc(self):
        import json
        a = self.call("Headers", frame(b""), accept="application/grpc-web")
        md = json.loads(a.messages[0])
        self.assertEqual(md.get("x-grpc-web"), "1")
        self.assertNotIn("accept", md)
        self.assertEqual(a.grpc_status(), 0)

    def test_unary_text(self):
        body = base64.b64encode(frame(b"hello text"))
        a = self.call("Unary", body, text=True, accept="application/grpc-web-text")
        self.assertEqual(a.headers["content-type"], "application/grpc-web-text+proto")
        self.assertRegex(a.raw, rb"^[A-Za-z0-9+/=]+$")
        self.assertEqual(a.messages, [b"echo:hello text"])
        self.assertEqual(a.grpc_status(), 0)

    def test_text_request_in_padded_pieces(self):
        # A client that flushed twice: two padded base64 pieces.
        whole = frame(b"ab")
        body = base64.b64encode(whole[:4]) + base64.b64encode(whole[4:])
        a = self.call("Unary", body, text=True)
        self.assertEqual(a.messages, [b"echo:ab"])

    def test_binary_request_text_answer_by_accept(self):
        a = self.call("Unary", frame(b"q"), accept="application/grpc-web-text")
        self.assertEqual(a.headers["content-type"], "application/grpc-web-text+proto")
        self.assertEqual(a.messages, [b"echo:q"])

    def test_large_message(self):
        msg = bytes(range(256)) * 4096  # 1 MiB, past the HTTP/2 windows
        a = self.call("Unary", base64.b64encode(frame(msg)), text=True)
        self.assertEqual(a.messages, [b"echo:" + msg])

    def test_server_streaming(self):
        for text in (False, True):
            body = frame(b"100")
            a = self.call("ServerStream", base64.b64encode(body) if text else body, text=text)
            self.assertEqual(a.messages, [b"msg-%d" % i for i in range(100)])
            self.assertEqual(a.grpc_status(), 0)
        a = self.call("ServerStream", frame(b"0"))
        self.assertEqual(a.messages, [])
        self.assertEqual(a.grpc_status(), 0)

    def test_stream_messages_flushed_as_they_come(self):
        # Each message is only produced after the test sees the previous one:
        # a gateway that buffered the response would never deliver it.
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("POST", "/test.Echo/Ticks", body=base64.b64encode(frame(b"3:web")),
                      headers={"content-type": "application/grpc-web-text"})
            # The server sends its headers with the first message.
            self.peer.tick("web")
            r = c.getresponse()
            self.assertEqual(r.getheader("content-type"), "application/grpc-web-text")
            got = b""
            for i in range(3):
                want = len(frame(b"tick-0")) * (i + 1)
                while len(b64decode_chunks(got[:len(got) // 4 * 4])) < want:
                    piece = r.read1(65536)
                    self.assertTrue(piece, "stream ended early")
                    got += piece
                if i < 2:
                    self.peer.tick("web")
            rest = r.read()
            a = Answer(200, r.getheaders(), got + rest, True)
            self.assertEqual(a.messages, [b"tick-0", b"tick-1", b"tick-2"])
            self.assertEqual(a.grpc_status(), 0)
        finally:
            c.close()

    def test_error_status(self):
        a = self.call("Fail", frame(b""))
        self.assertEqual(a.status, 200)
        self.assertEqual(a.grpc_status(), 5)
        self.assertEqual(a.grpc_message(), "no such thing")
        why = a.trailers.get("x-why", a.headers.get("x-why"))
        self.assertEqual(why, "because")
        self.assertTrue(a.headers["content-type"].startswith("application/grpc-web"))
        rec = self.gh.wait_access(lambda r: r.get("path") == "/test.Echo/Fail")
        self.assertEqual(rec["grpc_status"], 5)

    def test_malformed_frames(self):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            cases = [
                (frame(b"hello")[:7], False, "declares 5 bytes but 2 follow"),
                (frame(b"x") + b"\x00\x00", False, "ends inside a frame header at offset 6"),
                (frame(b"grpc-status: 0\r\n", flag=0x80), False, "is a trailer frame"),
                (frame(b"x", flag=0x04), False, "unknown flags 0x04"),
                (b"AAAA*AAA", True, "not base64 at offset 4"),
                (b"AAAAA", True, "not a multiple of 4"),
                (base64.b64encode(frame(b"abc"))[:-4], True, "declares 3 bytes"),
            ]
            for body, text, want in cases:
                a = self.call("Unary", body, text=text, conn=c)
                self.assertEqual(a.status, 200, want)
                self.assertEqual(a.grpc_status(), 13, want)
                self.assertIn(want, a.grpc_message())
                self.assertEqual(a.frames, [])
            # The connection stayed in step: a good call on it still works.
            a = self.call("Unary", frame(b"after"), conn=c)
            self.assertEqual(a.messages, [b"echo:after"])
        finally:
            c.close()
        self.assertEqual(self.peer.calls.get("Unary", 0) >= 1, True)
        self.assertTrue(self.gh.alive())

    def test_cors_preflight(self):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("OPTIONS", "/test.Echo/Unary", headers={
                "origin": ORIGIN, "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-grpc-web,x-custom-md"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 204)
            self.assertEqual(r.getheader("access-control-allow-origin"), ORIGIN)
            allow = r.getheader("access-control-allow-headers")
            for h in ("x-grpc-web", "x-user-agent", "grpc-timeout", "x-custom-md"):
                self.assertIn(h, allow)
            self.assertIn("POST", r.getheader("access-control-allow-methods"))
            self.assertIn("grpc-status", r.getheader("access-control-expose-headers"))
        finally:
            c.close()
        a = self.call("Unary", frame(b"c"), headers={"origin": ORIGIN})
        self.assertEqual(a.headers.get("access-control-allow-origin"), ORIGIN)
        self.assertIn("grpc-message", a.headers.get("access-control-expose-headers", ""))

    def test_http2_with_curl(self):
        tmp = tempfile.mkdtemp(prefix="grpcweb-")
        req = os.path.join(tmp, "req")
        with open(req, "wb") as f:
            f.write(frame(b"over h2"))
        out = os.path.join(tmp, "out")
        hdr = os.path.join(tmp, "hdr")
        subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "30",
                        "-H", "content-type: application/grpc-web+proto", "-H", "x-grpc-web: 1",
                        "--data-binary", "@" + req, "-o", out, "-D", hdr,
                        "http://127.0.0.1:%d/test.Echo/Unary" % self.gh.proxy_port], check=True)
        head = open(hdr, "rb").read().decode()
        self.assertTrue(head.startswith("HTTP/2 200"), head)
        self.assertIn("content-type: application/grpc-web+proto", head)
        frames = parse_frames(open(out, "rb").read())
        self.assertEqual(frames[0], (0, b"echo:over h2"))
        self.assertEqual(frames[-1][0], 0x80)
        self.assertEqual(trailer_fields(frames[-1][1])["grpc-status"], "0")


class TestGrpcWebGatewayErrors(GrpcWebCase):
    routes = [
        {"name": "web", "match": {"paths": ["/"]}, "upstream": "svc", "grpc_web": True,
         "policies": [{"name": "key-auth", "config": {}}]},
    ]

    @classmethod
    def setUpClass(cls):
        cls.peer = EchoPeer()
        cfg = simple_config([cls.peer.address], routes=cls.routes,
                            upstream_extra={"protocol": "http2"})
        cfg["consumers"] = [{"name": "alice",
                             "credentials": [{"type": "key-auth", "key": "k1"}]}]
        cls.gh = Gatehouse(cfg)

    def test_policy_refusal_is_grpc_web(self):
        a = self.call("Unary", frame(b"x"), text=True, headers={"origin": ORIGIN})
        self.assertEqual(a.status, 200)
        self.assertEqual(a.headers["content-type"], "application/grpc-web-text+proto")
        self.assertEqual(a.grpc_status(), 16)
        self.assertEqual(a.headers.get("access-control-allow-origin"), ORIGIN)
        ok = self.call("Unary", frame(b"x"), headers={"apikey": "k1"})
        self.assertEqual(ok.messages, [b"echo:x"])

    def test_preflight_needs_no_key(self):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("OPTIONS", "/test.Echo/Unary", headers={
                "origin": ORIGIN, "access-control-request-method": "POST"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 204)
        finally:
            c.close()


class TestGrpcWebUpstreamDown(unittest.TestCase):
    def test_unavailable(self):
        from harness import free_port
        gh = Gatehouse(simple_config(["127.0.0.1:%d" % free_port()], routes=[
            {"name": "web", "match": {"paths": ["/"]}, "upstream": "svc", "grpc_web": True}],
            upstream_extra={"protocol": "http2"}))
        try:
            c = http.client.HTTPConnection("127.0.0.1", gh.proxy_port, timeout=20)
            c.request("POST", "/test.Echo/Unary", body=frame(b"x"),
                      headers={"content-type": "application/grpc-web"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("content-type"), "application/grpc-web")
            self.assertEqual(r.getheader("grpc-status"), "14")
            c.close()
        finally:
            gh.stop()
            gh.cleanup()


if __name__ == "__main__":
    unittest.main()
