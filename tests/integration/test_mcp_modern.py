#!/usr/bin/env python3
"""MCP revision 2026-07-28 on the same endpoint as 2025-11-25 ("dual-era"),
raw HTTP: stateless requests with per-request _meta, server/discover,
MCP-Protocol-Version / Mcp-Method / Mcp-Name validated against the body
(-32020 HeaderMismatch), -32022 for an unsupported version, 404 for an
unknown method, GET/DELETE 405, subscriptions/listen streams. A legacy SDK
client on the same route keeps the 2025-11-25 behaviour."""

import base64
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, RawClient, build_request, http_request  # noqa: E402
from test_mcp import HAVE_SDK, NODE_DIR, Fixture, node_client  # noqa: E402
from test_mcp_streams import SseReader  # noqa: E402

FIXTURE_JS = os.path.join(NODE_DIR, "mcp_fixture_server.mjs")
V = "2026-07-28"

CONFIG = """\
mcp:
  servers:
    - {{name: http, transport: streamable-http, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: stdio, transport: stdio, command: ["node", "{fixture_js}", "stdio"]}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [http, stdio], prefix: always}}
"""


def body(method, rid=1, version=V, **params):
    params["_meta"] = {"io.modelcontextprotocol/protocolVersion": version,
                       "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
                       "io.modelcontextprotocol/clientCapabilities": {}}
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def headers(msg, version=V, name=None, **extra):
    h = {"content-type": "application/json", "accept": "application/json, text/event-stream",
         "mcp-protocol-version": version, "mcp-method": msg["method"]}
    p = msg.get("params", {})
    n = name if name is not None else p.get("name", p.get("uri"))
    if n is not None:
        h["mcp-name"] = n
    h.update(extra)
    return h


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpModern(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, fixture_js=FIXTURE_JS))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def send(self, msg, h=None):
        return http_request(self.gh.proxy_port, "POST", "/mcp", headers=h or headers(msg),
                            body=json.dumps(msg))

    def rpc(self, msg, h=None, status=200):
        r = self.send(msg, h)
        self.assertEqual(r.status, status, r.body)
        return json.loads(r.body)

    # -------------------------------------------------------------- tests

    def test_discover_and_stateless_calls(self):
        d = self.rpc(body("server/discover"))["result"]
        self.assertEqual(d["supportedVersions"][0], V)
        self.assertIn("2025-11-25", d["supportedVersions"])
        self.assertEqual(d["serverInfo"]["name"], "gatehouse")
        self.assertEqual(d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "gatehouse")
        self.assertEqual((d["resultType"], d["ttlMs"], d["cacheScope"]), ("complete", 0, "public"))
        r = self.send(body("tools/list"))
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("mcp-session-id"))  # no sessions in this era
        listed = json.loads(r.body)["result"]
        # Every result says its type; lists say how long they may be kept.
        self.assertEqual((listed["resultType"], listed["ttlMs"], listed["cacheScope"]),
                         ("complete", 0, "public"))
        names = [t["name"] for t in listed["tools"]]
        self.assertIn("http_weather", names)
        self.assertIn("stdio_weather", names)
        for tool in ("http_weather", "stdio_weather"):
            res = self.rpc(body("tools/call", name=tool, arguments={"city": "Oslo"}))
            self.assertEqual(res["result"]["content"][0]["text"], "sunny in Oslo")
            self.assertEqual(res["result"]["resultType"], "complete")
            self.assertNotIn("ttlMs", res["result"])  # a call result is not cacheable
        # A stray Mcp-Session-Id is ignored, not checked.
        msg = body("tools/list", rid=9)
        self.assertEqual(self.rpc(msg, headers(msg, **{"mcp-session-id": "stale"}))["id"], 9)
        # Names that are not plain header text come base64-encoded.
        msg = body("tools/call", name="http_echo", arguments={"message": "hi"})
        b64 = "=?base64?" + base64.b64encode(b"http_echo").decode() + "?="
        self.assertEqual(self.rpc(msg, headers(msg, name=b64))["result"]["content"][0]["text"],
                         "fixture echo: hi")

    def test_header_mismatches_are_32020(self):
        msg = body("tools/call", rid=4, name="http_weather", arguments={"city": "Oslo"})
        cases = [
            headers(msg, name="http_echo"),                       # Mcp-Name differs
            dict(headers(msg), **{"mcp-method": "tools/list"}),   # Mcp-Method differs
            {k: v for k, v in headers(msg).items() if k != "mcp-method"},
            {k: v for k, v in headers(msg).items() if k != "mcp-name"},
            {k: v for k, v in headers(msg).items() if k != "mcp-protocol-version"},
        ]
        for h in cases:
            res = self.rpc(msg, h, status=400)
            self.assertEqual(res["error"]["code"], -32020, h)
            self.assertEqual(res["id"], 4)
            self.assertTrue(res["error"]["message"].startswith("Header mismatch: "))
        # A modern header on a body without _meta: the body lacks what every
        # request carries (InvalidParams), as without its capabilities.
        legacy = {"jsonrpc": "2.0", "id": 5, "method": "tools/list"}
        res = self.rpc(legacy, headers(legacy), status=400)
        self.assertEqual((res["id"], res["error"]["code"]), (5, -32602))
        nocaps = body("tools/list", rid=6)
        del nocaps["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
        res = self.rpc(nocaps, headers(nocaps), status=400)
        self.assertEqual((res["id"], res["error"]["code"]), (6, -32602))
        self.assertIn("clientCapabilities", res["error"]["message"])
        # Another version in the body than in the header.
        other = body("tools/list", version="2025-11-25")
        self.assertEqual(self.rpc(other, headers(other), status=400)["error"]["code"], -32020)

    def test_unsupported_version_unknown_method_and_methods(self):
        msg = body("tools/list", version="2027-01-01")
        res = self.rpc(msg, headers(msg, version="2027-01-01"), status=400)
        self.assertEqual(res["error"]["code"], -32022)
        self.assertEqual(res["error"]["data"]["requested"], "2027-01-01")
        self.assertIn(V, res["error"]["data"]["supported"])
        res = self.rpc(body("nope/nothing"), status=404)
        self.assertEqual(res["error"]["code"], -32601)
        # An unknown version in the header alone: the refusal has the id.
        res = self.rpc(body("tools/list", rid=7), headers(body("tools/list"), version="v9"),
                       status=400)
        self.assertEqual((res["id"], res["error"]["code"]), (7, -32022))
        # Methods the revision removed are unknown methods in it.
        for method in ("ping", "logging/setLevel", "resources/subscribe", "initialize"):
            msg = body(method, rid=8)
            res = self.rpc(msg, headers(msg), status=404)
            self.assertEqual(res["error"]["code"], -32601, method)
        for method in ("GET", "DELETE"):
            r = http_request(self.gh.proxy_port, method, "/mcp",
                             headers={"mcp-protocol-version": V, "accept": "text/event-stream"})
            self.assertEqual(r.status, 405, method)
            self.assertEqual(r.header("allow"), "POST")

    def test_progress_stream_has_no_event_ids(self):
        msg = body("tools/call", rid=6, name="http_progress", arguments={})
        msg["params"]["_meta"]["progressToken"] = "p"
        c = RawClient(self.gh.proxy_port, timeout=30)
        self.addCleanup(c.close)
        c.send(build_request("POST", "/mcp", headers(msg), json.dumps(msg)))
        self.assertEqual(c.read_head().header("content-type"), "text/event-stream")
        sse = SseReader(c)
        events = []
        while True:
            ev = sse.next()
            if ev is None:
                break
            events.append(ev)
        self.assertTrue(all("id" not in e for e in events), events)
        self.assertEqual([e["data"]["params"]["progress"] for e in events[:-1]], [1, 2, 3])
        self.assertEqual(events[-1]["data"]["result"]["content"][0]["text"], "progress done")

    def test_subscriptions_listen(self):
        listen = body("subscriptions/listen", rid="L1",
                      notifications={"toolsListChanged": True, "resourceSubscriptions": ["x://y"]})
        c = RawClient(self.gh.proxy_port, timeout=30)
        self.addCleanup(c.close)
        c.send(build_request("POST", "/mcp", headers(listen), json.dumps(listen)))
        self.assertEqual(c.read_head().header("content-type"), "text/event-stream")
        sse = SseReader(c)
        ack = sse.next()["data"]
        self.assertEqual(ack["method"], "notifications/subscriptions/acknowledged")
        # Resource subscriptions are not relayed: left out of the acknowledgement.
        self.assertEqual(ack["params"]["notifications"], {"toolsListChanged": True})
        self.assertEqual(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "L1")
        # A list change from the stdio child and one from the HTTP upstream
        # (sent while a modern call runs) both reach the listen stream.
        for tool in ("stdio_notify", "http_notify"):
            self.assertEqual(self.rpc(body("tools/call", name=tool, arguments={}))["result"]
                             ["content"][0]["text"], "notified")
            ev = sse.next()["data"]
            self.assertEqual(ev["method"], "notifications/tools/list_changed")
            self.assertEqual(ev["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "L1")
        bad = body("subscriptions/listen", rid=2)
        self.assertEqual(self.rpc(bad)["error"]["code"], -32602)

    def test_legacy_sdk_client_on_the_same_route(self):
        out = node_client(self.base + "/mcp", "list")
        self.assertNotIn("error", out, out)
        self.assertTrue(out["sessionId"])
        self.assertIn("http_weather", out["tools"]["names"])


if __name__ == "__main__":
    unittest.main()
