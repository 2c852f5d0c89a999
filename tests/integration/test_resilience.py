#!/usr/bin/env python3
"""Upstream resilience: retries and passive ejection around a dead target,
retry on 5xx only for idempotent requests, request timeout, connect failure,
active health checks, the circuit breaker and consistent hashing.

One gatehouse; each scenario has its own upstream, selected by Host."""

import http.client
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ConnectionClosed, Gatehouse, check_problem, free_port, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402


def route(name, host, upstream):
    return {"name": name, "match": {"hosts": [host], "paths": ["/"]}, "upstream": upstream}


def targets(*addresses):
    return [{"address": a, "weight": 1} for a in addresses]


class Resilience(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Upstream("A")
        cls.addClassCleanup(cls.a.stop)
        cls.b = Upstream("B", status_override=200)  # answers /status/NNN with 200
        cls.addClassCleanup(cls.b.stop)
        cls.c = Upstream("C")
        cls.addClassCleanup(cls.c.stop)
        cls.d = Upstream("D")
        cls.addClassCleanup(cls.d.stop)
        cls.e = Upstream("E")
        cls.addClassCleanup(cls.e.stop)
        cls.f = Upstream("F")
        cls.addClassCleanup(cls.f.stop)
        cls.closed1 = "127.0.0.1:%d" % free_port()
        cls.closed2 = "127.0.0.1:%d" % free_port()
        no_passive = {"passive": {"enabled": False}}
        cfg = {
            "upstreams": [
                {"name": "half-dead", "targets": targets(cls.a.address, cls.closed1)},
                {"name": "retry", "targets": targets(cls.a.address, cls.b.address),
                 "retries": {"attempts": 2}, "health_checks": no_passive},
                {"name": "slow", "targets": targets(cls.a.address),
                 "timeouts": {"request": "500ms"}},
                {"name": "dead", "targets": targets(cls.closed2)},
                {"name": "hc", "targets": targets(cls.c.address, cls.d.address),
                 "health_checks": {"active": {"path": "/health", "interval": "200ms",
                                              "timeout": "200ms", "healthy_threshold": 1,
                                              "unhealthy_threshold": 1}}},
                {"name": "cb", "targets": targets(cls.a.address),
                 "circuit_breaker": {"max_requests": 1}},
                {"name": "plain", "targets": targets(cls.a.address)},
                {"name": "flaky", "targets": targets(cls.e.address),
                 "health_checks": no_passive},
                {"name": "flaky2", "targets": targets(cls.e.address, cls.f.address),
                 "health_checks": no_passive},
                {"name": "ch", "targets": targets(cls.a.address, cls.b.address, cls.e.address),
                 "balancer": {"kind": "consistent-hash", "hash_on": "header", "key": "x-user"}},
            ],
            "routes": [
                route("half-dead", "half-dead.test", "half-dead"),
                route("retry", "retry.test", "retry"),
                route("slow", "slow.test", "slow"),
                route("dead", "dead.test", "dead"),
                route("hc", "hc.test", "hc"),
                route("cb", "cb.test", "cb"),
                route("ch", "ch.test", "ch"),
                dict(route("route-timeout", "route-timeout.test", "plain"),
                     timeouts={"request": "400ms"}),
                route("flaky", "flaky.test", "flaky"),
                route("flaky2", "flaky2.test", "flaky2"),
                dict(route("flaky-cors", "flaky-cors.test", "flaky"),
                     policies=[{"name": "cors",
                                "config": {"origins": ["https://app.example.com"]}}]),
            ],
        }
        cls.gh = Gatehouse(cfg)
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def req(self, host, path="/echo", method="GET", body=None, headers=None, timeout=20):
        h = {"Host": host}
        h.update(headers or {})
        return self.gh.request(method, path, headers=h, body=body, timeout=timeout)

    # ----------------------------------------------------- dead target

    def test_dead_target_requests_succeed(self):
        for i in range(20):
            r = self.req("half-dead.test", "/echo?i=%d" % i)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["name"], "A")
        # passive outlier detection ejects the refusing target
        ejected = wait_until(lambda: self.gh.metric("gatehouse_upstream_target_ejected",
                                                    upstream="half-dead",
                                                    target=self.closed1) == 1, timeout=5)
        self.assertTrue(ejected, "the closed-port target was not ejected")
        self.assertEqual(self.gh.metric("gatehouse_upstream_target_ejected",
                                        upstream="half-dead", target=self.a.address), 0)
        # a connect failure sent nothing, so even a POST may go elsewhere
        for i in range(6):
            r = self.req("half-dead.test", "/sink", method="POST", body=b"x" * 100)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["length"], 100)

    def test_dead_target_keepalive_connection(self):
        with self.gh.raw() as c:
            for i in range(10):
                r = c.request("GET", "/echo?k=%d" % i, host="half-dead.test")
                self.assertEqual(r.status, 200, r)

    # ----------------------------------------------------- retry on 5xx

    def test_get_retried_on_503(self):
        with self.gh.raw() as c:
            for i in range(10):
                r = c.request("GET", "/status/503?i=%d" % i, host="retry.test")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["name"], "B")
        rec = self.gh.wait_access(lambda x: x.get("route") == "retry" and x.get("retries", 0) > 0)
        self.assertIsNotNone(rec, "no access-log line shows a retry")
        self.assertEqual(rec["status"], 200)

    def test_post_not_retried_on_503(self):
        a0, b0 = self.a.count(), self.b.count()
        statuses = []
        with self.gh.raw() as c:
            for i in range(10):
                r = c.request("POST", "/status/503?p=%d" % i, host="retry.test",
                              body=b"payload")
                self.assertIn(r.status, (200, 503), r)
                statuses.append(r.status)
                if r.status == 503 and len(statuses) >= 2:
                    break
        n503 = statuses.count(503)
        self.assertGreater(n503, 0, "round robin never sent a POST to the 503 target")
        self.assertEqual(self.a.count() - a0, n503, "A saw a different number of POSTs")
        self.assertEqual(self.b.count() - b0, statuses.count(200),
                         "a POST that got 503 was retried on B")

    # --------------------------------------------------------- timeouts

    def test_request_timeout_504(self):
        r = self.req("slow.test", "/slow?ms=3000")
        check_problem(self, r, 504, "upstream_timeout")

    def test_request_timeout_fast_request_ok(self):
        r = self.req("slow.test", "/slow?ms=10")
        self.assertEqual(r.status, 200, r)

    def test_route_timeout_overrides_upstream(self):
        r = self.req("route-timeout.test", "/slow?ms=3000")
        check_problem(self, r, 504, "upstream_timeout")

    # --------------------------------------------------- connect failure

    def test_connect_failure_502(self):
        for _ in range(2):
            r = self.req("dead.test", "/echo")
            check_problem(self, r, 502, "upstream_connect_failed")

    # ------------------------------------------- misbehaving upstreams

    def test_malformed_upstream_responses_502(self):
        with self.gh.raw() as c:
            for kind in ("status", "version", "garbage", "cl_te", "two_cl", "bare_lf", "nul",
                         "unasked_101"):
                r = c.request("GET", "/bad?kind=" + kind, host="flaky.test")
                doc = check_problem(self, r, 502)
                self.assertNotEqual(r.header("connection", "").lower(), "close", r)
                self.assertFalse(doc["detail"].endswith(": "), doc)  # says what was wrong
            r = c.request("GET", "/echo", host="flaky.test")
            self.assertEqual(r.status, 200, r)

    def test_204_with_content_length_from_upstream(self):
        # RFC 9110 8.6: no Content-Length on a 204; the bytes the upstream sent
        # after the head never become the next response on that connection.
        with self.gh.raw() as c:
            for _ in range(2):
                r = c.request("GET", "/bad?kind=204_cl", host="flaky.test")
                self.assertEqual(r.status, 204, r)
                self.assertIsNone(r.header("content-length"), r)
                self.assertEqual(r.body, b"")
                r = c.request("GET", "/echo?after=204", host="flaky.test")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["path"], "/echo?after=204")

    def test_response_obs_fold_and_space_before_colon_not_passed_on(self):
        # RFC 9112: a proxy either answers 502 or repairs the header.
        for kind in ("obs_fold", "space_colon"):
            with self.gh.raw() as c:
                r = c.request("GET", "/bad?kind=" + kind, host="flaky.test")
            if r.status == 502:
                check_problem(self, r, 502)
                continue
            self.assertEqual(r.status, 200, r)
            for k, v in r.headers:
                self.assertEqual(k, k.strip(), "header name with whitespace passed on")
                self.assertNotIn("\r", v)
                self.assertNotIn("\n", v)

    def test_drop_gives_502(self):
        r = self.req("flaky.test", "/drop")
        check_problem(self, r, 502)

    def test_drop_on_pooled_connection_gives_502(self):
        # The first attempt goes out on the pooled connection and gets no
        # answer; the target is healthy, so the answer is 502 (upstream_reset),
        # not 503 "no available target".
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/echo", host="flaky.test").status, 200)
            r = c.request("GET", "/drop", host="flaky.test")
            check_problem(self, r, 502)

    def test_post_not_replayed_after_upstream_drop(self):
        # Warm this worker's pools (one connection to E and one to F), then
        # POST to an endpoint that reads the request and closes without an
        # answer. The upstream received (and may have acted on) the POST: it
        # must not be sent again, to the same target or to the other one.
        with self.gh.raw() as c:
            for _ in range(2):
                self.assertEqual(c.request("GET", "/echo", host="flaky2.test").status, 200)
            n0 = self.e.count() + self.f.count()
            r = c.request("POST", "/drop", host="flaky2.test", body=b"charge-the-card")
        time.sleep(0.2)
        delivered = self.e.count() + self.f.count() - n0
        self.assertEqual(delivered, 1, "the POST reached the upstreams %d times" % delivered)
        check_problem(self, r, 502)

    # ------------------------------------- pooled connections closed quietly

    def test_get_on_a_quietly_closed_pooled_connection_goes_again(self):
        # The pooled connection was back for well under a second, so it is
        # reused unchecked; it fails before any answer byte and the GET goes
        # again on a fresh connection, reaching the application once.
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/silent-close", host="flaky.test").status, 200)
            n0 = self.e.count()
            r = c.request("GET", "/echo", host="flaky.test")
            self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.e.count() - n0, 1)

    def test_post_on_a_quietly_closed_pooled_connection_is_checked_first(self):
        # A POST cannot go again once sent, so its pooled connection is
        # checked before use: the close is seen and a fresh one carries it.
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/silent-close", host="flaky.test").status, 200)
            time.sleep(0.1)  # the upstream's FIN has arrived
            n0 = self.e.count()
            r = c.request("POST", "/echo", host="flaky.test", body=b"once")
            self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.e.count() - n0, 1)

    def test_a_pool_of_quietly_closed_connections_costs_one_retry(self):
        # As after an upstream restart: every pooled connection is closed.
        # The first reused one fails; the rest of the pool is then checked
        # before use, so the request does not run out of stale retries.
        def warm():
            with self.gh.raw() as w:
                w.request("GET", "/silent-close?ms=300", host="flaky.test")
        threads = [threading.Thread(target=warm) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.1)
        for _ in range(3):
            with self.gh.raw() as c:
                r = c.request("GET", "/echo", host="flaky.test")
                self.assertEqual(r.status, 200, r.body)

    def test_truncated_content_length_body(self):
        with self.gh.raw() as c:
            with self.assertRaises(ConnectionClosed,
                                   msg="a truncated body must end in a closed connection"):
                r = c.request("GET", "/truncate?n=100000", host="flaky.test")
                self.fail("complete response from a truncated upstream body: %r" % r)

    def test_truncated_chunked_body(self):
        with self.gh.raw() as c:
            with self.assertRaises(ConnectionClosed):
                r = c.request("GET", "/truncate?n=100000&chunked=1", host="flaky.test")
                self.fail("complete response from a truncated upstream body: %r" % r)

    def test_invalid_chunked_body_from_upstream(self):
        # The malformed chunk line arrives with the head, before anything
        # went to the client: a complete 502 that says why, and the client
        # connection stays usable.
        with self.gh.raw() as c:
            r = c.request("GET", "/bad?kind=bad_chunk", host="flaky.test")
            p = check_problem(self, r, 502, "upstream_bad_response")
            self.assertIn("invalid chunked body (bad_chunk_size)", p["detail"])
            self.assertEqual(c.request("GET", "/echo", host="flaky.test").status, 200)
        # The route's CORS grant is on that 502 too, so a browser can read why.
        with self.gh.raw() as c:
            r = c.request("GET", "/bad?kind=bad_chunk", host="flaky-cors.test",
                          headers={"Origin": "https://app.example.com"})
            check_problem(self, r, 502, "upstream_bad_response")
            self.assertEqual(r.header("access-control-allow-origin"),
                             "https://app.example.com", r)

    # ------------------------------------------------------ active health

    def healthy_metric(self, up):
        return self.gh.metric("gatehouse_upstream_target_healthy", upstream="hc",
                              target=up.address)

    def wait_metric(self, up, want):
        got = wait_until(lambda: self.healthy_metric(up) == want, timeout=10, interval=0.1)
        self.assertTrue(got, "gatehouse_upstream_target_healthy for %s never became %s (now %s)"
                        % (up.name, want, self.healthy_metric(up)))

    def test_active_health_probes_sent(self):
        ok = wait_until(lambda: self.c.health_checks() > 0 and self.d.health_checks() > 0,
                        timeout=10, interval=0.2)
        self.assertTrue(ok, "no active health-check probe reached the targets "
                            "(C answered %d, D answered %d /health requests)"
                        % (self.c.health_checks(), self.d.health_checks()))

    def test_active_health_check(self):
        self.wait_metric(self.c, 1)
        self.wait_metric(self.d, 1)
        try:
            self.c.set_healthy(False)
            self.wait_metric(self.c, 0)
            self.assertEqual(self.healthy_metric(self.d), 1)
            for i in range(12):
                r = self.req("hc.test", "/echo?i=%d" % i)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["name"], "D", "request sent to the unhealthy target")
        finally:
            self.c.set_healthy(True)
        self.wait_metric(self.c, 1)
        seen = wait_until(lambda: self.req("hc.test", "/echo").json()["name"] == "C",
                          timeout=10)
        self.assertTrue(seen, "target C never received traffic again")

    # --------------------------------------------------- circuit breaker

    def test_circuit_breaker_max_requests(self):
        result = {}

        def slow():
            try:
                result["r"] = self.req("cb.test", "/slow?ms=3000", timeout=30)
            except Exception as e:  # noqa: BLE001
                result["e"] = e

        a0 = self.a.count()
        t = threading.Thread(target=slow)
        t.start()
        try:
            # wait until the slow request has reached the upstream
            self.assertTrue(wait_until(lambda: self.a.count() > a0, timeout=10),
                            "the slow request never reached the upstream")
            r = self.req("cb.test", "/echo", timeout=10)
            check_problem(self, r, 503, "upstream_overloaded")
            self.assertTrue(t.is_alive(), "the rejection should not wait for the slow request")
        finally:
            t.join(30)
        self.assertNotIn("e", result)
        self.assertEqual(result["r"].status, 200, result["r"])
        # capacity is back once the slow request finished
        r = self.req("cb.test", "/echo")
        self.assertEqual(r.status, 200, r)

    # --------------------------------------------------- consistent hash

    def test_consistent_hash_sticky(self):
        placement = {}
        for round_ in range(4):
            for u in range(20):
                user = "user-%d" % u
                # a new connection each time: the workers must agree too
                r = self.req("ch.test", "/echo", headers={"X-User": user})
                self.assertEqual(r.status, 200, r)
                name = r.json()["name"]
                if round_ == 0:
                    placement[user] = name
                else:
                    self.assertEqual(name, placement[user], "x-user %s moved" % user)
        self.assertGreater(len(set(placement.values())), 1,
                           "20 keys all hashed to one of 3 targets: %r" % placement)

    def test_consistent_hash_same_connection(self):
        with self.gh.raw() as c:
            names = set()
            for _ in range(10):
                r = c.request("GET", "/echo", host="ch.test", headers={"X-User": "alice"})
                self.assertEqual(r.status, 200, r)
                names.add(r.json()["name"])
        self.assertEqual(len(names), 1, names)


if __name__ == "__main__":
    unittest.main()
