"""A gRPC test service on grpcio's generic handlers (no generated code:
messages are raw bytes, which is all a proxy test needs). Service
`test.Echo`:

  Unary         echo "echo:" + request; trailing metadata x-trailer: t1
  Headers       JSON of the request metadata the server saw
  Remaining     the server's view of the deadline, in ms ("none" without one)
  ServerStream  request "N": N messages "msg-0" .. "msg-(N-1)"
  ClientStream  all request messages joined with ","
  Bidi          each request message echoed as it arrives
  Ticks         request "N:key": N messages, one each time the test calls
                tick(key) (a stream that lasts as long as the test wants)
  Fail          NOT_FOUND "no such thing" with trailing metadata x-why: because
  Slow          sleeps the request's seconds (default 3), then "slow-done"
  Flaky         UNAVAILABLE for the first `flaky` calls, then "ok-after-N"

Debian's python3-grpcio lives in /usr/bin/python3's dist-packages; a test
that imports this module re-executes itself under that interpreter when the
running one has no grpc (see reexec_with_system_grpc)."""

import json
import os
import sys
import threading
import time


def reexec_with_system_grpc():
    try:
        import grpc  # noqa: F401
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
            os.execv(system, [system] + sys.argv)
        raise


SERVICE = "test.Echo"


class EchoPeer:
    def __init__(self, max_concurrent_streams=None, flaky=0, credentials=None):
        import grpc
        from concurrent import futures

        self.calls = {}
        self.ticks = {}
        self.cancelled = threading.Event()
        self.flaky = flaky
        self.lock = threading.Lock()
        opts = [("grpc.so_reuseport", 0)]
        if max_concurrent_streams:
            opts.append(("grpc.max_concurrent_streams", max_concurrent_streams))
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=opts)
        h = grpc.method_handlers_generic_handler(SERVICE, {
            "Unary": grpc.unary_unary_rpc_method_handler(self._unary),
            "Headers": grpc.unary_unary_rpc_method_handler(self._headers),
            "Remaining": grpc.unary_unary_rpc_method_handler(self._remaining),
            "ServerStream": grpc.unary_stream_rpc_method_handler(self._server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(self._client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(self._bidi),
            "Ticks": grpc.unary_stream_rpc_method_handler(self._ticks),
            "Fail": grpc.unary_unary_rpc_method_handler(self._fail),
            "Slow": grpc.unary_unary_rpc_method_handler(self._slow),
            "Flaky": grpc.unary_unary_rpc_method_handler(self._flaky),
        })
        self.server.add_generic_rpc_handlers((h,))
        if credentials is not None:
            self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.address = "127.0.0.1:%d" % self.port
        self.server.start()

    def stop(self):
        self.server.stop(0)

    def _count(self, name):
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            return self.calls[name]

    def _unary(self, req, ctx):
        self._count("Unary")
        ctx.set_trailing_metadata((("x-trailer", "t1"),))
        return b"echo:" + req

    def _headers(self, req, ctx):
        self._count("Headers")
        return json.dumps({k: v for k, v in ctx.invocation_metadata()}).encode()

    def _remaining(self, req, ctx):
        r = ctx.time_remaining()
        return b"none" if r is None else str(int(r * 1000)).encode()

    def _server_stream(self, req, ctx):
        for i in range(int(req or b"0")):
            yield b"msg-%d" % i

    def _client_stream(self, it, ctx):
        return b",".join(it)

    def _bidi(self, it, ctx):
        for m in it:
            yield b"bidi:" + m

    def _sem(self, key):
        with self.lock:
            return self.ticks.setdefault(key, threading.Semaphore(0))

    def tick(self, key):
        self._sem(key).release()

    def _ticks(self, req, ctx):
        ctx.add_callback(self.cancelled.set)
        n, _, key = req.decode().partition(":")
        sem = self._sem(key)
        for i in range(int(n)):
            while not sem.acquire(timeout=0.05):
                if not ctx.is_active():
                    return
            yield b"tick-%d" % i

    def _fail(self, req, ctx):
        import grpc
        ctx.set_trailing_metadata((("x-why", "because"),))
        ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def _slow(self, req, ctx):
        self._count("Slow")
        end = time.monotonic() + float(req or b"3")
        while time.monotonic() < end and ctx.is_active():
            time.sleep(0.02)
        return b"slow-done"

    def _flaky(self, req, ctx):
        import grpc
        n = self._count("Flaky")
        if n <= self.flaky:
            ctx.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        return b"ok-after-%d" % (n - 1)
