#!/usr/bin/env python3
"""Downstream HTTP/2 (h2c with prior knowledge) on the plain proxy listener:
curl and h2load as real clients, routing and policies on HTTP/2 streams, the
access log, and the flood and smuggling defences driven by a raw frame client."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h2raw  # noqa: E402
from h2raw import RawH2, frame  # noqa: E402
from harness import Gatehouse, check_problem  # noqa: E402
from upstream import Upstream, pattern_sha256  # noqa: E402

CONFIG = """\
http2: {{max_concurrent_streams: 8, max_header_list_size: 8k}}
upstreams:
  - name: users
    targets: [{{address: "{a}", weight: 1}}]
routes:
  - name: private
    match: {{paths: ["/private"]}}
    upstream: users
    policies: [{{name: key-auth}}]
  - name: all
    match: {{paths: ["/"]}}
    upstream: users
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "alice-key"}}]}}
"""


def curl(port, path, *args):
    """curl --http2-prior-knowledge; returns (http_version, status, body bytes, headers text)."""
    tmp = tempfile.mkdtemp(prefix="h2curl-")
    try:
        body_path = os.path.join(tmp, "body")
        head_path = os.path.join(tmp, "head")
        r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "60",
                            "-o", body_path, "-D", head_path,
                            "-w", "%{http_version} %{http_code}", *args,
                            "http://127.0.0.1:%d%s" % (port, path)],
                           capture_output=True, timeout=90)
        if r.returncode != 0:
            raise AssertionError("curl failed: %r %r" % (r.returncode, r.stderr))
        version, status = r.stdout.decode().split()
        with open(body_path, "rb") as f:
            body = f.read()
        with open(head_path) as f:
            head = f.read()
        return version, int(status), body, head
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Http2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(CONFIG.format(a=cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # ------------------------------------------------------------ real clients

    def test_get(self):
        version, status, body, head = curl(self.port, "/echo?x=1", "-H", "X-Trace: t1")
        self.assertEqual(version, "2")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(doc["path"], "/echo?x=1")
        self.assertEqual(doc["version"], "HTTP/1.1")  # the upstream side stays HTTP/1.1
        names = {n.lower(): v for n, v in doc["headers"]}
        # :authority became the Host the pipeline routed on (and forwards as such).
        self.assertEqual(names["x-forwarded-host"], "127.0.0.1:%d" % self.port)
        self.assertEqual(names["x-trace"], "t1")
        self.assertIn("x-request-id:", head.lower())

    def test_post_with_length(self):
        payload = os.urandom(300_000)
        with tempfile.NamedTemporaryFile() as f:
            f.write(payload)
            f.flush()
            _, status, body, _ = curl(self.port, "/sink", "--data-binary", "@" + f.name)
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(doc["length"], len(payload))
        self.assertEqual(doc["sha256"], hashlib.sha256(payload).hexdigest())

    def test_post_without_length_is_chunked_upstream(self):
        payload = b"streamed without a length " * 1000
        r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-T", "-", "-X", "POST",
                            "http://127.0.0.1:%d/echo" % self.port],
                           input=payload, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["body_length"], len(payload))
        names = {n.lower(): v for n, v in doc["headers"]}
        self.assertEqual(names.get("transfer-encoding"), "chunked")

    def test_large_download_streams(self):
        n = 32 * 1024 * 1024
        for chunked in ("0", "1"):
            _, status, body, _ = curl(self.port, "/bytes?n=%d&chunked=%s" % (n, chunked))
            self.assertEqual(status, 200)
            self.assertEqual(len(body), n)
            self.assertEqual(hashlib.sha256(body).hexdigest(), pattern_sha256(n))

    def test_many_concurrent_streams_with_h2load(self):
        r = subprocess.run(["h2load", "-n", "600", "-c", "3", "-m", "8",
                            "http://127.0.0.1:%d/echo" % self.port],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("600 succeeded", r.stdout, r.stdout)
        self.assertIn("status codes: 600 2xx", r.stdout, r.stdout)

    def test_policies_apply_on_http2(self):
        _, status, body, head = curl(self.port, "/private")
        self.assertEqual(status, 401)
        doc = json.loads(body)
        self.assertEqual(doc["code"], "missing_credentials")
        self.assertIn("www-authenticate:", head.lower())
        _, status, body, _ = curl(self.port, "/private", "-H", "apikey: alice-key")
        self.assertEqual(status, 200)

    def test_access_log_says_http2(self):
        curl(self.port, "/echo?log=h2")
        rec = self.gh.wait_access(lambda r: r.get("protocol") == "HTTP/2" and
                                  r.get("path") == "/echo")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["route"], "all")

    def test_http1_still_served_on_the_same_port(self):
        r = self.gh.request("GET", "/echo")
        self.assertEqual(r.status, 200)

    # --------------------------------------------------------- raw frames

    def raw(self):
        c = RawH2(self.port)
        self.addCleanup(c.close)
        c.start()
        return c

    def test_smuggling_shaped_headers_are_reset(self):
        before = self.up.count()
        cases = [("transfer-encoding", "chunked"), ("connection", "close"),
                 ("te", "gzip"), ("x-a", "1\r\nx-injected: 1"), ("Upper", "1")]
        c = self.raw()
        sid = 1
        for name, value in cases:
            c.send(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, sid,
                         h2raw.request_block(path="/echo", extra=[(name, value)])))
            f = c.frames_until(lambda f, s=sid: f.type in (h2raw.RST_STREAM, h2raw.HEADERS,
                                                           h2raw.GOAWAY) and f.stream in (s, 0))
            self.assertIsNotNone(f, name)
            self.assertEqual(f.type, h2raw.RST_STREAM, (name, f))
            self.assertEqual(f.error_code(), h2raw.PROTOCOL_ERROR, name)
            sid += 2
        self.assertEqual(self.up.count(), before)  # nothing reached the upstream

    def test_oversized_header_list_gets_431(self):
        c = self.raw()
        block = h2raw.request_block(path="/echo", extra=[("x-big", "v" * 12000)])
        # Split over HEADERS + CONTINUATION like a real client would.
        c.send(frame(h2raw.HEADERS, h2raw.END_STREAM, 1, block[:8000]) +
               frame(h2raw.CONTINUATION, h2raw.END_HEADERS, 1, block[8000:]))
        f = c.frames_until(lambda f: f.type == h2raw.HEADERS and f.stream == 1)
        self.assertIsNotNone(f)
        self.assertEqual(h2raw.first_status(f.payload), "431")
        # The body is the same problem+json the HTTP/1.1 pipeline answers with.
        body = b""
        while True:
            d = c.frames_until(lambda f: f.type == h2raw.DATA and f.stream == 1)
            self.assertIsNotNone(d)
            body += d.payload
            if d.flags & h2raw.END_STREAM:
                break
        doc = json.loads(body)
        self.assertEqual(doc["status"], 431, doc)
        self.assertEqual(doc["code"], "headers_too_large", doc)
        self.assertEqual(doc["title"], "Request Header Fields Too Large", doc)
        self.assertEqual(doc["type"], "urn:gatehouse:problem:headers_too_large", doc)
        self.assertIn("exceeds", doc["detail"])
        # The connection is still usable.
        c.send(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 3,
                     h2raw.request_block(path="/echo")))
        f = c.frames_until(lambda f: f.type == h2raw.HEADERS and f.stream == 3)
        self.assertEqual(h2raw.first_status(f.payload), "200")

    def test_rapid_reset_gets_goaway_enhance_your_calm(self):
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
        self.assertIsNone(c.frames_until(lambda f: False))  # then the connection closes

    def test_ping_flood_gets_goaway(self):
        c = self.raw()
        c.send(b"".join(frame(h2raw.PING, 0, 0, b"12345678") for _ in range(3000)))
        f = c.frames_until(lambda f: f.type == h2raw.GOAWAY)
        self.assertIsNotNone(f)
        self.assertEqual(f.error_code(), h2raw.ENHANCE_YOUR_CALM)

    def test_continuation_flood_ends_the_connection(self):
        c = self.raw()
        out = frame(h2raw.HEADERS, h2raw.END_STREAM, 1, h2raw.request_block(path="/echo"))
        out += b"".join(frame(h2raw.CONTINUATION, 0, 1, h2raw.hpack_literal("x-c", "1"))
                        for _ in range(100))
        c.send(out)
        f = c.frames_until(lambda f: f.type == h2raw.GOAWAY)
        self.assertIsNotNone(f)
        self.assertNotEqual(f.error_code(), h2raw.NO_ERROR)

    def test_settings_with_too_many_entries_end_the_connection(self):
        c = RawH2(self.port)
        self.addCleanup(c.close)
        c.start(settings=b"\x00\x03\x00\x00\x00\x64" * 100)
        f = c.frames_until(lambda f: f.type == h2raw.GOAWAY)
        self.assertIsNotNone(f)
        self.assertEqual(f.error_code(), h2raw.ENHANCE_YOUR_CALM)

    def test_streams_beyond_the_limit_are_refused(self):
        c = self.raw()
        # Ten slow requests at once before acknowledging our SETTINGS (limit 8).
        c.send(b"".join(frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1 + 2 * i,
                              h2raw.request_block(path="/slow?ms=300")) for i in range(10)))
        refused, ok = 0, 0
        while refused + ok < 10:
            f = c.read_frame()
            self.assertIsNotNone(f)
            if f.type == h2raw.RST_STREAM and f.error_code() == h2raw.REFUSED_STREAM:
                refused += 1
            elif f.type == h2raw.HEADERS:
                ok += 1
        self.assertEqual(refused, 2)
        self.assertEqual(ok, 8)


class Http2Disabled(unittest.TestCase):
    def test_preface_is_not_http2_when_disabled(self):
        up = Upstream("B")
        self.addCleanup(up.stop)
        gh = Gatehouse("http2: {enabled: false}\n" + CONFIG.split("\n", 1)[1].format(a=up.address))
        self.addCleanup(gh.cleanup)
        r = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10",
                            "http://127.0.0.1:%d/echo" % gh.proxy_port],
                           capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)  # the HTTP/1.1 parser answered, not HTTP/2
        self.assertEqual(gh.request("GET", "/echo").status, 200)
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
