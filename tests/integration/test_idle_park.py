#!/usr/bin/env python3
"""Long-idle keep-alive connections leave their session for the worker's
park (net/park.hpp) after about 2 s: they must come back on their next
request, close at the idle timeout, count in the metrics, notice a client
that hangs up, and be closed by a drain."""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, simple_config, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

PARK_AFTER_S = 2.5  # the shallow idle period is 2 s; a tick later it is parked


def active(gh):
    return gh.metric("gatehouse_active_connections")


def settled_active(gh):
    """The count once the previous test's closed connections are gone: the
    gateway notices a client's close a moment after it happens, so a count
    taken right after another test can include one about to leave."""
    prev = active(gh)
    for _ in range(20):
        time.sleep(0.25)
        cur = active(gh)
        if cur == prev:
            return cur
        prev = cur
    return prev


class IdlePark(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("P")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(simple_config([cls.up.address],
                                         top_extra={"http": {"client_idle_timeout": "6s"}}))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_parked_connection_serves_its_next_requests(self):
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/echo?n=1").status, 200)
            time.sleep(PARK_AFTER_S + 0.5)
            # Back from the park: the same connection, pipelined requests too.
            c.send(b"GET /echo?n=2 HTTP/1.1\r\nHost: p.test\r\n\r\n"
                   b"GET /echo?n=3 HTTP/1.1\r\nHost: p.test\r\n\r\n")
            r2 = c.read_response()
            r3 = c.read_response()
            self.assertEqual((r2.status, r3.status), (200, 200))
            self.assertIn(b"n=2", r2.body)
            self.assertIn(b"n=3", r3.body)
            # ... and it can be parked and resumed again.
            time.sleep(PARK_AFTER_S + 0.5)
            self.assertEqual(c.request("GET", "/echo?n=4").status, 200)
            self.assertFalse(c.is_closed(timeout=0.2))

    def test_parked_connections_count_and_close_at_idle_timeout(self):
        base = settled_active(self.gh)
        conns = [self.gh.raw() for _ in range(20)]
        try:
            for c in conns:
                self.assertEqual(c.request("GET", "/echo").status, 200)
            time.sleep(PARK_AFTER_S + 0.5)
            # Parked connections are still open connections.
            self.assertGreaterEqual(active(self.gh), base + 20)
            started = time.monotonic()
            for c in conns:
                self.assertTrue(c.is_closed(timeout=10), "a parked connection outlived the timeout")
            waited = time.monotonic() - started
            # Closed by the 6 s idle timeout, not before.
            self.assertGreater(waited + PARK_AFTER_S + 0.5, 5.0)
            self.assertTrue(wait_until(lambda: active(self.gh) <= base, 5),
                            "closed parked connections still counted: %s" % active(self.gh))
        finally:
            for c in conns:
                c.close()

    def test_client_hangup_while_parked_is_noticed(self):
        base = settled_active(self.gh)
        conns = [self.gh.raw() for _ in range(10)]
        for c in conns:
            self.assertEqual(c.request("GET", "/echo").status, 200)
        time.sleep(PARK_AFTER_S + 0.5)
        for c in conns:
            c.close()
        self.assertTrue(wait_until(lambda: active(self.gh) <= base, 3),
                        "hung-up parked connections still counted: %s" % active(self.gh))


class IdleParkDrain(unittest.TestCase):
    def test_drain_closes_parked_connections(self):
        up = Upstream("Q")
        self.addCleanup(up.stop)
        gh = Gatehouse(simple_config([up.address],
                                     top_extra={"http": {"client_idle_timeout": "60s"}}))
        try:
            with gh.raw() as c:
                self.assertEqual(c.request("GET", "/echo").status, 200)
                time.sleep(PARK_AFTER_S + 0.5)
                gh.signal(signal.SIGTERM)
                self.assertTrue(c.is_closed(timeout=10), "the drain left a parked connection open")
            self.assertEqual(gh.wait_exit(30), 0, gh.stderr_text())
        finally:
            gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
