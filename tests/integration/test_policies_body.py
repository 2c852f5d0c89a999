#!/usr/bin/env python3
"""JSON body transforms (request-transformer / response-transformer `body`) and
per-route stream timeouts (routes[].timeouts.stream_idle / stream_total)
through the real binary, against a small raw-socket peer defined here that
shows the exact request body it got and frames its answers on demand."""

import gzip
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h2raw  # noqa: E402
from body_peer import DOC, DOC_TEXT, Peer  # noqa: E402
from harness import ConnectionClosed, Gatehouse, wait_until  # noqa: E402

CONFIG = """\
upstreams:
  - name: peer
    targets: [{{address: "{peer}"}}]
routes:
  - name: req
    upstream: peer
    match: {{paths: ["/echo"]}}
    policies:
      - name: request-transformer
        config:
          max_body: 1k
          body:
            remove: [password, items.*.internal]
            rename: {{user.mail: user.email}}
            set: {{owner: "$(header.x-owner)", meta.source: gateway, meta.version: 2}}
            add: {{meta.flag: true}}
  - name: resp
    upstream: peer
    match: {{paths: ["/doc"]}}
    policies:
      - name: response-transformer
        config:
          max_body: 2k
          headers: {{set: {{X-Edited: "yes"}}}}
          body:
            remove: [secret]
            rename: {{user.mail: user.email}}
            set: {{items.0.internal: null, via: "$(route.name)"}}
  - name: resp-reject
    upstream: peer
    match: {{paths: ["/strict"]}}
    rewrite: {{strip_prefix: true}}
    policies:
      - name: response-transformer
        config: {{max_body: 2k, on_oversize: reject, body: {{remove: [secret]}}}}
  - name: stream-idle
    upstream: peer
    match: {{paths: ["/idle"]}}
    rewrite: {{strip_prefix: true}}
    timeouts: {{stream_idle: 400ms}}
  - name: stream-total
    upstream: peer
    match: {{paths: ["/total"]}}
    rewrite: {{strip_prefix: true}}
    timeouts: {{stream_total: 700ms}}
  - name: stream-free
    upstream: peer
    match: {{paths: ["/sse"]}}
{extra}"""


def chunked(body, size=5):
    out = b""
    for i in range(0, len(body), size):
        out += b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
    return out + b"0\r\n\r\n"


class PoliciesBody(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = Peer()
        cls.addClassCleanup(cls.peer.stop)
        cls.gh = Gatehouse(CONFIG.format(peer=cls.peer.address, extra=""))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def post(self, body, ctype="application/json", headers=(), c=None, te=False):
        h = [("Content-Type", ctype)] + list(headers)
        if te:
            h.append(("Transfer-Encoding", "chunked"))
            body = chunked(body)
        if c is not None:
            return c.request("POST", "/echo", headers=h, body=body)
        with self.gh.raw() as c2:
            return c2.request("POST", "/echo", headers=h, body=body)

    def check_problem(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        doc = r.json()
        self.assertEqual(doc["code"], code)
        return doc

    # ------------------------------------------------------------- requests

    def test_request_body_edited_and_reframed(self):
        sent = {"password": "pw", "user": {"mail": "a@b"}, "owner": "mallory",
                "items": [{"id": 1, "internal": 1}, {"id": 2, "internal": 2}], "price": 1.10}
        for te in (False, True):
            with self.subTest(chunked=te), self.gh.raw() as c:
                # Sent as text with "1.10": Python would print 1.1.
                text = json.dumps(sent).replace('"price": 1.1', '"price": 1.10')
                r = self.post(text.encode(), headers=[("X-Owner", "alice")], c=c, te=te)
                self.assertEqual(r.status, 200, r)
                got = r.json()
                body = got["body"]
                self.assertEqual(json.loads(body), {
                    "user": {"email": "a@b"}, "owner": "alice",
                    "items": [{"id": 1}, {"id": 2}], "price": 1.10,
                    "meta": {"source": "gateway", "version": 2, "flag": True}})
                self.assertIn('"price":1.10', body)  # numbers keep their text
                cl = [v for k, v in got["headers"] if k.lower() == "content-length"]
                self.assertEqual(cl, [str(len(body.encode()))])
                # The connection serves the next request.
                r2 = self.post(b'{"a":1}', c=c)
                self.assertEqual(json.loads(r2.json()["body"])["a"], 1)

    def test_non_json_request_untouched(self):
        raw = b'{"password": "pw"}'
        r = self.post(raw, ctype="text/plain")
        self.assertEqual(r.json()["body"], raw.decode())

    def test_invalid_json_request_is_400_with_field(self):
        r = self.post(b'{"password": ')
        doc = self.check_problem(r, 400, "invalid_json_body")
        self.assertEqual(doc["field"], "body")
        self.assertIn("at byte", doc["detail"])

    def test_request_over_max_body_is_413(self):
        big = json.dumps({"pad": "x" * 2000}).encode()
        self.check_problem(self.post(big), 413, "body_too_large")
        self.check_problem(self.post(big, te=True), 413, "body_too_large")

    # ------------------------------------------------------------ responses

    def get(self, path, c=None):
        if c is not None:
            return c.request("GET", path)
        with self.gh.raw() as c2:
            return c2.request("GET", path)

    def test_response_body_edited_in_every_framing(self):
        want = {"id": 1, "price": 19.99, "user": {"email": "bob@example.com"},
                "items": [{"id": 1, "internal": None}], "via": "resp"}
        with self.gh.raw() as c:
            for mode in ("cl", "chunked", "close"):
                with self.subTest(mode=mode):
                    r = self.get("/doc?mode=" + mode, c=None if mode == "close" else c)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.framing, "length")
                    self.assertEqual(json.loads(r.body), want)
                    self.assertEqual(int(r.header("content-length")), len(r.body))
                    self.assertEqual(r.header("x-edited"), "yes")
                    self.assertIsNone(r.header("etag"))  # the bytes changed

    def test_gzip_and_non_json_responses_pass_untouched(self):
        r = self.get("/doc?mode=gzip")
        self.assertEqual(json.loads(gzip.decompress(r.body)), DOC)
        r = self.get("/doc?mode=text")
        self.assertEqual(r.body, DOC_TEXT.encode())

    def test_invalid_json_response_passes_and_is_logged(self):
        r = self.get("/doc?mode=bad")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b'{"secret": ')
        self.assertTrue(self.gh.wait_log(lambda rec: "not transformed" in rec.get("msg", "")))

    def test_oversize_response_passes_or_is_502(self):
        r = self.get("/doc?mode=big")
        self.assertEqual(r.status, 200)
        self.assertIn(b'"secret"', r.body)  # untouched
        self.assertEqual(r.header("etag"), '"v1"')
        self.check_problem(self.get("/strict/doc?mode=big"), 502, "response_body_too_large")
        r = self.get("/strict/doc?mode=cl")
        self.assertNotIn(b"secret", r.body)

    # ------------------------------------------------------- stream timeouts

    def stream(self, path):
        """Reads an SSE response until it ends or is cut; returns (events, complete)."""
        events = []
        with self.gh.raw(timeout=30) as c:
            c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            r = c.read_head()
            self.assertEqual(r.status, 200)
            try:
                while True:
                    size = int(c._line(), 16)
                    if size == 0:
                        c._line()
                        return events, True
                    data = b""
                    while len(data) < size + 2:
                        data += c._take(size + 2 - len(data))
                    events.append(data[:size])
            except ConnectionClosed:
                return events, False

    def test_stream_idle_cuts_a_quiet_upstream(self):
        events, complete = self.stream("/idle/sse?n=2&gap_ms=10&hold_ms=5000")
        self.assertFalse(complete)  # no terminator: the client sees the cut
        self.assertEqual(events, [b"data: 0\n\n", b"data: 1\n\n"])
        rec = self.gh.wait_access(lambda a: a.get("route") == "stream-idle")
        self.assertEqual(rec["error"], "stream_idle_timeout")
        self.assertEqual(rec["status"], 200)
        # Events that keep coming within stream_idle are not cut.
        events, complete = self.stream("/idle/sse?n=4&gap_ms=100")
        self.assertTrue(complete)
        self.assertEqual(len(events), 4)

    def test_stream_total_cuts_a_long_response(self):
        events, complete = self.stream("/total/sse?n=100&gap_ms=100")
        self.assertFalse(complete)
        self.assertLess(len(events), 100)
        self.assertGreater(len(events), 0)
        rec = self.gh.wait_access(lambda a: a.get("route") == "stream-total")
        self.assertEqual(rec["error"], "stream_total_timeout")

    def h2_stream(self, path):
        """One HTTP/2 (h2c) request; returns (data, how it ended: "end" or "rst")."""
        c = h2raw.RawH2(self.gh.proxy_port)
        self.addCleanup(c.close)
        c.start()
        c.send(h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1,
                           h2raw.request_block(path=path)))
        data = b""
        while True:
            f = c.read_frame()
            if f is None:
                return data, "closed"
            if f.stream != 1:
                continue
            if f.type == h2raw.RST_STREAM:
                return data, "rst"
            if f.type == h2raw.DATA:
                data += f.payload
            if f.type in (h2raw.DATA, h2raw.HEADERS) and f.flags & h2raw.END_STREAM:
                return data, "end"

    def test_stream_cuts_on_http2_reset_the_stream(self):
        # A cut HTTP/2 stream ends with RST_STREAM, never with END_STREAM: the
        # client can tell a cut from a complete response, as with the missing
        # chunked terminator on HTTP/1.1.
        data, how = self.h2_stream("/idle/sse?n=2&gap_ms=10&hold_ms=5000")
        self.assertEqual(how, "rst")
        self.assertEqual(data, b"data: 0\n\ndata: 1\n\n")
        rec = self.gh.wait_access(lambda a: a.get("route") == "stream-idle" and
                                  a.get("protocol") == "HTTP/2")
        self.assertEqual(rec["error"], "stream_idle_timeout")
        data, how = self.h2_stream("/total/sse?n=100&gap_ms=100")
        self.assertEqual(how, "rst")
        self.assertTrue(data.startswith(b"data: 0\n\n"), data)
        self.assertLess(data.count(b"data: "), 100)
        rec = self.gh.wait_access(lambda a: a.get("route") == "stream-total" and
                                  a.get("protocol") == "HTTP/2")
        self.assertEqual(rec["error"], "stream_total_timeout")
        # A stream that completes within its limits ends normally.
        data, how = self.h2_stream("/idle/sse?n=4&gap_ms=100")
        self.assertEqual(how, "end")
        self.assertEqual(data.count(b"data: "), 4)

    def test_reload_keeps_a_long_stream(self):
        result = {}

        def run():
            result["v"] = self.stream("/sse?n=20&gap_ms=100")

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)
        r0 = self.gh.metric("gatehouse_config_reloads_total")
        extra = ("  - name: added\n    upstream: peer\n"
                 "    match: {paths: [\"/added\"]}\n")
        self.gh.write_config(CONFIG.format(peer=self.peer.address, extra=extra))
        self.assertTrue(wait_until(
            lambda: self.gh.metric("gatehouse_config_reloads_total") > r0, timeout=20))
        t.join(30)
        events, complete = result["v"]
        self.assertTrue(complete)
        self.assertEqual(len(events), 20)
        self.assertEqual(self.get("/added").status, 404)  # the new route serves (peer: 404)


if __name__ == "__main__":
    unittest.main()
