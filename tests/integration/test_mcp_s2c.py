#!/usr/bin/env python3
"""Server-to-client requests through the gateway: an upstream's sampling/
createMessage, elicitation/create and roots/list, sent while it answers a
tools/call, reach the official SDK client on that call's stream and the
client's answers go back to the upstream that asked. Clients: Streamable HTTP
and HTTP+SSE. Upstreams: our SDK fixture over Streamable HTTP and HTTP+SSE
(`transport: sse`), and @modelcontextprotocol/server-everything started in its
streamableHttp and sse modes. Upstreams are told only the capabilities the
client has; a client without them gets no request (the upstream gets -32601
at once)."""

import json
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, wait_until  # noqa: E402
from test_mcp import EVERYTHING, HAVE_SDK, NODE_DIR, Fixture, free_port, node_client  # noqa: E402

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: old, transport: sse, url: "http://127.0.0.1:{old}/sse"}}
    - {{name: ev-http, url: "http://127.0.0.1:{ev_http}/mcp"}}
    - {{name: ev-sse, transport: sse, url: "http://127.0.0.1:{ev_sse}/sse"}}
    - {{name: fx-stdio, transport: stdio, command: ["node", "{fixture_js}", "stdio"],
       client_capabilities: [sampling, elicitation, roots]}}
    - {{name: ev-stdio, transport: stdio, command: ["node", "{everything}", "stdio"],
       client_capabilities: [sampling, elicitation, roots]}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [fixture]}}
  - name: old
    match: {{paths: ["/old"]}}
    mcp: {{servers: [old]}}
  - name: ev-http
    match: {{paths: ["/ev-http"]}}
    mcp: {{servers: [ev-http]}}
  - name: ev-sse
    match: {{paths: ["/ev-sse"]}}
    mcp: {{servers: [ev-sse]}}
  - name: fx-stdio
    match: {{paths: ["/fx-stdio"]}}
    mcp: {{servers: [fx-stdio]}}
  - name: ev-stdio
    match: {{paths: ["/ev-stdio"]}}
    mcp: {{servers: [ev-stdio]}}
"""

TOOLS = ("ask", "elicit", "roots", "caps")
SAMPLE = 'trigger-sampling-request@{"prompt": "2+2?"}'
ELICIT = "trigger-elicitation-request"


class Everything:
    """server-everything in one of its HTTP modes (streamableHttp, sse)."""

    def __init__(self, mode):
        self.port = free_port()
        self.proc = subprocess.Popen(["node", EVERYTHING, mode], env=dict(os.environ, PORT=str(self.port)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(up, timeout=20)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpServerToClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.old = Fixture("sse")
        cls.addClassCleanup(cls.old.stop)
        cls.ev_http = Everything("streamableHttp")
        cls.addClassCleanup(cls.ev_http.stop)
        cls.ev_sse = Everything("sse")
        cls.addClassCleanup(cls.ev_sse.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, old=cls.old.port,
                                         ev_http=cls.ev_http.port, ev_sse=cls.ev_sse.port,
                                         fixture_js=os.path.join(NODE_DIR, "mcp_fixture_server.mjs"),
                                         everything=EVERYTHING))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def check_relayed(self, out):
        self.assertNotIn("error", out, out)
        r = out["results"]
        self.assertEqual(r["ask"], {"text": "model test-model said: 4", "isError": False}, out)
        self.assertEqual(r["elicit"], {"text": "accept: Ada", "isError": False}, out)
        self.assertEqual(r["roots"], {"text": "file:///work", "isError": False}, out)
        caps = json.loads(r["caps"]["text"])
        self.assertEqual(set(caps), {"sampling", "elicitation", "roots"}, caps)

    def check_everything(self, out):
        self.assertNotIn("error", out, out)
        r = out["results"]
        sample = r["trigger-sampling-request"]
        self.assertFalse(sample.get("isError", True), out)
        self.assertIn('"model": "test-model"', sample["text"])
        self.assertIn('"text": "4"', sample["text"])
        elicit = r[ELICIT]
        self.assertFalse(elicit.get("isError", True), out)
        self.assertIn("User provided the requested information", elicit["text"])
        self.assertIn("Ada", elicit["text"])

    def test_streamable_http_client_and_upstream(self):
        self.check_relayed(node_client(self.base + "/mcp", "s2c", "", *TOOLS))

    def test_sse_client(self):
        self.check_relayed(node_client(self.base + "/mcp", "s2c", "", *TOOLS, transport="sse"))

    def test_sse_upstream(self):
        self.check_relayed(node_client(self.base + "/old", "s2c", "", *TOOLS))

    def test_sse_upstream_sse_client(self):
        self.check_relayed(node_client(self.base + "/old", "s2c", "", *TOOLS, transport="sse"))

    def test_everything_streamable_http(self):
        self.check_everything(node_client(self.base + "/ev-http", "s2c", "", SAMPLE, ELICIT))

    def test_everything_sse(self):
        out = node_client(self.base + "/ev-sse", "s2c", "", SAMPLE, ELICIT, "get-roots-list")
        self.check_everything(out)
        roots = out["results"]["get-roots-list"]
        self.assertIn("file:///work", roots.get("text", ""), out)

    def test_stdio_fixture(self):
        # A shared stdio child: relayed while this client's call is the only
        # one in flight; the child was told what the operator configured.
        out = node_client(self.base + "/fx-stdio", "s2c", "", *TOOLS)
        self.check_relayed(out)

    def test_stdio_client_without_the_capabilities(self):
        out = node_client(self.base + "/fx-stdio", "s2c-none", "", "ask", "weather@{\"city\": \"Oslo\"}")
        self.assertNotIn("error", out, out)
        self.assertTrue(out["results"]["ask"]["isError"], out)
        self.assertIn("cannot be relayed", out["results"]["ask"]["text"])
        self.assertEqual(out["results"]["weather"]["text"], "sunny in Oslo")

    def test_everything_stdio(self):
        out = node_client(self.base + "/ev-stdio", "s2c", "", SAMPLE, ELICIT, "get-roots-list")
        self.check_everything(out)
        self.assertIn("file:///work", out["results"]["get-roots-list"].get("text", ""), out)

    def test_client_without_the_capabilities(self):
        out = node_client(self.base + "/mcp", "s2c-none", "", "caps", "ask")
        self.assertNotIn("error", out, out)
        self.assertEqual(json.loads(out["results"]["caps"]["text"]), {})
        # The upstream's request was refused at once: its tool reports it.
        self.assertTrue(out["results"]["ask"]["isError"], out)
        self.assertIn("cannot be relayed", out["results"]["ask"]["text"])

    def test_everything_hides_what_the_client_cannot_do(self):
        # server-everything lists its sampling tool only to clients with the
        # capability: the gateway passed on exactly what the client declared.
        out = node_client(self.base + "/ev-http", "list")
        self.assertNotIn("error", out, out)
        self.assertNotIn("trigger-sampling-request", out["tools"]["names"])
        self.assertIn("echo", out["tools"]["names"])


if __name__ == "__main__":
    unittest.main()
