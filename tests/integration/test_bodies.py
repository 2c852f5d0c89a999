#!/usr/bin/env python3
"""Request and response bodies: Content-Length and chunked uploads, huge
streamed downloads and uploads in constant memory, Expect: 100-continue,
close-delimited upstream bodies, and 103 Early Hints."""

import hashlib
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, build_request, rss_kib, simple_config  # noqa: E402
from upstream import Upstream, pattern_iter, pattern_sha256  # noqa: E402

MiB = 1 << 20
# The issue asks for 1 GiB in constant memory; GATEHOUSE_BIG_MIB overrides for quick runs.
BIG = int(os.environ.get("GATEHOUSE_BIG_MIB", "1024")) * MiB
RSS_GROWTH_LIMIT_KIB = 64 * 1024


class RssSampler:
    """Samples VmRSS of a pid in a thread while a transfer runs."""

    def __init__(self, pid):
        self.pid = pid
        self.baseline = rss_kib(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return
            self._stop.wait(0.02)

    def stop(self):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_kib(self.pid))
        return self.peak - self.baseline


class Bodies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        routes = [{"name": "bodies", "upstream": "svc",
                   "match": {"paths": ["/echo", "/sink", "/bytes", "/close", "/early-hints"]}}]
        cls.gh = Gatehouse(simple_config([cls.up.address], routes=routes))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # ------------------------------------------------------------ uploads

    def test_content_length_upload_5mib(self):
        data = os.urandom(5 * MiB)
        with self.gh.raw(timeout=60) as c:
            c.send(build_request("POST", "/sink", {"Content-Length": str(len(data))}))
            for i in range(0, len(data), 65536):
                c.send(data[i:i + 65536])
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["length"], len(data))
        self.assertEqual(r.json()["sha256"], hashlib.sha256(data).hexdigest())

    def test_chunked_upload_odd_sizes(self):
        sizes = [1, 7, 4093, 65537, 3, 100000, 17, 1 << 20, 5, 333333, 65536, 2]
        data = os.urandom(sum(sizes))
        with self.gh.raw(timeout=60) as c:
            c.send(build_request("POST", "/sink", {"Transfer-Encoding": "chunked"}))
            off = 0
            for i, n in enumerate(sizes):
                ext = b";ext=%d" % i if i % 3 == 0 else b""
                c.send(b"%x%s\r\n" % (n, ext) + data[off:off + n] + b"\r\n")
                off += n
            c.send(b"0\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["length"], len(data))
            self.assertEqual(r.json()["sha256"], hashlib.sha256(data).hexdigest())
            # the connection stays in sync after a chunked body
            r = c.request("GET", "/echo?after=chunked")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["path"], "/echo?after=chunked")

    def test_chunked_upload_with_trailer(self):
        with self.gh.raw(timeout=30) as c:
            c.send(build_request("POST", "/sink", {"Transfer-Encoding": "chunked"}) +
                   b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["sha256"], hashlib.sha256(b"hello").hexdigest())

    def test_small_bodies_keep_alive(self):
        with self.gh.raw(timeout=30) as c:
            for n in (0, 1, 100, 70000, 3):
                body = os.urandom(n)
                r = c.request("POST", "/sink", headers={"Content-Length": str(n)}, body=body)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["length"], n)
                self.assertEqual(r.json()["sha256"], hashlib.sha256(body).hexdigest())

    # ------------------------------------------------- constant memory

    def download(self, chunked):
        h = hashlib.sha256()
        sampler = RssSampler(self.gh.pid)
        try:
            with self.gh.raw(timeout=120) as c:
                r = c.request("GET", "/bytes?n=%d&chunked=%d" % (BIG, 1 if chunked else 0),
                              sink=h.update)
                # keep-alive survives a 1 GiB body
                r2 = c.request("GET", "/echo?after=big")
        finally:
            growth = sampler.stop()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body_length, BIG)
        self.assertEqual(h.hexdigest(), pattern_sha256(BIG))
        self.assertEqual(r.framing, "chunked" if chunked else "length")
        self.assertEqual(r2.status, 200, r2)
        self.assertLess(growth, RSS_GROWTH_LIMIT_KIB,
                        "gatehouse RSS grew by %d KiB during a %d MiB download" %
                        (growth, BIG // MiB))

    def test_download_200mib_content_length(self):
        self.download(chunked=False)

    def test_download_200mib_chunked(self):
        self.download(chunked=True)

    def test_upload_200mib(self):
        sampler = RssSampler(self.gh.pid)
        try:
            with self.gh.raw(timeout=120) as c:
                c.send(build_request("POST", "/sink", {"Content-Length": str(BIG)}))
                for piece in pattern_iter(BIG, (262144,)):
                    c.send(piece)
                r = c.read_response()
        finally:
            growth = sampler.stop()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["length"], BIG)
        self.assertEqual(r.json()["sha256"], pattern_sha256(BIG))
        self.assertLess(growth, RSS_GROWTH_LIMIT_KIB,
                        "gatehouse RSS grew by %d KiB during a %d MiB upload" %
                        (growth, BIG // MiB))

    def test_upload_200mib_chunked(self):
        sampler = RssSampler(self.gh.pid)
        try:
            with self.gh.raw(timeout=120) as c:
                c.send(build_request("POST", "/sink", {"Transfer-Encoding": "chunked"}))
                for piece in pattern_iter(BIG, (262144, 4099)):
                    c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
                c.send(b"0\r\n\r\n")
                r = c.read_response()
        finally:
            growth = sampler.stop()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["length"], BIG)
        self.assertEqual(r.json()["sha256"], pattern_sha256(BIG))
        self.assertLess(growth, RSS_GROWTH_LIMIT_KIB,
                        "gatehouse RSS grew by %d KiB during a chunked upload" % growth)

    # ------------------------------------------------------ client aborts

    def test_client_aborts_download(self):
        with self.gh.raw(timeout=30) as c:
            c.send(build_request("GET", "/bytes?n=%d" % BIG))
            got = 0
            head = c.read_head()
            self.assertEqual(head.status, 200)
            while got < MiB:
                got += len(c._take(65536))
        # the gateway lives on and serves the next client
        r = self.gh.request("GET", "/echo?after=abort")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.gh.alive())

    def test_client_aborts_upload(self):
        rid = "aborted-upload-1"
        with self.gh.raw(timeout=30) as c:
            c.send(build_request("POST", "/sink", {"Content-Length": str(10 * MiB),
                                                   "X-Request-Id": rid}))
            c.send(b"u" * MiB)
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec, "no access-log line for an aborted upload")
        self.assertEqual(rec["status"], 499, rec)
        r = self.gh.request("POST", "/sink", body=b"after")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["length"], 5)

    # ---------------------------------------------------- 100-continue

    def expect_continue(self, size):
        data = os.urandom(size)
        with self.gh.raw(timeout=20) as c:
            c.send(build_request("POST", "/sink", {"Content-Length": str(size),
                                                   "Expect": "100-continue"}))
            first = c.read_response(interim=False)
            self.assertEqual(first.status, 100, first)
            c.send(data)
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["length"], size)
            self.assertEqual(r.json()["sha256"], hashlib.sha256(data).hexdigest())
            r = c.request("GET", "/echo?after=continue")
            self.assertEqual(r.status, 200, r)

    def test_expect_100_continue(self):
        self.expect_continue(1 * MiB)

    def test_expect_100_continue_small(self):
        self.expect_continue(10)

    def test_expect_not_forwarded_upstream(self):
        with self.gh.raw(timeout=20) as c:
            c.send(build_request("POST", "/echo", {"Content-Length": "4",
                                                   "Expect": "100-continue"}))
            first = c.read_response(interim=False)
            self.assertEqual(first.status, 100, first)
            c.send(b"abcd")
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        names = [k.lower() for k, _ in r.json()["headers"]]
        self.assertNotIn("expect", names)

    def test_expect_100_continue_no_route(self):
        # An early final answer: no 100, and the body is never read.
        with self.gh.raw(timeout=20) as c:
            c.send(b"POST /nowhere HTTP/1.1\r\nHost: other.test\r\nContent-Length: 1000\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            r = c.read_response(interim=False)
            self.assertNotEqual(r.status, 100, "100 Continue sent for a request with no route")
            self.assertEqual(r.status, 404, r)
            self.assertTrue(c.is_closed())

    # ------------------------------------------------- close-delimited

    def test_close_delimited_to_http11_is_chunked(self):
        n = 3 * MiB + 12345
        h = hashlib.sha256()
        with self.gh.raw(timeout=60) as c:
            r = c.request("GET", "/close?n=%d" % n, sink=h.update)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.framing, "chunked", r)
            self.assertEqual(r.body_length, n)
            self.assertEqual(h.hexdigest(), pattern_sha256(n))
            # chunked framing lets the client keep its connection
            r2 = c.request("GET", "/echo?after=close")
            self.assertEqual(r2.status, 200, r2)

    def test_close_delimited_to_http10_client(self):
        n = 500000
        h = hashlib.sha256()
        with self.gh.raw(timeout=60) as c:
            c.send(b"GET /close?n=%d HTTP/1.0\r\nHost: x\r\n\r\n" % n)
            r = c.read_response(sink=h.update)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("transfer-encoding"))
        self.assertEqual(r.body_length, n)
        self.assertEqual(h.hexdigest(), pattern_sha256(n))

    # ------------------------------------------------------ early hints

    def test_early_hints_forwarded(self):
        with self.gh.raw(timeout=20) as c:
            r = c.request("GET", "/early-hints")
            self.assertEqual(r.status, 200, r)
            self.assertEqual([i.status for i in r.interim], [103], r.interim)
            self.assertIn("preload", r.interim[0].header("link", ""))
            # Hop-by-hop fields of the interim head stay between upstream and gateway.
            for hop in ("connection", "x-hop", "keep-alive"):
                self.assertIsNone(r.interim[0].header(hop), r.interim[0].headers)
            self.assertIn("gatehouse", r.interim[0].header("via", ""))
            self.assertTrue(r.json()["early_hints"])
            r = c.request("GET", "/echo?after=103")
            self.assertEqual(r.status, 200, r)

    def test_early_hints_not_sent_to_http10(self):
        with self.gh.raw(timeout=20) as c:
            c.send(b"GET /early-hints HTTP/1.0\r\nHost: x\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.interim, [])



class SpliceThreshold(unittest.TestCase):
    """Bodies at or above http.splice_threshold go kernel to kernel; below it,
    or with the threshold at 0, through user space. Both must be identical."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("S")
        cls.addClassCleanup(cls.up.stop)
        routes = [{"name": "bodies", "upstream": "svc", "match": {"paths": ["/bytes", "/echo"]}}]
        cls.spliced = Gatehouse(simple_config([cls.up.address], routes=routes,
                                              top_extra={"http": {"splice_threshold": "64k"}}))
        cls.addClassCleanup(cls.spliced.cleanup)
        cls.copied = Gatehouse(simple_config([cls.up.address], routes=routes,
                                             top_extra={"http": {"splice_threshold": 0}}))
        cls.addClassCleanup(cls.copied.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.spliced.stop_and_check()
        cls.copied.stop_and_check()

    def fetch_all(self, gh):
        # Sizes around the threshold and the pipe size, on one keep-alive
        # connection so a relay that over- or under-reads breaks the next one.
        sizes = [0, 1, 65535, 65536, 65537, 262144, 262145, 5 * MiB + 3]
        out = []
        with gh.raw(timeout=60) as c:
            for n in sizes:
                h = hashlib.sha256()
                r = c.request("GET", "/bytes?n=%d" % n, sink=h.update)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body_length, n)
                self.assertEqual(h.hexdigest(), pattern_sha256(n), "n=%d" % n)
                out.append(h.hexdigest())
            r = c.request("GET", "/echo?after=relays")
            self.assertEqual(r.status, 200, r)
        return out

    def test_spliced_and_copied_bodies_are_identical(self):
        self.assertEqual(self.fetch_all(self.spliced), self.fetch_all(self.copied))

    def test_bytes_counted_in_access_log(self):
        with self.spliced.raw() as c:
            r = c.request("GET", "/bytes?n=%d" % (3 * MiB + 11))
            self.assertEqual(r.body_length, 3 * MiB + 11)
        # The spliced part of the body is counted like the copied part.
        entry = self.spliced.wait_access(
            lambda e: 3 * MiB + 11 <= e.get("bytes_out", 0) < 3 * MiB + 2048)
        self.assertEqual(entry["status"], 200)

if __name__ == "__main__":
    unittest.main()
