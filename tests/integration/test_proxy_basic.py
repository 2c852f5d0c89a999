#!/usr/bin/env python3
"""Basic proxying: the minimal config shape, routing, keep-alive, pipelining,
request ids, forwarding headers, hop-by-hop stripping, framing, nginx as a real
upstream, and the access log."""

import hashlib
import json
import os
import re
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, Nginx, RawClient, build_request, check_problem  # noqa: E402
from upstream import Upstream  # noqa: E402

STATIC_SMALL = b"hello from nginx static\n"
STATIC_BIG = os.urandom(1 << 20)

# The minimal shape from the docs, then more routes in the same lists.
CONFIG = """\
upstreams:
  - name: users
    targets: [{{address: "{a}", weight: 1}}]
  - name: web
    targets: [{{address: "{nginx}", weight: 1}}]
  - name: byname
    targets: [{{address: "localhost:{a_port}", weight: 1}}]
routes:
  - name: user-info
    match: {{paths: ["/v2/user/info"], methods: [GET]}}
    upstream: users
  - name: echo
    match: {{paths: ["/echo", "/status", "/bytes"]}}
    upstream: users
  - name: static
    match: {{paths: ["/static", "=/nginx/ok"]}}
    upstream: web
  - name: byname
    match: {{paths: ["/byname"]}}
    upstream: byname
"""


class ProxyBasic(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.nginx = Nginx(files={"hello.txt": STATIC_SMALL, "big.bin": STATIC_BIG})
        cls.addClassCleanup(cls.nginx.cleanup)
        cls.gh = Gatehouse(CONFIG.format(a=cls.up.address, a_port=cls.up.port,
                                         nginx=cls.nginx.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def echo(self, path="/echo", headers=None, method="GET", body=None):
        r = self.gh.request(method, path, headers=headers, body=body)
        self.assertEqual(r.status, 200, r)
        return r, r.json()

    # ------------------------------------------------------------ routing

    def test_get_reaches_upstream(self):
        r, doc = self.echo("/v2/user/info")
        self.assertEqual(doc["name"], "A")
        self.assertEqual(doc["method"], "GET")
        self.assertEqual(doc["path"], "/v2/user/info")

    def test_query_string_forwarded(self):
        _, doc = self.echo("/v2/user/info?id=42&x=a%20b")
        self.assertEqual(doc["path"], "/v2/user/info?id=42&x=a%20b")

    def test_method_not_in_route_is_no_route(self):
        r = self.gh.request("POST", "/v2/user/info", body=b"{}")
        check_problem(self, r, 404, "no_route")

    def test_unknown_path_problem_json(self):
        r = self.gh.request("GET", "/does/not/exist")
        doc = check_problem(self, r, 404, "no_route")
        self.assertEqual(doc["request_id"], r.header("x-request-id"))
        self.assertTrue(doc["type"])
        self.assertTrue(doc["title"])

    def test_prefix_is_segment_bounded(self):
        # "/echo" matches /echo and /echo/x but not /echox.
        self.echo("/echo/sub/path")
        r = self.gh.request("GET", "/echox")
        check_problem(self, r, 404, "no_route")

    def test_target_by_dns_name(self):
        # "localhost:PORT": the target is resolved, not only IP literals work
        r = self.gh.request("GET", "/byname")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "A")

    # -------------------------------------------------------- connections

    def test_keep_alive_reuse(self):
        with self.gh.raw() as c:
            for i in range(6):
                r = c.request("GET", "/echo?i=%d" % i)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["path"], "/echo?i=%d" % i)
                self.assertNotEqual((r.header("connection") or "").lower(), "close", r)
            # a no-route error on a body-less request keeps the connection too
            r = c.request("GET", "/nowhere")
            self.assertEqual(r.status, 404)
            r = c.request("GET", "/v2/user/info")
            self.assertEqual(r.status, 200, r)

    def test_pipelining_in_order(self):
        with self.gh.raw() as c:
            c.send(build_request("GET", "/echo?n=1") + build_request("GET", "/nowhere") +
                   build_request("GET", "/echo?n=3") + build_request("GET", "/v2/user/info?n=4"))
            r1 = c.read_response()
            r2 = c.read_response()
            r3 = c.read_response()
            r4 = c.read_response()
        self.assertEqual(r1.status, 200, r1)
        self.assertEqual(r1.json()["path"], "/echo?n=1")
        self.assertEqual(r2.status, 404, r2)
        self.assertEqual(r3.status, 200, r3)
        self.assertEqual(r3.json()["path"], "/echo?n=3")
        self.assertEqual(r4.status, 200, r4)
        self.assertEqual(r4.json()["path"], "/v2/user/info?n=4")

    def test_pipelined_post_bodies(self):
        with self.gh.raw() as c:
            c.send(build_request("POST", "/echo?p=1", body=b"a" * 100) +
                   build_request("POST", "/echo?p=2", body=b"b" * 200))
            r1 = c.read_response()
            r2 = c.read_response()
        self.assertEqual(r1.json()["body_length"], 100)
        self.assertEqual(r1.json()["body_sha256"], hashlib.sha256(b"a" * 100).hexdigest())
        self.assertEqual(r1.json()["method"], "POST")
        self.assertEqual(r2.json()["method"], "POST")
        self.assertEqual(r2.json()["body_length"], 200)
        self.assertEqual(r2.json()["path"], "/echo?p=2")

    def test_keep_alive_small_post_bodies(self):
        # each body arrives in the same segment as its head
        with self.gh.raw() as c:
            for i, n in enumerate((5, 1, 100, 0, 3)):
                r = c.request("POST", "/echo?k=%d" % i, body=b"z" * n,
                              headers={"Content-Length": str(n)})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["method"], "POST")
                self.assertEqual(r.json()["path"], "/echo?k=%d" % i)
                self.assertEqual(r.json()["body_length"], n)

    def test_client_connection_close(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/echo", headers={"Connection": "close"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("connection", "").lower(), "close", r)
            self.assertTrue(c.is_closed())

    def test_upstream_connection_reuse(self):
        with self.gh.raw() as c:
            c.request("GET", "/echo?warm=1")
            before = self.up.connections()
            for i in range(20):
                self.assertEqual(c.request("GET", "/echo?reuse=%d" % i).status, 200)
            # +1 is our own /count connection; the 20 requests reused the pool
            self.assertLessEqual(self.up.connections() - before, 2,
                                 "sequential requests opened new upstream connections")

    def test_many_pipelined(self):
        n = 40
        with self.gh.raw() as c:
            c.send(b"".join(build_request("GET", "/echo?seq=%d" % i) for i in range(n)))
            for i in range(n):
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["path"], "/echo?seq=%d" % i)

    def test_concurrent_clients(self):
        errors = []

        def worker(w):
            try:
                with self.gh.raw() as c:
                    for i in range(10):
                        r = c.request("GET", "/echo?w=%d&i=%d" % (w, i))
                        if r.status != 200 or r.json()["path"] != "/echo?w=%d&i=%d" % (w, i):
                            errors.append((w, i, r.status))
            except Exception as e:  # noqa: BLE001
                errors.append((w, repr(e)))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])

    def test_absolute_form_target(self):
        with self.gh.raw() as c:
            c.send(b"GET http://abs.example.test/echo?q=1 HTTP/1.1\r\nHost: abs.example.test\r\n\r\n")
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo?q=1")
        xfh = [v for k, v in r.json()["headers"] if k.lower() == "x-forwarded-host"]
        self.assertEqual(xfh, ["abs.example.test"])

    def test_asterisk_form_options_answered_by_gateway(self):
        before = self.up.count()
        with self.gh.raw() as c:
            c.send(b"OPTIONS * HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
            r = c.read_response("OPTIONS")
            self.assertEqual(r.status, 200, r)
            self.assertIn("OPTIONS", r.header("allow", ""))
            self.assertEqual(r.body, b"")
            r = c.request("GET", "/echo")  # still open
            self.assertEqual(r.status, 200, r)
            c.send(b"OPTIONS * HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n\r\n")
            r = c.read_response("OPTIONS")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("connection", "").lower(), "close")
            self.assertTrue(c.is_closed())
        with self.gh.raw() as c:
            c.send(b"GET * HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
            check_problem(self, c.read_response(), 400, "bad_request_target")
        self.assertEqual(self.up.count(), before + 1)

    def test_http10_client(self):
        with self.gh.raw() as c:
            c.send(b"GET /echo HTTP/1.0\r\nHost: x\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.header("transfer-encoding"))
            self.assertTrue(c.is_closed())

    def test_http10_keep_alive(self):
        with self.gh.raw() as c:
            for i in range(3):
                c.send(b"GET /echo?k10=%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % i)
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("connection", "").lower(), "keep-alive", r)
                self.assertEqual(r.json()["path"], "/echo?k10=%d" % i)

    # ---------------------------------------------------------- request id

    def test_request_id_generated_and_propagated(self):
        r, doc = self.echo("/echo")
        rid = r.header("x-request-id")
        self.assertIsNotNone(rid)
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        up = [v for k, v in doc["headers"] if k.lower() == "x-request-id"]
        self.assertEqual(up, [rid])

    def test_request_ids_unique(self):
        ids = {self.gh.request("GET", "/echo").header("x-request-id") for _ in range(10)}
        self.assertEqual(len(ids), 10)

    def test_invalid_request_id_replaced(self):
        for bad in ("has space", "x" * 129, 'quo"te'):
            r, doc = self.echo("/echo", headers={"X-Request-Id": bad})
            rid = r.header("x-request-id")
            self.assertRegex(rid, r"^[0-9a-f]{32}$", "invalid id %r was kept" % bad)
            up = [v for k, v in doc["headers"] if k.lower() == "x-request-id"]
            self.assertEqual(up, [rid])

    def test_head_rides_on_get_route(self):
        with self.gh.raw() as c:
            r = c.request("HEAD", "/v2/user/info")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"")

    def test_incoming_request_id_kept(self):
        r, doc = self.echo("/echo", headers={"X-Request-Id": "client-req-12345"})
        self.assertEqual(r.header("x-request-id"), "client-req-12345")
        up = [v for k, v in doc["headers"] if k.lower() == "x-request-id"]
        self.assertEqual(up, ["client-req-12345"])

    # ----------------------------------------------------- request headers

    def test_forwarding_headers(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/echo", host="api.example.test:8443",
                          headers={"X-Forwarded-For": "6.6.6.6", "Via": "1.1 client-proxy",
                                   "Forwarded": "for=6.6.6.6;proto=https"})
        self.assertEqual(r.status, 200, r)
        h = {}
        for k, v in r.json()["headers"]:
            h.setdefault(k.lower(), []).append(v)
        self.assertEqual(h.get("x-forwarded-for"), ["127.0.0.1"],
                         "spoofed X-Forwarded-For must not pass (trust_forwarded is off)")
        self.assertNotIn("forwarded", h, "a spoofed Forwarded must not pass either (RFC 7239)")
        self.assertEqual(h.get("x-forwarded-proto"), ["http"])
        self.assertEqual(h.get("x-forwarded-host"), ["api.example.test:8443"])
        self.assertEqual(len(h.get("via", [])), 1, h)
        self.assertIn("1.1 client-proxy", h["via"][0])
        self.assertIn("gatehouse", h["via"][0])

    def test_response_via(self):
        r, _ = self.echo("/echo")
        self.assertIn("gatehouse", r.header("via", ""))

    def test_hop_by_hop_not_forwarded(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/echo", headers=[
                ("Connection", "keep-alive, Foo"), ("Foo", "bar"), ("Keep-Alive", "timeout=5"),
                ("TE", "trailers"), ("Proxy-Connection", "keep-alive"),
                ("X-End-To-End", "yes")])
        self.assertEqual(r.status, 200, r)
        names = [k.lower() for k, _ in r.json()["headers"]]
        for hop in ("foo", "keep-alive", "te", "proxy-connection"):
            self.assertNotIn(hop, names)
        conn = [v.lower() for k, v in r.json()["headers"] if k.lower() == "connection"]
        for v in conn:
            self.assertNotIn("foo", v)
        self.assertIn("x-end-to-end", names)

    # ------------------------------------------- Max-Forwards (RFC 9110 7.6.2)

    def test_max_forwards_decremented_on_options_and_trace(self):
        for method, sent, forwarded in (("OPTIONS", "3", "2"), ("TRACE", "1", "0"),
                                        ("OPTIONS", "99999999999999999999", "255")):
            with self.gh.raw() as c:
                r = c.request(method, "/echo", headers={"Max-Forwards": sent})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["method"], method)
            mf = [v for k, v in r.json()["headers"] if k.lower() == "max-forwards"]
            self.assertEqual(mf, [forwarded], (method, sent))

    def test_max_forwards_zero_options_answered_by_gateway(self):
        before = self.up.count()
        with self.gh.raw() as c:
            r = c.request("OPTIONS", "/v2/user/info", headers={"Max-Forwards": "0"})
            self.assertEqual(r.status, 404, r)  # the route takes GET only: no route
            r = c.request("OPTIONS", "/echo", headers={"Max-Forwards": "0"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"")
            self.assertIsNone(r.header("x-upstream-name"), "the upstream must not see it")
            self.assertIn("OPTIONS", r.header("allow", ""))
            # The connection stays usable.
            r = c.request("GET", "/echo")
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.up.count(), before + 1)  # the GET alone

    def test_max_forwards_zero_trace_reflects_without_credentials(self):
        with self.gh.raw() as c:
            r = c.request("TRACE", "/echo?x=1", headers=[
                ("Max-Forwards", "0"), ("Authorization", "Bearer secret-1"),
                ("Cookie", "sid=secret-2"), ("X-Api-Key", "secret-3"), ("X-Probe", "kept")])
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("x-upstream-name"))
        self.assertEqual(r.header("content-type"), "message/http")
        self.assertTrue(r.body.startswith(b"TRACE /echo?x=1 HTTP/1.1\r\n"), r.body)
        self.assertIn(b"X-Probe: kept\r\n", r.body)
        self.assertTrue(r.body.endswith(b"\r\n\r\n"))
        self.assertNotIn(b"secret", r.body)

    def test_max_forwards_malformed_and_trace_content_rejected(self):
        for method, headers, body, code in (
                ("OPTIONS", [("Max-Forwards", "x1")], b"", "bad_max_forwards"),
                ("TRACE", [("Max-Forwards", "-1")], b"", "bad_max_forwards"),
                ("OPTIONS", [("Max-Forwards", "1"), ("Max-Forwards", "2")], b"",
                 "bad_max_forwards"),
                ("TRACE", [], b"abc", "trace_with_content")):
            with self.gh.raw() as c:
                r = c.request(method, "/echo", headers=headers, body=body)
            check_problem(self, r, 400, code)
        # Other methods carry Max-Forwards through untouched (it only binds OPTIONS and TRACE).
        _, doc = self.echo("/echo", headers={"Max-Forwards": "0"})
        self.assertEqual([v for k, v in doc["headers"] if k.lower() == "max-forwards"], ["0"])

    def test_host_is_target_address(self):
        _, doc = self.echo("/echo")
        hosts = [v for k, v in doc["headers"] if k.lower() == "host"]
        self.assertEqual(hosts, [self.up.address])

    # ------------------------------------------------------------ framing

    def test_head_framing(self):
        with self.gh.raw() as c:
            r = c.request("HEAD", "/echo")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, b"")
            self.assertGreater(int(r.header("content-length", "0")), 0)
            # the connection is still in sync: the next response parses
            r2 = c.request("GET", "/echo?after=head")
            self.assertEqual(r2.status, 200, r2)
            self.assertEqual(r2.json()["path"], "/echo?after=head")

    def test_head_on_chunked_upstream(self):
        with self.gh.raw() as c:
            r = c.request("HEAD", "/bytes?n=5000&chunked=1")
            self.assertEqual(r.status, 200, r)
            r = c.request("HEAD", "/bytes?n=5000&chunked=0")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-length"), "5000")
            r = c.request("GET", "/echo?after=head-chunked")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["path"], "/echo?after=head-chunked")

    def test_204_304_framing(self):
        with self.gh.raw() as c:
            for code in (204, 304, 204):
                r = c.request("GET", "/status/%d" % code)
                self.assertEqual(r.status, code, r)
                self.assertIsNone(r.header("transfer-encoding"), r)
                self.assertEqual(r.body, b"")
            r = c.request("GET", "/echo?after=204")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["path"], "/echo?after=204")

    def test_upstream_error_status_passed_through(self):
        for code in (201, 404, 500, 503):
            r = self.gh.request("GET", "/status/%d" % code)
            self.assertEqual(r.status, code, r)
            self.assertEqual(r.json()["status"], code)

    # -------------------------------------------------------------- nginx

    def test_nginx_upstream(self):
        r = self.gh.request("GET", "/static/hello.txt")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, STATIC_SMALL)
        r = self.gh.request("GET", "/nginx/ok")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok from nginx\n")
        with self.gh.raw() as c:
            for _ in range(3):
                r = c.request("GET", "/static/big.bin")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(hashlib.sha256(r.body).digest(),
                                 hashlib.sha256(STATIC_BIG).digest())
            r = c.request("GET", "/static/missing.txt")
            self.assertEqual(r.status, 404)
            r = c.request("HEAD", "/static/big.bin")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-length"), str(len(STATIC_BIG)))
            r = c.request("GET", "/static/hello.txt")
            self.assertEqual(r.body, STATIC_SMALL)

    # --------------------------------------------------------- access log

    def test_access_log_fields(self):
        rid = "access-log-test-0001"
        r, _ = self.echo("/v2/user/info", headers={"X-Request-Id": rid})
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec, "no access-log line for %s; got %r" %
                             (rid, self.gh.access_records()[-5:]))
        for k in ("time", "request_id", "route", "upstream_target", "status", "bytes_out",
                  "duration_us", "upstream_connect_us", "upstream_first_byte_us", "retries"):
            self.assertIn(k, rec, rec)
        self.assertEqual(rec["route"], "user-info")
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["upstream_target"], self.up.address)
        self.assertEqual(rec["bytes_out"], len(r.body))
        self.assertEqual(rec["retries"], 0)
        for k in ("duration_us", "upstream_first_byte_us", "bytes_out", "status", "retries",
                  "upstream_connect_us"):
            self.assertIsInstance(rec[k], int, k)
        self.assertGreater(rec["duration_us"], 0)
        self.assertGreaterEqual(rec["upstream_first_byte_us"], 0)
        self.assertRegex(rec["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertGreaterEqual(rec["upstream_connect_us"], -1)
        self.assertNotIn("error", rec)

    def test_access_log_no_route(self):
        rid = "access-log-test-0404"
        self.gh.request("GET", "/not/routed", headers={"X-Request-Id": rid})
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec)
        self.assertEqual(rec["status"], 404)
        self.assertIn(rec.get("route"), ("", None), rec)
        self.assertEqual(rec.get("error"), "no_route", rec)

    def test_access_log_every_line_json(self):
        self.echo("/echo")
        self.gh.wait_access(lambda x: True)
        self.assertEqual(self.gh.stdout_raw, [], "non-JSON lines on stdout")


if __name__ == "__main__":
    unittest.main()
