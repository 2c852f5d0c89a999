#!/usr/bin/env python3
"""The MCP conformance suite (@modelcontextprotocol/conformance, server
scenarios, revisions 2025-11-25 and 2026-07-28) against Gatehouse proxying
our conformance-fixture server (tests/node/mcp_conformance_server.mjs, the
official SDK) on a route that does not prefix names. Every check must succeed
except the ones listed in EXPECTED (scenario -> check ids -> reason, also in
docs/mcp.md); the test reads the individual checks, not only the totals, and
also fails when an expected failure starts passing (the list must shrink)."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402
from test_mcp import HAVE_SDK, NODE_DIR  # noqa: E402

ROOT = os.environ.get("GATEHOUSE_SOURCE") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONF_DIR = os.path.join(ROOT, "tests", "conformance", "node_modules")
NODE22 = os.path.join(CONF_DIR, ".bin", "node")
CLI = os.path.join(CONF_DIR, "@modelcontextprotocol", "conformance", "dist", "index.js")
HAVE_SUITE = os.path.exists(NODE22) and os.path.exists(CLI)
# Not in the default suite yet: the expected-failure list below is still empty,
# and the first run through Gatehouse failed 10 checks (2025-11-25) and 87
# (2026-07-28), see docs/mcp.md. GATEHOUSE_CONFORMANCE=1 runs it.
ENABLED = os.environ.get("GATEHOUSE_CONFORMANCE") == "1"

# Checks that fail through Gatehouse, by revision and scenario: check id (or
# "*" for every check of the scenario) -> why. Kept in step with docs/mcp.md.
RELAY = "server-to-client requests (sampling, elicitation) are not relayed to the client yet"
EXPECTED = {
    "2025-11-25": {},
    "2026-07-28": {},
}

CONFIG = """\
mcp:
  servers:
    - {{name: conformance, url: "http://127.0.0.1:{port}/mcp"}}
routes:
  - name: conformance
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [conformance], prefix: never}}
"""


class ConformanceFixture:
    """tests/node/mcp_conformance_server.mjs on a free port."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ["node", os.path.join(NODE_DIR, "mcp_conformance_server.mjs"), "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = json.loads(self.proc.stdout.readline())["port"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def run_suite(url, revision, out):
    """Runs every server scenario of `revision`; returns {scenario: [check]}."""
    args = [NODE22, CLI, "server", "--url", url, "-o", out, "--timeout", "10000"]
    args += ["--requirements", revision] if revision == "2026-07-28" else \
        ["--spec-version", revision]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=out)
    results = {}
    for path in glob.glob(os.path.join(out, "**", "checks.json"), recursive=True):
        scenario = os.path.basename(os.path.dirname(path))
        # Result folders are "<scenario>-<timestamp>": strip the stamp.
        parts = scenario.split("-")
        while parts and parts[-1].replace("T", "").replace("Z", "").isdigit():
            parts.pop()
        with open(path) as f:
            results["-".join(parts) or scenario] = json.load(f)
    return proc, results


@unittest.skipUnless(ENABLED, "set GATEHOUSE_CONFORMANCE=1 (expected failures not listed yet)")
@unittest.skipUnless(HAVE_SDK and HAVE_SUITE,
                     "tests/node and tests/conformance node_modules needed (scripts/bootstrap)")
class McpConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = ConformanceFixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(port=cls.fixture.port))
        cls.addClassCleanup(cls.gh.cleanup)
        # localhost, not 127.0.0.1: dns-rebinding-protection wants a localhost URL.
        cls.url = "http://localhost:%d/mcp" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def check_revision(self, revision):
        out = tempfile.mkdtemp(prefix="gatehouse-conformance-")
        self.addCleanup(shutil.rmtree, out, True)
        proc, results = run_suite(self.url, revision, out)
        self.assertTrue(results, "no results; suite output:\n%s\n%s" % (proc.stdout[-3000:],
                                                                        proc.stderr[-3000:]))
        expected = EXPECTED[revision]
        unexpected, fixed = [], []
        for scenario, checks in sorted(results.items()):
            allowed = expected.get(scenario, {})
            for c in checks:
                status = c.get("status")
                if status not in ("FAILURE",):
                    if c["id"] in allowed and status == "SUCCESS":
                        fixed.append("%s/%s" % (scenario, c["id"]))
                    continue
                if c["id"] in allowed or "*" in allowed:
                    continue
                unexpected.append("%s/%s: %s" % (scenario, c["id"], c.get("errorMessage")))
        self.maxDiff = None
        self.assertEqual(unexpected, [], "unexpected failures (%s)" % revision)
        self.assertEqual(fixed, [], "expected failures that now pass: update EXPECTED and docs")
        return results

    def assert_passed(self, results, scenario, check_id):
        checks = {c["id"]: c["status"] for c in results.get(scenario, [])}
        self.assertEqual(checks.get(check_id), "SUCCESS", (scenario, checks))

    def test_2025_11_25(self):
        r = self.check_revision("2025-11-25")
        # Scenarios that pass even when a fixture item is missing are read by
        # their checks: the named tool, prompt and resource really answered.
        self.assert_passed(r, "tools-call-simple-text", "tools-call-simple-text")
        self.assert_passed(r, "prompts-get-with-args", "prompts-get-with-args")
        self.assert_passed(r, "resources-read-text", "resources-read-text")
        self.assert_passed(r, "tools-call-with-progress", "tools-call-with-progress")

    def test_2026_07_28(self):
        r = self.check_revision("2026-07-28")
        self.assert_passed(r, "tools-call-simple-text", "tools-call-simple-text")
        self.assert_passed(r, "resources-read-text", "resources-read-text")


if __name__ == "__main__":
    unittest.main()
