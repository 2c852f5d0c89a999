#!/usr/bin/env python3
"""The MCP gateway end to end: the official @modelcontextprotocol/sdk client
(tests/node/mcp_client.mjs, StreamableHTTPClientTransport) talks to Gatehouse,
which aggregates @modelcontextprotocol/server-everything over stdio and our
SDK fixture server (tests/node/mcp_fixture_server.mjs) over streamable HTTP."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request, wait_until  # noqa: E402

NODE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node"))
EVERYTHING = os.path.join(NODE_DIR, "node_modules", "@modelcontextprotocol", "server-everything",
                          "dist", "index.js")
HAVE_SDK = (shutil.which("node") is not None and os.path.isfile(EVERYTHING) and
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@modelcontextprotocol", "sdk")))

ALICE_KEY = "alice-mcp-key"
BOB_KEY = "bob-mcp-key"
SECRET = "an integration-test session secret, 32+ chars"

CONFIG = """\
mcp:
  servers:
    - {{name: everything, transport: stdio, command: ["node", "{everything}", "stdio"]}}
    - {{name: fixture, transport: streamable-http, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: down, transport: streamable-http, url: "http://127.0.0.1:{down}/mcp", timeout: 2s}}
    - {{name: missing, transport: stdio, command: ["/nonexistent/mcp-server"]}}
  allowed_origins: ["http://allowed.example"]
  session_secret: "{secret}"
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [everything, fixture, down, missing], prefix: on-collision, tools: {{deny: ["get-env"]}}, log_arguments: true}}
  - name: paged
    match: {{paths: ["/paged"]}}
    mcp: {{servers: [everything, fixture], prefix: always, page_size: 5}}
  - name: secure
    match: {{paths: ["/secure"]}}
    mcp: {{servers: [fixture]}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "{alice}"}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: "{bob}"}}]}}
"""

JSON_HEADERS = {"content-type": "application/json",
                "accept": "application/json, text/event-stream"}
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                   "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                              "clientInfo": {"name": "raw", "version": "1"}}})


def node_client(url, scenario, *args, transport=None):
    """transport="sse": the SDK's SSEClientTransport (HTTP+SSE, 2024-11-05)."""
    env = dict(os.environ, MCP_TRANSPORT=transport) if transport else None
    p = subprocess.run(["node", os.path.join(NODE_DIR, "mcp_client.mjs"), url, scenario] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=90, env=env)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("no JSON from mcp_client.mjs: rc=%s stdout=%r stderr=%r"
                             % (p.returncode, p.stdout, p.stderr))
    return json.loads(lines[-1])


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Fixture:
    """tests/node/mcp_fixture_server.mjs on a free port."""

    def __init__(self, *mode):
        """mode "sse": the deprecated HTTP+SSE transport (GET /sse, POST /messages)."""
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "mcp_fixture_server.mjs"), "0"] +
                                     list(mode),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.port = json.loads(line)["port"]

    def stats(self):
        r = http_request(self.port, "GET", "/stats")
        return json.loads(r.body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpGateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.config = CONFIG.format(everything=EVERYTHING, fixture=cls.fixture.port,
                                   down=free_port(), secret=SECRET, alice=ALICE_KEY, bob=BOB_KEY)
        cls.gh = Gatehouse(cls.config)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # ------------------------------------------------------------ helpers

    def post(self, path, body, session=None, headers=None, port=None):
        h = dict(JSON_HEADERS)
        if session:
            h["mcp-session-id"] = session
            h["mcp-protocol-version"] = "2025-11-25"
        h.update(headers or {})
        return http_request(port or self.gh.proxy_port, "POST", path, headers=h, body=body)

    def initialize(self, path="/mcp", headers=None, port=None):
        r = self.post(path, INIT, headers=headers, port=port)
        self.assertEqual(r.status, 200, r.body)
        sid = r.header("mcp-session-id")
        self.assertTrue(sid)
        return sid

    # -------------------------------------------------------------- tests

    def test_sdk_client_through_the_aggregated_server(self):
        deleted_before = self.fixture.stats()["deleted"]
        out = node_client(self.base + "/mcp", "basic")
        self.assertNotIn("error", out, out)
        self.assertEqual(out["server"]["name"], "gatehouse")
        names = out["tools"]["names"]
        # echo is on both servers: prefixed (on-collision); the rest are not.
        self.assertIn("everything_echo", names)
        self.assertIn("fixture_echo", names)
        self.assertNotIn("echo", names)
        self.assertIn("weather", names)
        self.assertIn("get-sum", names)
        # Denied on the route: invisible, and a call is a JSON-RPC error.
        self.assertNotIn("get-env", names)
        self.assertEqual(out["denied"]["code"], -32602)
        # The failing upstreams are skipped and reported in _meta.
        unavailable = {u["server"] for u in out["tools"]["meta"]["io.gatehouse/unavailable"]}
        self.assertEqual(unavailable, {"down", "missing"})
        self.assertEqual(out["echoEverything"], "Echo: hi")
        self.assertEqual(out["echoFixture"], "fixture echo: hi")
        self.assertEqual(out["weather"], "sunny in Oslo")
        self.assertTrue(out["fail"]["isError"])
        # Progress notifications reach the client before the result (SSE),
        # from the HTTP upstream and from the stdio one.
        self.assertEqual(out["progress"]["values"], [1, 2, 3])
        self.assertEqual(out["progress"]["text"], "progress done")
        self.assertEqual(out["everythingProgress"]["values"], [1, 2, 3])
        self.assertIn("fixture://greeting", out["resources"])
        self.assertTrue(any(u.startswith("demo://resource/static/") for u in out["resources"]))
        self.assertEqual(out["greeting"], "hello from the fixture")
        self.assertIn("greet", out["prompts"])
        self.assertIn("simple-prompt", out["prompts"])
        self.assertEqual(out["greet"], "Say hello to Ada")
        self.assertIn("demo://resource/dynamic/text/{resourceId}", out["templates"])
        self.assertTrue(out["ping"])
        self.assertTrue(out["terminated"])
        # DELETE reached the fixture: its upstream session ended.
        self.assertTrue(wait_until(lambda: self.fixture.stats()["deleted"] > deleted_before, 10))

    def test_template_resource_routes_to_its_server(self):
        sid = self.initialize()
        r = self.post("/mcp", json.dumps({"jsonrpc": "2.0", "id": 2, "method": "resources/read",
                                          "params": {"uri": "demo://resource/dynamic/text/3"}}), sid)
        self.assertEqual(r.status, 200, r.body)
        body = json.loads(r.body)
        self.assertEqual(body["id"], 2)
        self.assertEqual(body["result"]["contents"][0]["uri"], "demo://resource/dynamic/text/3")
        r = self.post("/mcp", json.dumps({"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                                          "params": {"uri": "nowhere://x"}}), sid)
        self.assertEqual(json.loads(r.body)["error"]["code"], -32002)

    def test_pagination_and_always_prefix(self):
        out = node_client(self.base + "/paged", "list")
        self.assertNotIn("error", out, out)
        names = out["tools"]["names"]
        self.assertGreaterEqual(out["tools"]["pages"], 3)
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(n.startswith(("everything_", "fixture_")) for n in names), names)
        self.assertIn("fixture_weather", names)
        self.assertIn("everything_get-env", names)  # no deny on this route
        # A cursor from another list, or garbage, is invalid params.
        sid = self.initialize("/paged")
        r = self.post("/paged", json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/list",
                                            "params": {"cursor": "bm9wZQ"}}), sid)
        self.assertEqual(json.loads(r.body)["error"]["code"], -32602)

    def test_key_auth_and_session_bound_to_consumer(self):
        r = self.post("/secure", INIT)
        self.assertEqual(r.status, 401, r.body)
        out = node_client(self.base + "/secure", "list", ALICE_KEY)
        self.assertNotIn("error", out, out)
        self.assertIn("weather", out["tools"]["names"])
        sid = self.initialize("/secure", headers={"x-api-key": ALICE_KEY})
        ping = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"})
        ok = self.post("/secure", ping, sid, headers={"x-api-key": ALICE_KEY})
        self.assertEqual(ok.status, 200, ok.body)
        # Alice's session is not Bob's, nor usable on another route.
        self.assertEqual(self.post("/secure", ping, sid, headers={"x-api-key": BOB_KEY}).status, 404)
        self.assertEqual(self.post("/mcp", ping, sid).status, 404)

    def test_transport_errors(self):
        sid = self.initialize()
        ping = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping"})
        self.assertEqual(self.post("/mcp", ping, sid).status, 200)
        # A tampered session id is unknown: 404 (the client re-initializes).
        tampered = sid[:-4] + ("AAAA" if not sid.endswith("AAAA") else "BBBB")
        r = self.post("/mcp", ping, tampered)
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(json.loads(r.body)["id"], 7)
        # No session on a non-initialize request: 400.
        self.assertEqual(self.post("/mcp", ping).status, 400)
        # Unsupported protocol version: 400.
        r = self.post("/mcp", ping, sid, headers={"mcp-protocol-version": "1999-01-01"})
        self.assertEqual(r.status, 400)
        # Origin: allowed one passes, another is 403.
        self.assertEqual(self.post("/mcp", ping, sid,
                                   headers={"origin": "http://allowed.example"}).status, 200)
        r = self.post("/mcp", ping, sid, headers={"origin": "http://evil.example"})
        self.assertEqual(r.status, 403)
        # Not JSON: -32700; not a JSON-RPC message: -32600; batches: -32600.
        r = self.post("/mcp", "{nope", sid)
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (400, -32700))
        r = self.post("/mcp", json.dumps({"jsonrpc": "1.0", "id": 1, "method": "ping"}), sid)
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (400, -32600))
        self.assertEqual(json.loads(r.body)["id"], 1)
        r = self.post("/mcp", json.dumps([json.loads(ping)]), sid)
        self.assertEqual((r.status, json.loads(r.body)["error"]["code"]), (400, -32600))
        # Notifications are accepted with 202 and no body.
        r = self.post("/mcp", json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}), sid)
        self.assertEqual((r.status, r.body), (202, b""))
        # Wrong Accept and Content-Type.
        self.assertEqual(self.post("/mcp", ping, sid, headers={"accept": "application/json"}).status, 406)
        self.assertEqual(self.post("/mcp", ping, sid, headers={"content-type": "text/plain"}).status, 415)
        # GET (the standalone stream) needs Accept: text/event-stream and a
        # session; test_mcp_streams.py covers the stream itself.
        r = http_request(self.gh.proxy_port, "GET", "/mcp",
                         headers={"accept": "application/json", "mcp-session-id": sid})
        self.assertEqual(r.status, 406)
        # Without a session, a GET is an old (2024-11-05 HTTP+SSE) client's
        # stream: it opens with the `endpoint` event (test_mcp_legacy_sse.py).
        conn = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=10)
        try:
            conn.request("GET", "/mcp", headers={"accept": "text/event-stream"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertIn("text/event-stream", resp.getheader("content-type", ""))
            first = b""
            while b"\n\n" not in first:
                line = resp.fp.readline()
                if not line:
                    break
                first += line
            self.assertIn(b"event: endpoint", first)
            self.assertIn(b"/mcp?sessionId=", first)
        finally:
            conn.close()
        # Unknown method: -32601.
        r = self.post("/mcp", json.dumps({"jsonrpc": "2.0", "id": 8, "method": "nope/nope"}), sid)
        self.assertEqual(json.loads(r.body)["error"]["code"], -32601)

    def test_session_served_by_another_node_with_the_same_secret(self):
        sid = self.initialize()
        other = Gatehouse(self.config)
        try:
            call = json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                               "params": {"name": "weather", "arguments": {"city": "Bergen"}}})
            r = self.post("/mcp", call, sid, port=other.proxy_port)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(json.loads(r.body)["result"]["content"][0]["text"], "sunny in Bergen")
        finally:
            other.stop_and_check(self)

    def test_audit_line_and_metrics(self):
        sid = self.initialize()
        call = json.dumps({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
                           "params": {"name": "weather", "arguments": {"city": "Audit"}}})
        self.assertEqual(self.post("/mcp", call, sid).status, 200)
        rec = self.gh.wait_access(lambda r: r.get("mcp", {}).get("method") == "tools/call" and
                                  r["mcp"].get("arguments", {}).get("city") == "Audit")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["mcp"]["server"], "fixture")
        self.assertEqual(rec["mcp"]["name"], "weather")
        self.assertEqual(rec["mcp"]["rpc_error"], 0)
        self.assertEqual(rec["route"], "tools")
        samples = self.gh.metrics()

        def value(metric):  # metric_sum() takes `name` itself: filter by hand
            return sum(v for n, lab, v in samples
                       if n == metric and lab.get("server") == "fixture" and
                       lab.get("method") == "tools/call" and lab.get("name") == "weather")
        self.assertGreaterEqual(value("gatehouse_mcp_requests_total"), 1)
        self.assertGreaterEqual(value("gatehouse_mcp_request_duration_seconds_count"), 1)


LIFECYCLE = """\
mcp:
  servers:
    - {{name: everything, transport: stdio, command: ["node", "{everything}", "stdio"]}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [everything]}}
"""

LIFECYCLE_WITHOUT = """\
mcp:
  servers:
    - {{name: other, transport: stdio, command: ["node", "{everything}", "stdio"]}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [other]}}
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (not reaped yet).
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpStdioLifecycle(unittest.TestCase):
    def started(self, gh, after=0):
        recs = [r for r in gh.log_records() if r.get("msg") == "mcp server started"]
        return recs[after:]

    def test_child_restarted_after_exit_and_stopped_on_reload(self):
        gh = Gatehouse(LIFECYCLE.format(everything=EVERYTHING))
        self.addCleanup(gh.cleanup)
        out = node_client("http://127.0.0.1:%d/mcp" % gh.proxy_port, "list")
        self.assertIn("echo", out["tools"]["names"], out)
        first = self.started(gh)
        self.assertEqual(len(first), 1)
        pid = int(first[0]["pid"])
        # The child dies: it is started again (after a back-off).
        os.kill(pid, 9)
        self.assertTrue(gh.wait_log(lambda r: r.get("msg") == "mcp server restarts after back-off"))
        self.assertTrue(wait_until(lambda: len(self.started(gh)) == 2, 15))
        self.assertTrue(wait_until(lambda: not alive(pid), 5))
        out = node_client("http://127.0.0.1:%d/mcp" % gh.proxy_port, "list")
        self.assertIn("echo", out["tools"]["names"], out)
        second = int(self.started(gh)[1]["pid"])
        self.assertTrue(alive(second))
        # A reload that drops the server stops its child.
        gh.write_config(LIFECYCLE_WITHOUT.format(everything=EVERYTHING))
        self.assertTrue(gh.wait_log(lambda r: r.get("msg") == "mcp server removed from the config; stopping it",
                                    timeout=15))
        self.assertTrue(wait_until(lambda: not alive(second), 10))
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
