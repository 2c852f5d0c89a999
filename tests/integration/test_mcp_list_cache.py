#!/usr/bin/env python3
"""List caching on an MCP route: an upstream's tools list is fetched once and
served from the cache until the upstream announces notifications/tools/
list_changed (then fetched again); a failing upstream is reported in _meta
and skipped, not cached, and does not stop the others' lists."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from test_mcp import HAVE_SDK, INIT, JSON_HEADERS, Fixture, free_port, node_client  # noqa: E402

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{fixture}/mcp"}}
    - {{name: down, url: "http://127.0.0.1:{down}/mcp", timeout: 2s}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [fixture, down]}}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpListCache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        # One worker: the cache is per worker, so every request meets the same one.
        cls.gh = Gatehouse(CONFIG.format(fixture=cls.fixture.port, down=free_port()), workers=1)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.url = "http://127.0.0.1:%d/mcp" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def post(self, h, method, params=None):
        body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": method, "params": params or {}})
        r = http_request(self.gh.proxy_port, "POST", "/mcp", headers=h, body=body)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def session(self):
        r = http_request(self.gh.proxy_port, "POST", "/mcp", headers=JSON_HEADERS, body=INIT)
        self.assertEqual(r.status, 200, r.body)
        return dict(JSON_HEADERS, **{"mcp-session-id": r.header("mcp-session-id"),
                                     "mcp-protocol-version": "2025-11-25"})

    def lists(self):
        return self.fixture.stats()["toolLists"]

    def test_cached_until_list_changed(self):
        h = self.session()
        before = self.lists()
        for _ in range(3):
            r = self.post(h, "tools/list")
            names = [t["name"] for t in r["result"]["tools"]]
            self.assertIn("weather", names)
            # The failing server is reported on every answer (never cached).
            down = r["result"]["_meta"]["io.gatehouse/unavailable"]
            self.assertEqual([u["server"] for u in down], ["down"])
        # Calls find their tool in the same cache.
        r = self.post(h, "tools/call", {"name": "weather", "arguments": {"city": "Oslo"}})
        self.assertEqual(r["result"]["content"][0]["text"], "sunny in Oslo")
        self.assertEqual(self.lists(), before + 1)
        # The fixture announces a change while answering: the next list asks again.
        self.post(h, "tools/call", {"name": "notify", "arguments": {}})
        self.post(h, "tools/list")
        self.assertEqual(self.lists(), before + 2)
        self.post(h, "tools/list")
        self.assertEqual(self.lists(), before + 2)

    def test_sdk_client_lists_through_the_cache(self):
        out = node_client(self.url, "list")
        self.assertIn("weather", out["tools"]["names"])
        self.assertEqual([u["server"] for u in out["tools"]["meta"]["io.gatehouse/unavailable"]],
                         ["down"])


if __name__ == "__main__":
    unittest.main()
