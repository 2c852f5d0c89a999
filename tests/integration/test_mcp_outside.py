#!/usr/bin/env python3
"""Server-to-client requests an upstream sends outside any call (MCP
2025-11-25: on the server's standalone stream). While a client has its GET
stream open, the gateway keeps each streamable-HTTP upstream's GET stream of
that session open and relays what comes on it (and what an HTTP+SSE upstream
sends with no call in flight) to the client's GET stream, with sealed ids;
the client's answers reach the upstream that asked. A client without the
capability, or without a GET stream, gets nothing and the upstream is
answered -32601 at once. Clients: the official SDK client and raw HTTP.
Upstreams: our SDK fixture (streamable HTTP, HTTP+SSE, one answering GET with
405) and @modelcontextprotocol/server-everything (its roots sync after
initialize)."""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, RawClient, build_request, http_request, wait_until  # noqa: E402
from test_mcp import HAVE_SDK, JSON_HEADERS, NODE_DIR, Fixture, node_client  # noqa: E402
from test_mcp_s2c import Everything  # noqa: E402
from test_mcp_streams import SseReader  # noqa: E402

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: old, transport: sse, url: "http://127.0.0.1:{old}/sse"}}
    - {{name: noget, url: "http://127.0.0.1:{noget}/mcp"}}
    - {{name: ev-http, url: "http://127.0.0.1:{ev_http}/mcp"}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [fixture]}}
  - name: old
    match: {{paths: ["/old"]}}
    mcp: {{servers: [old]}}
  - name: noget
    match: {{paths: ["/noget"]}}
    mcp: {{servers: [noget]}}
  - name: ev-http
    match: {{paths: ["/ev-http"]}}
    mcp: {{servers: [ev-http]}}
"""

EXPECTED = {"sampling": "model test-model said: 4", "elicitation": "accept: Ada",
            "roots": "file:///work"}


def later(kind):
    return 'later@{"kind": "%s"}' % kind


class NoGetFixture(Fixture):
    """The fixture answering GET /mcp with 405 (no standalone stream)."""

    def __init__(self):
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "mcp_fixture_server.mjs"), "0"],
                                     env=dict(os.environ, NO_GET="1"),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpOutsideCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.old = Fixture("sse")
        cls.addClassCleanup(cls.old.stop)
        cls.noget = NoGetFixture()
        cls.addClassCleanup(cls.noget.stop)
        cls.ev_http = Everything("streamableHttp")
        cls.addClassCleanup(cls.ev_http.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, old=cls.old.port,
                                         noget=cls.noget.port, ev_http=cls.ev_http.port))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # ------------------------------------------------------------ helpers

    def post(self, path, body, session=None):
        h = dict(JSON_HEADERS)
        if session:
            h["mcp-session-id"] = session
            h["mcp-protocol-version"] = "2025-11-25"
        return http_request(self.gh.proxy_port, "POST", path, headers=h, body=json.dumps(body))

    def initialize(self, path, capabilities):
        r = self.post(path, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"protocolVersion": "2025-11-25", "capabilities": capabilities,
                                        "clientInfo": {"name": "raw", "version": "1"}}})
        self.assertEqual(r.status, 200, r.body)
        sid = r.header("mcp-session-id")
        r = self.post(path, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
        self.assertEqual(r.status, 202, r.body)
        return sid

    def call(self, path, sid, name, arguments=None, rid=7):
        r = self.post(path, {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                             "params": {"name": name, "arguments": arguments or {}}}, sid)
        self.assertEqual(r.status, 200, r.body)
        return json.loads(r.body)["result"]["content"][0]["text"]

    def open_get(self, path, sid):
        c = RawClient(self.gh.proxy_port, timeout=30)
        self.addCleanup(c.close)
        c.send(build_request("GET", path, {"accept": "text/event-stream", "mcp-session-id": sid,
                                           "mcp-protocol-version": "2025-11-25"}))
        head = c.read_head()
        self.assertEqual(head.status, 200)
        return c, SseReader(c)

    # -------------------------------------------------------------- tests

    def wait_upstream_gets_closed(self):
        # The gateway notices a client gone from its GET stream when its
        # next keep-alive comment (every 15 s) fails, then closes the
        # upstream's at once.
        self.assertTrue(wait_until(lambda: self.fixture.stats()["getsOpen"] == 0, 30),
                        self.fixture.stats())

    def test_http_upstream_requests_reach_the_sdk_client(self):
        for kind, text in EXPECTED.items():
            with self.subTest(kind=kind):
                opened = self.fixture.stats()["getsOpened"]
                out = node_client(self.base + "/mcp", "s2c", "", later(kind), "later-result")
                self.assertNotIn("error", out, out)
                self.assertEqual(out["results"]["later"]["text"], "scheduled", out)
                self.assertEqual(out["results"]["later-result"], {"text": text, "isError": False}, out)
                # The gateway opened the upstream session's GET stream for
                # the client's (one per session: the SDK client opens one).
                self.assertEqual(self.fixture.stats()["getsOpened"], opened + 1)
        # ... and closes it when the client's closes.
        self.wait_upstream_gets_closed()

    def test_http_upstream_request_refused_without_the_capability(self):
        start = time.monotonic()
        out = node_client(self.base + "/mcp", "s2c-none", "", later("roots"), "later-result")
        self.assertNotIn("error", out, out)
        text = out["results"]["later-result"]["text"]
        self.assertIn("error -32601", text)
        self.assertIn("capability not declared", text)
        self.assertLess(time.monotonic() - start, 15)  # not the fixture's 20 s timeout

    def test_raw_client_answers_on_its_get_stream(self):
        sid = self.initialize("/mcp", {"sampling": {}})
        c, sse = self.open_get("/mcp", sid)
        self.assertTrue(wait_until(lambda: self.fixture.stats()["getsOpen"] >= 1, 10))
        self.assertEqual(self.call("/mcp", sid, "later", {"kind": "sampling"}), "scheduled")
        ev = sse.next()
        req = ev["data"]
        self.assertEqual(req["method"], "sampling/createMessage", ev)
        self.assertTrue(req["id"].startswith("gh-s2c."), req)
        self.assertTrue(ev.get("id", "").startswith("0-"), ev)  # the standalone stream's ids
        answer = {"jsonrpc": "2.0", "id": req["id"],
                  "result": {"role": "assistant", "content": {"type": "text", "text": "4"},
                             "model": "raw"}}
        self.assertEqual(self.post("/mcp", answer, sid).status, 202)
        # The upstream got the answer under its own id.
        self.assertEqual(self.call("/mcp", sid, "later-result"), "model raw said: 4")
        # An id the client altered reaches no upstream; the right one does.
        self.assertEqual(self.call("/mcp", sid, "later", {"kind": "sampling"}), "scheduled")
        rid = sse.next()["data"]["id"]
        forged = rid[:-6] + ("AAAAAA" if not rid.endswith("AAAAAA") else "BBBBBB")
        self.assertEqual(self.post("/mcp", dict(answer, id=forged, result=dict(
            answer["result"], model="forged")), sid).status, 202)
        self.assertEqual(self.post("/mcp", dict(answer, id=rid, result=dict(
            answer["result"], model="raw2")), sid).status, 202)
        self.assertEqual(self.call("/mcp", sid, "later-result"), "model raw2 said: 4")
        # Closing the client's stream closes the upstream's.
        c.close()
        self.wait_upstream_gets_closed()

    def test_upstream_stream_reopened_when_the_server_drops_it(self):
        sid = self.initialize("/mcp", {"roots": {}})
        self.open_get("/mcp", sid)
        self.assertTrue(wait_until(lambda: self.fixture.stats()["getsOpen"] >= 1, 10))
        opened = self.fixture.stats()["getsOpened"]
        self.assertEqual(self.call("/mcp", sid, "drop-get"), "dropped")
        self.assertTrue(wait_until(lambda: self.fixture.stats()["getsOpened"] > opened, 10),
                        self.fixture.stats())
        self.assertTrue(self.gh.wait_log(
            lambda r: r.get("msg") == "mcp server standalone stream lost; reopening", timeout=5))
        # The reopened stream carries the next request to the same client stream.
        _, sse = self.open_get("/mcp", sid)  # (a second GET: the upstream's is kept)
        self.assertEqual(self.call("/mcp", sid, "later", {"kind": "roots"}), "scheduled")
        req = sse.next()["data"]
        self.assertEqual(req["method"], "roots/list", req)
        self.assertEqual(self.post("/mcp", {"jsonrpc": "2.0", "id": req["id"], "result": {
            "roots": [{"uri": "file:///again"}]}}, sid).status, 202)
        self.assertEqual(self.call("/mcp", sid, "later-result"), "file:///again")
        # One upstream stream for the session, not one per client GET. (Not a
        # count of opens: under load the server can refuse a reopen that
        # comes before it has let go of the dropped stream, and the gateway
        # then tries again.)
        self.assertEqual(self.fixture.stats()["getsOpen"], 1, self.fixture.stats())

    def test_sse_upstream_requests_reach_the_sdk_client(self):
        for kind in ("roots", "sampling"):
            with self.subTest(kind=kind):
                out = node_client(self.base + "/old", "s2c", "", later(kind), "later-result")
                self.assertNotIn("error", out, out)
                self.assertEqual(out["results"]["later-result"],
                                 {"text": EXPECTED[kind], "isError": False}, out)

    def test_sse_upstream_request_refused_without_the_capability(self):
        out = node_client(self.base + "/old", "s2c-none", "", later("elicitation"), "later-result")
        self.assertNotIn("error", out, out)
        text = out["results"]["later-result"]["text"]
        self.assertIn("error -32601", text)
        self.assertIn("capability not declared", text)

    def test_sse_upstream_request_refused_without_a_client_stream(self):
        sid = self.initialize("/old", {"roots": {}})
        self.assertEqual(self.call("/old", sid, "later", {"kind": "roots"}), "scheduled")
        # (Not while a call is in flight: an HTTP+SSE server's request then
        # goes with that call, the wire saying nothing about which it is.)
        time.sleep(0.6)
        text = self.call("/old", sid, "later-result")
        self.assertIn("error -32601", text)
        self.assertIn("no standalone stream", text)

    def test_upstream_without_a_standalone_stream(self):
        # 405 to the gateway's GET: asked once, never again; calls work.
        for _ in range(2):
            out = node_client(self.base + "/noget", "s2c", "", "weather@{\"city\": \"Oslo\"}")
            self.assertNotIn("error", out, out)
            self.assertEqual(out["results"]["weather"]["text"], "sunny in Oslo")
        r = http_request(self.noget.port, "GET", "/stats")
        self.assertEqual(json.loads(r.body)["getsOpened"], 1, r.body)
        self.assertTrue(self.gh.wait_log(
            lambda r: r.get("msg") == "mcp server offers no standalone stream (GET answered 405)",
            timeout=5))

    def test_everything_roots_sync_after_initialize(self):
        # server-everything asks for the roots 350 ms after initialized, on
        # its standalone stream, and get-roots-list asks again there when it
        # has none: both reach the client now.
        out = node_client(self.base + "/ev-http", "roots-sync", "", "get-roots-list")
        self.assertNotIn("error", out, out)
        self.assertGreaterEqual(out["rootsAskedFirst"], 1, out)
        self.assertIn("file:///work", out["results"]["get-roots-list"]["text"], out)


if __name__ == "__main__":
    unittest.main()
