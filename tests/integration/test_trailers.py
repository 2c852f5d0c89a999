#!/usr/bin/env python3
"""Trailers through the gateway, both directions, HTTP/1.1 and HTTP/2 clients:
upstream chunked trailers reach a client that sent `TE: trailers` (as an
HTTP/2 trailing HEADERS frame or an HTTP/1.1 trailer section) and nobody else;
client trailers (HTTP/1.1 chunked or HTTP/2 trailing HEADERS) reach the
upstream as chunked trailers; fields RFC 9110 6.5.1 forbids in trailers are
dropped both ways. The upstream is a small raw HTTP/1.1 peer defined here (the
shared test upstream does not speak trailers); nghttp is the HTTP/2 client."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, RawClient  # noqa: E402

NGHTTP = shutil.which("nghttp")

UPSTREAM_TRAILERS = (b"grpc-status: 0\r\ngrpc-message: ok\r\nset-cookie: s=1\r\n"
                     b"content-length: 99\r\n")


class TrailerPeer:
    """HTTP/1.1 upstream: /trailers answers a chunked body with trailers;
    anything else answers JSON with the request's body and trailer fields."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.requests = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                method, target, _ = line.decode().split(" ", 2)
                headers = []
                while True:
                    h = f.readline()
                    if h in (b"\r\n", b""):
                        break
                    n, _, v = h.decode().partition(":")
                    headers.append((n.strip(), v.strip()))
                lower = {n.lower(): v for n, v in headers}
                body, trailers = b"", []
                if lower.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size = int(f.readline().split(b";")[0], 16)
                        if size == 0:
                            break
                        body += f.read(size)
                        f.readline()
                    while True:
                        t = f.readline()
                        if t in (b"\r\n", b""):
                            break
                        n, _, v = t.decode().partition(":")
                        trailers.append([n.strip(), v.strip()])
                elif "content-length" in lower:
                    body = f.read(int(lower["content-length"]))
                self.requests.append({"target": target, "headers": headers, "trailers": trailers})
                if target.startswith("/trailers"):
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\n"
                              b"Transfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n"
                              b"5\r\nhello\r\n0\r\n" + UPSTREAM_TRAILERS + b"\r\n")
                else:
                    doc = json.dumps({"method": method, "body": body.decode("latin-1"),
                                      "trailers": trailers, "headers": headers}).encode()
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % len(doc) + doc)
        except (OSError, ValueError):
            return
        finally:
            c.close()


CONFIG = """\
upstreams:
  - name: peer
    targets: ["{addr}"]
routes:
  - name: all
    match: {{paths: ["/"]}}
    upstream: peer
"""


def nghttp(port, path, *args):
    r = subprocess.run([NGHTTP, "-v", *args, "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("nghttp failed: %r %s" % (r.returncode, r.stderr))
    return r.stdout


def received_after_data(out):
    """Header fields nghttp received in the HEADERS frame that followed DATA
    (the trailer section), as {name: value}."""
    fields, in_trailer = {}, False
    for line in out.splitlines():
        s = line.strip()
        if "recv DATA frame" in s:
            in_trailer = True
            continue
        if in_trailer and "recv (stream_id=" in s and ") " in s:
            rest = s.split(") ", 1)[1]
            name, _, value = rest.partition(": ")
            fields[name] = value
    return fields


class Trailers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = TrailerPeer()
        cls.addClassCleanup(cls.peer.stop)
        cls.gh = Gatehouse(CONFIG.format(addr=cls.peer.address))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def http1(self, request):
        with RawClient(self.port) as c:
            c.send(request)
            data = b""
            while not data.endswith(b"\r\n\r\n") or b"\r\n0\r\n" not in data:
                chunk = c.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data

    # ------------------------------------------------------ upstream -> client

    @unittest.skipUnless(NGHTTP, "needs nghttp (nghttp2-client)")
    def test_upstream_trailers_reach_an_http2_client_as_trailing_headers(self):
        out = nghttp(self.port, "/trailers", "-H", "te: trailers")
        self.assertIn("hello", out)
        t = received_after_data(out)
        self.assertEqual(t.get("grpc-status"), "0", out)
        self.assertEqual(t.get("grpc-message"), "ok")
        self.assertNotIn("set-cookie", t)       # forbidden in trailers
        self.assertNotIn("content-length", t)

    def test_upstream_trailers_reach_an_http11_client_that_accepts_them(self):
        data = self.http1(b"GET /trailers HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n"
                          b"Connection: TE, close\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
        self.assertIn(b"5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n", data)
        self.assertNotIn(b"s=1", data)

    def test_trailers_are_dropped_for_clients_without_te(self):
        data = self.http1(b"GET /trailers HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertIn(b"5\r\nhello\r\n0\r\n\r\n", data)
        self.assertNotIn(b"grpc-status", data)

    # ------------------------------------------------------ client -> upstream

    def test_http11_request_trailers_go_upstream(self):
        body = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\nx-checksum: 42\r\n"
                b"authorization: secret\r\n\r\n")
        with RawClient(self.port) as c:
            c.send(body)
            r = c.read_response()
        doc = r.json()
        self.assertEqual(doc["body"], "abc")
        self.assertEqual(doc["trailers"], [["x-checksum", "42"]])

    @unittest.skipUnless(NGHTTP, "needs nghttp (nghttp2-client)")
    def test_http2_request_trailers_go_upstream(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"streamed body")
            f.flush()
            # Without a content-length (as gRPC clients send), the body goes
            # upstream chunked, which can carry the trailers.
            out = nghttp(self.port, "/echo", "-d", f.name, "--no-content-length",
                         "--trailer", "x-checksum: 42", "--trailer", "host: evil.example")
        doc = json.loads(out[out.index("{"):out.rindex("}") + 1])
        self.assertEqual(doc["body"], "streamed body")
        self.assertEqual(doc["trailers"], [["x-checksum", "42"]])
        names = {n.lower(): v for n, v in doc["headers"]}
        self.assertEqual(names.get("transfer-encoding"), "chunked")


if __name__ == "__main__":
    unittest.main()
