#!/usr/bin/env python3
"""MCP server-to-client streams (Streamable HTTP 2025-11-25): the session's
GET stream, list_changed relayed from upstreams (streamable HTTP and a shared
stdio child), SSE event ids, resumption with Last-Event-ID (of the GET stream
and of a POST stream lost mid-call), DELETE ending the stream. The official
SDK client (tests/node/mcp_client.mjs) and raw HTTP."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ConnectionClosed, Gatehouse, RawClient, build_request, http_request  # noqa: E402
from test_mcp import HAVE_SDK, INIT, JSON_HEADERS, NODE_DIR, Fixture, node_client  # noqa: E402

FIXTURE_JS = os.path.join(NODE_DIR, "mcp_fixture_server.mjs")
TOKEN = "mcp-streams-admin-token"

CONFIG = """\
mcp:
  servers:
    - {{name: http, transport: streamable-http, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: stdio, transport: stdio, command: ["node", "{fixture_js}", "stdio"]}}
  allowed_origins: ["http://allowed.example"]
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [http, stdio], prefix: always}}
"""


class SseReader:
    """An SSE response read event by event off a RawClient (chunked body)."""

    def __init__(self, client):
        self.c = client
        self.text = ""
        self.ended = False

    def _more(self):
        size = int(self.c._line().split(b";")[0].strip(), 16)
        if size == 0:
            self.c._line()
            self.ended = True
            return
        data = b""
        while len(data) < size:
            data += self.c._take(size - len(data))
        self.c._line()
        self.text += data.decode()

    def next(self):
        """The next event as a dict (id, data; data parsed as JSON when
        present), skipping comments; None when the stream ended."""
        while True:
            i = self.text.find("\n\n")
            if i >= 0:
                block, self.text = self.text[:i], self.text[i + 2:]
                ev = {}
                for line in block.split("\n"):
                    if line.startswith(":"):
                        continue
                    k, _, v = line.partition(":")
                    ev[k] = v[1:] if v.startswith(" ") else v
                if not ev:
                    continue
                if ev.get("data"):
                    ev["data"] = json.loads(ev["data"])
                return ev
            if self.ended:
                return None
            self._more()


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpStreams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, fixture_js=FIXTURE_JS),
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def post(self, body, session=None, headers=None):
        h = dict(JSON_HEADERS)
        if session:
            h["mcp-session-id"] = session
            h["mcp-protocol-version"] = "2025-11-25"
        h.update(headers or {})
        return http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=body)

    def initialize(self):
        r = self.post(INIT)
        self.assertEqual(r.status, 200, r.body)
        return r.header("mcp-session-id")

    def call(self, sid, name, rid=7, meta=None):
        params = {"name": name, "arguments": {}}
        if meta:
            params["_meta"] = meta
        return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})

    def open_get(self, sid, last_event_id=None):
        c = RawClient(self.gh.proxy_port, timeout=30)
        self.addCleanup(c.close)
        h = {"accept": "text/event-stream", "mcp-session-id": sid,
             "mcp-protocol-version": "2025-11-25"}
        if last_event_id:
            h["last-event-id"] = last_event_id
        c.send(build_request("GET", "/mcp", h))
        head = c.read_head()
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("content-type"), "text/event-stream")
        return c, SseReader(c)

    # -------------------------------------------------------------- tests

    def test_sdk_client_gets_list_changed_from_both_transports(self):
        out = node_client(self.base + "/mcp", "notify", "", "http_notify", "stdio_notify")
        self.assertNotIn("error", out, out)
        for n in out["notified"]:
            self.assertGreaterEqual(n["received"], 1, out)

    def test_get_stream_ids_and_resume_with_last_event_id(self):
        sid = self.initialize()
        c, sse = self.open_get(sid)
        r = self.post(self.call(sid, "http_notify"), sid)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(json.loads(r.body)["result"]["content"][0]["text"], "notified")
        ev = sse.next()
        self.assertEqual(ev["id"], "0-1")
        self.assertEqual(ev["data"]["method"], "notifications/tools/list_changed")
        c.close()
        # While no stream is open the notification is buffered...
        self.post(self.call(sid, "http_notify"), sid)
        # ...and a GET resuming after 0-1 replays it (and nothing before).
        c2, sse2 = self.open_get(sid, last_event_id="0-1")
        ev = sse2.next()
        self.assertEqual(ev["id"], "0-2")
        self.assertEqual(ev["data"]["method"], "notifications/tools/list_changed")
        # DELETE ends the session, and its open stream with it.
        r = http_request(self.gh.proxy_port, "DELETE", "/mcp", headers={"mcp-session-id": sid})
        self.assertEqual(r.status, 204)
        self.assertIsNone(sse2.next())

    def test_post_stream_lost_mid_call_is_resumed_by_get(self):
        sid = self.initialize()
        c = RawClient(self.gh.proxy_port, timeout=30)
        h = dict(JSON_HEADERS, **{"mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"})
        c.send(build_request("POST", "/mcp", h,
                             self.call(sid, "http_progress", rid=42, meta={"progressToken": "t"})))
        head = c.read_head()
        self.assertEqual(head.header("content-type"), "text/event-stream")
        sse = SseReader(c)
        priming = sse.next()
        stream, seq = priming["id"].split("-")
        self.assertEqual(seq, "0")
        self.assertNotIn("data", {k: v for k, v in priming.items() if v})
        first = sse.next()
        self.assertEqual(first["id"], stream + "-1")
        self.assertEqual(first["data"]["params"]["progress"], 1)
        c.close()  # the client loses the stream before the response
        c2, sse2 = self.open_get(sid, last_event_id=first["id"])
        events = []
        while True:
            ev = sse2.next()
            if ev is None:
                break
            events.append(ev)
        self.assertEqual([e["id"] for e in events], [stream + "-%d" % i for i in (2, 3, 4)])
        self.assertEqual([e["data"]["params"]["progress"] for e in events[:2]], [2, 3])
        self.assertEqual(events[2]["data"]["id"], 42)
        self.assertEqual(events[2]["data"]["result"]["content"][0]["text"], "progress done")

    def test_stdio_list_changed_reaches_every_session_using_it(self):
        a, b = self.initialize(), self.initialize()
        _, sse_a = self.open_get(a)
        _, sse_b = self.open_get(b)
        # The shared child's notification is unsolicited: both sessions get it.
        # (The GETs above are registered before this call is answered: the
        # bus sees them first, both being posted to the same MCP thread.)
        r = self.post(self.call(a, "stdio_notify"), a)
        self.assertEqual(r.status, 200, r.body)
        for sse in (sse_a, sse_b):
            ev = sse.next()
            self.assertEqual(ev["data"]["method"], "notifications/tools/list_changed")

    def test_admin_api_mirrors_a_file_with_an_mcp_section(self):
        # File mode: the admin API's read view of the file must not fail on
        # the node-level mcp: section ("unknown field mcp" before).
        r = self.gh.api("GET", "/api/v1/routes", token=TOKEN)
        self.assertEqual(r.status, 200, r)
        items = r.json()["items"]
        self.assertEqual([x["name"] for x in items], ["tools"])
        self.assertEqual(items[0]["mcp"]["servers"], ["http", "stdio"])

    def test_get_refusals(self):
        sid = self.initialize()
        port = self.gh.proxy_port
        sse = {"accept": "text/event-stream"}
        # (A GET without a session is an HTTP+SSE client's: test_mcp_legacy_sse.py.)
        self.assertEqual(http_request(port, "GET", "/mcp", headers={"mcp-session-id": sid}).status,
                         406)
        r = http_request(port, "GET", "/mcp", headers=dict(sse, **{"mcp-session-id": "bogus"}))
        self.assertEqual(r.status, 404)
        r = http_request(port, "GET", "/mcp",
                         headers=dict(sse, **{"mcp-session-id": sid, "last-event-id": "x"}))
        self.assertEqual(r.status, 400)
        self.assertEqual(json.loads(r.body)["error"]["code"], -32600)
        r = http_request(port, "GET", "/mcp",
                         headers=dict(sse, **{"mcp-session-id": sid, "origin": "http://evil.example"}))
        self.assertEqual(r.status, 403)
        r = http_request(port, "PUT", "/mcp", headers={"mcp-session-id": sid})
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, POST, DELETE")


if __name__ == "__main__":
    unittest.main()
