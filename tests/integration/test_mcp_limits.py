#!/usr/bin/env python3
"""Per-tool rate limits and quotas on an MCP route (mcp.tools.limits): the
official SDK client sees JSON-RPC error -32029 with the retry information
once a tool's budget is spent, other consumers and other tools are not
affected; the raw answer carries Retry-After and the limit headers; the
refusal is in the access log (audit) and in the metrics."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from test_mcp import HAVE_SDK, INIT, JSON_HEADERS, Fixture, node_client  # noqa: E402

KEYS = {n: "%s-limits-key" % n for n in ("alice", "bob", "carol", "dave", "erin")}

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp:
      servers: [fixture]
      tools:
        limits:
          - {{tools: [echo], requests: 2, window: 1h}}
          - {{tools: [weather], quota: 3, period: day}}
          - {{tools: [whoami, progress], requests: 1, window: 1h, by: ip, per_tool: true}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
consumers:
{consumers}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpToolLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        consumers = "\n".join('  - {name: %s, credentials: [{type: key-auth, key: "%s"}]}' % (n, k)
                              for n, k in KEYS.items())
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, consumers=consumers))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.url = "http://127.0.0.1:%d/mcp" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def headers(self, who):
        h = dict(JSON_HEADERS, **{"x-api-key": KEYS[who]})
        r = http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=INIT)
        self.assertEqual(r.status, 200, r.body)
        h["mcp-session-id"] = r.header("mcp-session-id")
        h["mcp-protocol-version"] = "2025-11-25"
        return h

    def call(self, h, name, arguments):
        body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments}})
        return http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=body)

    def test_sdk_client_gets_the_refusal_with_retry_information(self):
        out = node_client(self.url, "calls", KEYS["alice"], "echo", 3, '{"message": "hi"}')
        calls = out["calls"]
        self.assertEqual([c.get("text") for c in calls[:2]], ["fixture echo: hi"] * 2, out)
        refused = calls[2]
        self.assertEqual(refused["code"], -32029, out)
        self.assertIn("Rate limit exceeded for tool echo: 2 calls per 1h", refused["message"])
        data = refused["data"]
        self.assertEqual(data["tool"], "echo")
        self.assertEqual(data["limit"], "rate")
        self.assertEqual(data["allowed"], 2)
        self.assertEqual(data["per"], "1h")
        self.assertGreaterEqual(data["retryAfter"], 1)
        self.assertLessEqual(data["retryAfter"], 3600)
        # Another consumer has its own budget; another tool is not limited.
        bob = node_client(self.url, "calls", KEYS["bob"], "echo", 1, '{"message": "b"}')
        self.assertEqual(bob["calls"], [{"text": "fixture echo: b"}])
        fail = node_client(self.url, "calls", KEYS["alice"], "fail", 3)
        self.assertTrue(all("code" not in c for c in fail["calls"]), fail)

    def test_raw_answer_headers_audit_and_metrics(self):
        h = self.headers("dave")
        for _ in range(2):
            r = self.call(h, "echo", {"message": "x"})
            self.assertIn("result", r.json())
        r = self.call(h, "echo", {"message": "x"})
        self.assertEqual(r.status, 200)  # a JSON-RPC error rides on 200 (as the SDK expects)
        doc = r.json()
        self.assertEqual(doc["id"], 9)
        self.assertEqual(doc["error"]["code"], -32029)
        retry = int(r.header("retry-after"))
        self.assertEqual(retry, doc["error"]["data"]["retryAfter"])
        self.assertEqual(r.header("ratelimit-limit"), "2")
        self.assertEqual(r.header("ratelimit-remaining"), "0")
        self.assertEqual(r.header("ratelimit-policy"), "2;w=3600")
        rec = self.gh.wait_access(lambda x: x.get("consumer") == "dave" and
                                  x.get("mcp", {}).get("rpc_error") == -32029)
        self.assertIsNotNone(rec)
        self.assertEqual(rec["mcp"]["limited"], "rate")
        self.assertEqual(rec["mcp"]["name"], "echo")
        self.assertEqual(rec["mcp"]["server"], "fixture")
        limited = [v for n, lab, v in self.gh.metrics()
                   if n == "gatehouse_mcp_limited_total" and lab.get("name") == "echo"]
        self.assertGreaterEqual(sum(limited), 1)

    def test_quota(self):
        h = self.headers("carol")
        for _ in range(3):
            self.assertIn("result", self.call(h, "weather", {"city": "Oslo"}).json())
        r = self.call(h, "weather", {"city": "Oslo"})
        err = r.json()["error"]
        self.assertEqual(err["code"], -32029)
        self.assertEqual(err["data"]["limit"], "quota")
        self.assertEqual(err["data"]["per"], "day")
        self.assertIn("Quota exceeded for tool weather: 3 calls per day", err["message"])
        self.assertEqual(r.header("x-quota-limit"), "3")
        self.assertEqual(r.header("x-quota-remaining"), "0")
        self.assertLessEqual(int(r.header("retry-after")), 86400)

    def test_per_tool_budget_by_ip(self):
        # whoami and progress, one call per hour per client IP and per tool:
        # whoami's budget is not progress's, and another consumer on the same
        # IP shares it.
        h = self.headers("erin")
        self.assertIn("result", self.call(h, "whoami", {}).json())
        self.assertIn("result", self.call(h, "progress", {}).json())
        r = self.call(self.headers("bob"), "whoami", {})
        self.assertEqual(r.json()["error"]["code"], -32029, r.body)


if __name__ == "__main__":
    unittest.main()
