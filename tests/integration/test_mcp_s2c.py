#!/usr/bin/env python3
"""Server-to-client requests through the gateway: an upstream's sampling/
createMessage, elicitation/create and roots/list, sent while it answers a
tools/call, reach the official SDK client on that call's stream and the
client's answers go back to the upstream that asked (Streamable HTTP and
HTTP+SSE clients; Streamable HTTP and HTTP+SSE upstreams). Upstreams are told
only the capabilities the client has; a client without them gets no request
(the upstream gets -32601 at once)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402
from test_mcp import HAVE_SDK, Fixture, node_client  # noqa: E402

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [fixture]}}
"""

TOOLS = ("ask", "elicit", "roots", "caps")


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpServerToClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port))
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

    def test_streamable_http_client_and_upstream(self):
        self.check_relayed(node_client(self.base + "/mcp", "s2c", "", *TOOLS))

    def test_sse_client(self):
        self.check_relayed(node_client(self.base + "/mcp", "s2c", "", *TOOLS, transport="sse"))

    def test_client_without_the_capabilities(self):
        out = node_client(self.base + "/mcp", "s2c-none", "", "caps", "ask")
        self.assertNotIn("error", out, out)
        self.assertEqual(json.loads(out["results"]["caps"]["text"]), {})
        # The upstream's request was refused at once: its tool reports it.
        self.assertTrue(out["results"]["ask"]["isError"], out)
        self.assertIn("cannot be relayed", out["results"]["ask"]["text"])


if __name__ == "__main__":
    unittest.main()
