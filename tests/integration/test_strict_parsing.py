#!/usr/bin/env python3
"""Strict HTTP/1.1 request parsing: malformed or ambiguous requests are
answered with a problem+json error and the connection is closed, nothing
reaches the upstream, and request targets are normalised once."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ConnectionClosed, Gatehouse, check_problem  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
http:
  max_request_line: 1k
  max_header_bytes: 4k
  max_headers: 50
  client_header_timeout: 1s
  client_idle_timeout: 2s
upstreams:
  - name: users
    targets: [{{address: "{a}", weight: 1}}]
  - name: other
    targets: [{{address: "{b}", weight: 1}}]
routes:
  - name: user-info
    match: {{paths: ["/v2/user/info"], methods: [GET]}}
    upstream: users
  - name: other
    match: {{paths: ["/"]}}
    upstream: other
"""


class StrictParsing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Upstream("A")
        cls.addClassCleanup(cls.a.stop)
        cls.b = Upstream("B")
        cls.addClassCleanup(cls.b.stop)
        cls.gh = Gatehouse(CONFIG.format(a=cls.a.address, b=cls.b.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # ------------------------------------------------------------ helpers

    def counts(self):
        return self.a.count(), self.b.count()

    def reject(self, raw, status, code=None, closed=True):
        """Sends raw bytes; expects a problem+json `status` and (by default) a
        closed connection; asserts nothing reached either upstream."""
        before = self.counts()
        with self.gh.raw(timeout=10) as c:
            c.send(raw)
            try:
                r = c.read_response()
            except ConnectionClosed:
                self.fail("connection closed without a %d response for %r" % (status, raw[:120]))
            doc = check_problem(self, r, status, code)
            if closed:
                self.assertTrue(c.is_closed(), "connection left open after %d" % status)
        # A valid probe afterwards; anything smuggled would have gone first.
        probe = self.gh.request("GET", "/probe")
        self.assertEqual(probe.status, 200, probe)
        time.sleep(0.2)
        a, b = self.counts()
        self.assertEqual((a, b), (before[0], before[1] + 1),
                         "a rejected request (or part of it) reached an upstream")
        return doc

    def accept(self, raw):
        with self.gh.raw(timeout=10) as c:
            c.send(raw)
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        return r.json()

    # ---------------------------------------------------------- framing

    def test_cl_and_te(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "cl_and_te")

    def test_te_and_cl(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    b"Content-Length: 5\r\n\r\n0\r\n\r\n", 400, "cl_and_te")

    def test_two_differing_content_lengths(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Content-Length: 6\r\n\r\nhello!", 400, "bad_content_length")

    def test_content_length_list(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!",
                    400, "bad_content_length")

    def test_content_length_signed(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
                    400, "bad_content_length")

    def test_te_gzip_not_implemented(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxxxx", 501)

    def test_te_gzip_chunked_not_implemented(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    b"0\r\n\r\n", 501)

    # ------------------------------------------------------------ lines

    def test_bare_lf(self):
        self.reject(b"GET /echo HTTP/1.1\nHost: x\n\n", 400, "bare_lf")

    def test_bare_lf_in_header_section(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, "bare_lf")

    def test_bare_cr(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400, "bare_cr")

    def test_obs_fold(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", 400,
                    "obs_fold")

    def test_space_before_colon(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n", 400)

    def test_invalid_header_name_char(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", 400)

    def test_nul_in_header_value(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400)

    def test_request_line_too_long(self):
        self.reject(b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)

    def test_request_line_under_limit_ok(self):
        doc = self.accept(b"GET /" + b"a" * 900 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(doc["path"], "/" + "a" * 900)

    def test_headers_too_large(self):
        hdrs = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 150) for i in range(40))
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n", 431)

    def test_headers_under_limit_ok(self):
        hdrs = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 100) for i in range(25))
        doc = self.accept(b"GET /echo HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n")
        self.assertEqual(sum(1 for k, _ in doc["headers"] if k.startswith("X-Filler-")), 25)

    def test_too_many_headers(self):
        hdrs = b"".join(b"X-%d: v\r\n" % i for i in range(80))
        self.reject(b"GET /echo HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n", 431)

    def test_slow_header_closed(self):
        # slowloris: a head that never completes is cut off by client_header_timeout
        with self.gh.raw(timeout=15) as c:
            c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self.assertTrue(c.is_closed(timeout=12), "an unfinished head kept the connection")

    def test_idle_keepalive_closed(self):
        with self.gh.raw(timeout=15) as c:
            self.assertEqual(c.request("GET", "/echo").status, 200)
            self.assertTrue(c.is_closed(timeout=12), "an idle connection was kept past the timeout")

    def test_http2_version_line(self):
        self.reject(b"GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505)

    def test_missing_host_http11(self):
        self.reject(b"GET /echo HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400)

    def test_duplicate_host(self):
        self.reject(b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)

    def test_host_with_impossible_port_or_bare_colons(self):
        for host in (b"a:65536", b"a:99999999999999999999", b"a:b:80", b"::1", b"[]:80"):
            self.reject(b"GET /echo HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400, "bad_host")
        # The edges that are valid still route.
        for host in (b"a:65535", b"[::1]:8080", b"a:"):
            with self.gh.raw() as c:
                c.send(b"GET /echo HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
                self.assertEqual(c.read_response().status, 200, host)

    # ---------------------------------------------------- chunked bodies

    def test_bad_chunk_size(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"zz\r\nhello\r\n0\r\n\r\n", 400)

    def test_chunk_size_overflow(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"10000000000000001\r\nhello\r\n0\r\n\r\n", 400)

    def test_chunk_missing_crlf(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhelloXX0\r\n\r\n", 400)

    def test_chunk_size_bare_lf(self):
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\nhello\r\n0\r\n\r\n", 400)

    def test_te_in_http10(self):
        self.reject(b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)

    # -------------------------------------------------------- smuggling

    def test_smuggled_request_in_cl_te_body(self):
        hidden = b"GET /echo?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"
        body = b"0\r\n\r\n" + hidden
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n" % len(body) + body, 400, "cl_and_te")

    def test_smuggled_request_in_te_cl_body(self):
        hidden = b"GET /echo?smuggled=2 HTTP/1.1\r\nHost: x\r\n\r\n"
        self.reject(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    b"Content-Length: 4\r\n\r\n%x\r\n" % len(hidden) + hidden + b"\r\n0\r\n\r\n",
                    400, "cl_and_te")

    def test_smuggling_obfuscated_te(self):
        hidden = b"GET /echo?smuggled=3 HTTP/1.1\r\nHost: x\r\n\r\n"
        raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
               b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" % (5 + len(hidden)) + hidden)
        self.reject(raw, 400)

    def test_smuggling_double_te(self):
        raw = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n"
               b"GET /echo?smuggled=4 HTTP/1.1\r\nHost: x\r\n\r\n")
        before = self.counts()
        with self.gh.raw(timeout=10) as c:
            c.send(raw)
            r = c.read_response()
            self.assertIn(r.status, (400, 501), r)
            check_problem(self, r, r.status)
            self.assertTrue(c.is_closed())
        time.sleep(0.3)
        self.assertEqual(self.counts(), before)

    def test_content_length_body_not_parsed_as_request(self):
        # The body of a Content-Length request is data; if the gateway failed
        # to consume it, a request hidden in it would be executed as the next
        # request on the connection (request smuggling).
        hidden = b"GET /echo?smuggled=5 HTTP/1.1\r\nHost: x\r\n\r\n"
        before = self.counts()
        with self.gh.raw(timeout=10) as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(hidden)
                   + hidden)
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["method"], "POST")
            self.assertEqual(r.json()["body_length"], len(hidden))
            # a follow-up on the same connection gets its own response
            c.send(b"GET /echo?follow=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            r2 = c.read_response()
            self.assertEqual(r2.status, 200, r2)
            self.assertEqual(r2.json()["path"], "/echo?follow=1",
                             "the hidden request in the body was executed")
        time.sleep(0.2)
        self.assertEqual(self.counts(), (before[0], before[1] + 2),
                         "the request hidden in the body reached the upstream")

    # ---------------------------------------------------- normalisation

    def path_seen(self, target):
        with self.gh.raw(timeout=10) as c:
            r = c.request("GET", target)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_dot_segments(self):
        doc = self.path_seen("/v2/user/../user/info")
        self.assertEqual(doc["name"], "A", "should match route user-info")
        self.assertEqual(doc["path"], "/v2/user/info")

    def test_dot_segments_above_root(self):
        doc = self.path_seen("/../v2/./user/info")
        self.assertEqual(doc["name"], "A")
        self.assertEqual(doc["path"], "/v2/user/info")

    def test_double_slash(self):
        doc = self.path_seen("/v2//user/info")
        self.assertEqual(doc["name"], "A", "should match route user-info")
        self.assertEqual(doc["path"], "/v2/user/info")

    def test_unreserved_percent_decoded(self):
        doc = self.path_seen("/v2/user/%69nfo")
        self.assertEqual(doc["name"], "A", "should match route user-info")
        self.assertEqual(doc["path"], "/v2/user/info")

    def test_query_kept_verbatim(self):
        doc = self.path_seen("/v2/user/info?a=%2F&b=..%2F")
        self.assertEqual(doc["name"], "A")
        self.assertEqual(doc["path"], "/v2/user/info?a=%2F&b=..%2F")

    def test_encoded_slash_rejected(self):
        self.reject(b"GET /v2/user%2Finfo HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_encoded_slash_lowercase_rejected(self):
        self.reject(b"GET /v2/user%2finfo HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_encoded_backslash_rejected(self):
        self.reject(b"GET /v2/user%5Cinfo HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_raw_backslash_rejected(self):
        self.reject(b"GET /v2/user\\info HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_bad_percent_rejected(self):
        self.reject(b"GET /v2/user/%zzinfo HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_encoded_nul_rejected(self):
        self.reject(b"GET /v2/user/%00info HTTP/1.1\r\nHost: x\r\n\r\n", 400, closed=False)

    def test_connection_usable_after_path_error(self):
        with self.gh.raw(timeout=10) as c:
            r = c.request("GET", "/v2/user%2Finfo")
            check_problem(self, r, 400)
            r = c.request("GET", "/v2/user/info")
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
