#!/usr/bin/env python3
"""Per-tool authorization on an MCP route (mcp.tools.rules): tools hidden from
tools/list for callers who may not call them (the official SDK client lists
them), and a denied tools/call answered with JSON-RPC error -32003, by
consumer, consumer group and argument value; the audit line of a refused
call, with secret-named arguments redacted."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from test_mcp import HAVE_SDK, INIT, JSON_HEADERS, Fixture, node_client  # noqa: E402

ALICE, BOB = "alice-rules-key", "bob-rules-key"

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp:
      servers: [fixture]
      log_arguments: true
      tools:
        deny: ["get-env"]
        rules:
          - {{tools: [weather], arguments: {{city: "Mord*"}}, deny: {{}}}}
          - {{tools: [whoami], allow: {{groups: [ops]}}}}
          - {{tools: [fail, progress], deny: {{consumers: [bob]}}}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
consumers:
  - {{name: alice, groups: [ops], credentials: [{{type: key-auth, key: "{alice}"}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: "{bob}"}}]}}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpToolRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, alice=ALICE, bob=BOB))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.url = "http://127.0.0.1:%d/mcp" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def session(self, key):
        h = dict(JSON_HEADERS, **{"x-api-key": key})
        r = http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=INIT)
        self.assertEqual(r.status, 200, r.body)
        return r.header("mcp-session-id")

    def call(self, key, name, arguments):
        h = dict(JSON_HEADERS, **{"x-api-key": key, "mcp-session-id": self.session(key),
                                  "mcp-protocol-version": "2025-11-25"})
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments}})
        r = http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=body)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_list_hides_what_the_caller_may_not_call(self):
        alice = node_client(self.url, "list", ALICE)["tools"]["names"]
        bob = node_client(self.url, "list", BOB)["tools"]["names"]
        self.assertIn("whoami", alice)
        self.assertNotIn("whoami", bob)  # allow: groups [ops] only
        self.assertIn("fail", alice)
        self.assertNotIn("fail", bob)
        self.assertNotIn("progress", bob)
        # A rule that depends on arguments cannot hide the tool.
        self.assertIn("weather", alice)
        self.assertIn("weather", bob)
        self.assertNotIn("get-env", alice)  # the route-wide deny still applies

    def test_denied_call_is_a_json_rpc_error(self):
        r = self.call(BOB, "whoami", {})
        self.assertEqual(r["id"], 7)
        self.assertEqual(r["error"]["code"], -32003, r)
        self.assertEqual(r["error"]["message"], "Tool not allowed: whoami for bob")
        self.assertEqual(r["error"]["data"], {"tool": "whoami"})
        r = self.call(ALICE, "whoami", {})
        self.assertIn("result", r, r)

    def test_argument_values(self):
        for key in (ALICE, BOB):
            r = self.call(key, "weather", {"city": "Mordor"})
            self.assertEqual(r["error"]["code"], -32003, r)
            r = self.call(key, "weather", {"city": "Oslo"})
            self.assertEqual(r["result"]["content"][0]["text"], "sunny in Oslo")

    def test_access_log_names_the_refusal(self):
        self.call(BOB, "fail", {"password": "hunter2", "note": "audit-me"})
        rec = self.gh.wait_access(lambda r: r.get("mcp", {}).get("name") == "fail" and
                                  r.get("consumer") == "bob")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["mcp"]["rpc_error"], -32003)
        self.assertEqual(rec["mcp"]["server"], "fixture")
        # Arguments in the audit line, secrets redacted.
        self.assertEqual(rec["mcp"]["arguments"], {"password": "[redacted]", "note": "audit-me"})


if __name__ == "__main__":
    unittest.main()
