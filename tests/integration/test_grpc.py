#!/usr/bin/env python3
"""gRPC through the gateway to an upstream with `protocol: http2`: grpcio
client -> gatehouse (h2c) -> grpcio server (grpc_peer.py). Unary, server,
client and bidi streaming, statuses and trailers passed through, deadlines
(grpc-timeout and the route timeout, the smaller one sent upstream),
gateway-made errors as grpc-status (UNAVAILABLE, DEADLINE_EXCEEDED,
UNAUTHENTICATED), retries on gRPC status codes, the peer's
MAX_CONCURRENT_STREAMS, large messages through flow control, and the
grpc_status field of the access log."""

import os
import queue
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grpc_peer import EchoPeer, reexec_with_system_grpc  # noqa: E402

reexec_with_system_grpc()

import grpc  # noqa: E402

from harness import Gatehouse, free_port, simple_config, wait_until  # noqa: E402


def config(targets, upstream_extra=None, routes=None):
    extra = {"protocol": "http2"}
    extra.update(upstream_extra or {})
    return simple_config(targets, routes=routes, upstream_extra=extra)


class GrpcCase(unittest.TestCase):
    peer_args = {}
    upstream_extra = None
    routes = None

    @classmethod
    def setUpClass(cls):
        cls.peer = EchoPeer(**cls.peer_args)
        cls.gh = Gatehouse(config([cls.peer.address], cls.upstream_extra, cls.routes))
        cls.channel = grpc.insecure_channel(
            "127.0.0.1:%d" % cls.gh.proxy_port,
            options=[("grpc.max_receive_message_length", 16 << 20),
                     ("grpc.max_send_message_length", 16 << 20)])

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.gh.stop()
        cls.gh.cleanup()
        cls.peer.stop()

    def unary(self, method, req=b"", timeout=20, metadata=None):
        f = self.channel.unary_unary("/test.Echo/" + method)
        return f.with_call(req, timeout=timeout, metadata=metadata)

    def access_for(self, method):
        rec = self.gh.wait_access(lambda r: r.get("path") == "/test.Echo/" + method)
        self.assertIsNotNone(rec, "no access-log line for " + method)
        return rec


class TestGrpcCalls(GrpcCase):
    def test_unary_with_trailers(self):
        resp, call = self.unary("Unary", b"hello")
        self.assertEqual(resp, b"echo:hello")
        self.assertEqual(call.code(), grpc.StatusCode.OK)
        self.assertIn(("x-trailer", "t1"), tuple(call.trailing_metadata()))
        rec = self.access_for("Unary")
        self.assertEqual(rec["grpc_status"], 0)
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["protocol"], "HTTP/2")

    def test_server_streaming(self):
        f = self.channel.unary_stream("/test.Echo/ServerStream")
        got = list(f(b"200", timeout=20))
        self.assertEqual(got, [b"msg-%d" % i for i in range(200)])

    def test_server_streaming_no_messages(self):
        # Headers then trailers with no DATA between: the status must not be
        # lost when both arrive before the gateway answers.
        f = self.channel.unary_stream("/test.Echo/ServerStream")
        call = f(b"0", timeout=20)
        self.assertEqual(list(call), [])
        self.assertEqual(call.code(), grpc.StatusCode.OK)

    def test_client_streaming(self):
        f = self.channel.stream_unary("/test.Echo/ClientStream")
        resp = f(iter([b"a", b"b", b"c" * 1000]), timeout=20)
        self.assertEqual(resp, b"a,b," + b"c" * 1000)

    def test_bidi_ping_pong(self):
        # Each message is sent only after the previous answer came back: the
        # gateway must stream both directions at once, not buffer either.
        outbox = queue.Queue()

        def requests():
            while True:
                m = outbox.get()
                if m is None:
                    return
                yield m

        f = self.channel.stream_stream("/test.Echo/Bidi")
        responses = f(requests(), timeout=30)
        for i in range(5):
            outbox.put(b"ping-%d" % i)
            self.assertEqual(next(responses), b"bidi:ping-%d" % i)
        outbox.put(None)
        self.assertEqual(list(responses), [])

    def test_error_status_and_trailers(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.unary("Fail")
        e = cm.exception
        self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(e.details(), "no such thing")
        self.assertIn(("x-why", "because"), tuple(e.trailing_metadata()))
        self.assertEqual(self.access_for("Fail")["grpc_status"], 5)
        self.assertGreaterEqual(self.gh.metric("gatehouse_route_grpc_total", route="all",
                                               grpc_status="5"), 1)

    def test_large_messages_both_ways(self):
        # 3 MiB each way: far past the HTTP/2 windows on both legs.
        body = bytes(range(256)) * (3 * 4096)
        resp, _ = self.unary("Unary", body)
        self.assertEqual(resp, b"echo:" + body)

    def test_grpc_timeout_forwarded(self):
        # Without grpc-timeout upstream the server would see no deadline
        # ("none"); grpc servers round their view up a little.
        resp, _ = self.unary("Remaining", timeout=5)
        self.assertNotEqual(resp, b"none")
        ms = int(resp)
        self.assertGreater(ms, 0)
        self.assertLessEqual(ms, 5100)

    def test_forwarding_metadata(self):
        import json
        resp, _ = self.unary("Headers")
        md = json.loads(resp)
        self.assertEqual(md.get("x-forwarded-for"), "127.0.0.1")
        self.assertIn("gatehouse", md.get("via", ""))
        self.assertTrue(md.get("x-request-id"))

    def test_many_concurrent_calls_multiplexed(self):
        results = [None] * 40
        def call(i):
            results[i] = self.unary("Unary", b"%d" % i)[0]
        ts = [threading.Thread(target=call, args=(i,)) for i in range(40)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(results, [b"echo:%d" % i for i in range(40)])


class TestLongStreams(GrpcCase):
    def test_reload_does_not_cut_a_stream(self):
        f = self.channel.unary_stream("/test.Echo/Ticks")
        it = f(b"4:reload", timeout=60)
        self.peer.tick("reload")
        self.assertEqual(next(it), b"tick-0")
        # A changed upstream gets new connections; this stream's keeps going.
        r0 = self.gh.metric("gatehouse_config_reloads_total")
        cfg = config([self.peer.address], {"retries": {"attempts": 0}})
        self.gh.write_config(cfg)
        self.assertTrue(wait_until(
            lambda: self.gh.metric("gatehouse_config_reloads_total") > r0, timeout=20))
        self.assertEqual(self.unary("Unary", b"new")[0], b"echo:new")
        for i in range(1, 4):
            self.peer.tick("reload")
            self.assertEqual(next(it), b"tick-%d" % i)
        self.assertEqual(list(it), [])

    def test_client_cancel_reaches_upstream(self):
        self.peer.cancelled.clear()
        f = self.channel.unary_stream("/test.Echo/Ticks")
        it = f(b"1000:cancel", timeout=60)
        self.peer.tick("cancel")
        self.assertEqual(next(it), b"tick-0")
        it.cancel()
        # The gateway sees the client's RST_STREAM on its next write (the
        # next message) and resets the upstream stream.
        self.peer.tick("cancel")
        self.assertTrue(self.peer.cancelled.wait(20))


class TestRouteTimeout(GrpcCase):
    upstream_extra = {"timeouts": {"request": "1500ms"}}

    def test_smaller_route_timeout_sent_upstream(self):
        resp, _ = self.unary("Remaining", timeout=60)
        ms = int(resp)
        self.assertGreater(ms, 0)
        self.assertLessEqual(ms, 1600)  # 1.5 s, not the client's 60 s

    def test_route_deadline_is_deadline_exceeded(self):
        # The client allows 60 s, the route 1.5 s: the call ends with
        # DEADLINE_EXCEEDED, either from the gateway's timer or from the
        # upstream enforcing the grpc-timeout the gateway sent it.
        with self.assertRaises(grpc.RpcError) as cm:
            self.unary("Slow", b"5", timeout=60)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertEqual(self.access_for("Slow")["grpc_status"], 4)


class TestGatewayDeadline(GrpcCase):
    # The upstream is not told (no grpc-timeout: the client sent none and
    # the route's timeout is per try), so the gateway's own timer ends it.
    upstream_extra = {"retries": {"attempts": 0, "per_try_timeout": "500ms"}}

    def test_gateway_timeout_is_deadline_exceeded(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.unary("Slow", b"3", timeout=60)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertIn("did not answer in time", cm.exception.details())
        rec = self.access_for("Slow")
        self.assertEqual(rec["grpc_status"], 4)
        self.assertEqual(rec["error"], "upstream_timeout")


class TestGrpcRetry(GrpcCase):
    peer_args = {"flaky": 2}
    upstream_extra = {"retries": {"attempts": 3, "on_grpc_statuses": [14], "backoff_base": "1ms",
                                  "backoff_max": "2ms"}}

    def test_retried_on_unavailable(self):
        resp, call = self.unary("Flaky", b"x")
        self.assertEqual(resp, b"ok-after-2")
        self.assertEqual(self.access_for("Flaky")["retries"], 2)


class TestStreamLimit(GrpcCase):
    peer_args = {"max_concurrent_streams": 1}

    def test_calls_beyond_the_peer_limit_succeed(self):
        # The peer takes one stream per connection: the gateway opens more
        # connections (or retries refused streams) instead of failing calls.
        results = [None] * 4
        def call(i):
            results[i] = self.unary("Slow", b"0.3")[0]
        ts = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(results, [b"slow-done"] * 4)
        self.assertEqual(self.peer.calls.get("Slow"), 4)


class TestGrpcAuth(unittest.TestCase):
    def test_policy_refusal_is_unauthenticated(self):
        peer = EchoPeer()
        cfg = config([peer.address], routes=[{
            "name": "all", "match": {"paths": ["/"]}, "upstream": "svc",
            "policies": [{"name": "key-auth", "config": {}}]}])
        cfg["consumers"] = [{"name": "alice", "credentials": [{"type": "key-auth", "key": "k1"}]}]
        gh = Gatehouse(cfg)
        try:
            ch = grpc.insecure_channel("127.0.0.1:%d" % gh.proxy_port)
            f = ch.unary_unary("/test.Echo/Unary")
            with self.assertRaises(grpc.RpcError) as cm:
                f(b"x", timeout=20)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            self.assertEqual(f(b"x", timeout=20, metadata=(("apikey", "k1"),)), b"echo:x")
            rec = gh.wait_access(lambda r: r.get("path") == "/test.Echo/Unary"
                                 and r.get("grpc_status") == 16)
            self.assertIsNotNone(rec)
            ch.close()
        finally:
            gh.stop()
            gh.cleanup()
            peer.stop()


class TestUpstreamDown(unittest.TestCase):
    def test_unavailable(self):
        gh = Gatehouse(config(["127.0.0.1:%d" % free_port()], {"retries": {"attempts": 0}}))
        try:
            ch = grpc.insecure_channel("127.0.0.1:%d" % gh.proxy_port)
            with self.assertRaises(grpc.RpcError) as cm:
                ch.unary_unary("/test.Echo/Unary")(b"x", timeout=20)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertIn("connecting to", cm.exception.details())
            rec = gh.wait_access(lambda r: r.get("path") == "/test.Echo/Unary")
            self.assertEqual(rec["grpc_status"], 14)
            self.assertEqual(rec["error"], "upstream_connect_failed")
            ch.close()
        finally:
            gh.stop()
            gh.cleanup()


if __name__ == "__main__":
    unittest.main()
