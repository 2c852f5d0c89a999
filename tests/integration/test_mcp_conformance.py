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
import re
import shutil
import subprocess
import sys
import tempfile
import time
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


def _all(reason, *ids):
    """EXPECTED entries: each check id of a scenario failing for `reason`."""
    return {i: reason for i in ids}


# Checks that fail through Gatehouse, by revision and scenario: check id ->
# why (built with _all). Every one is a check id (no wildcards), so a check
# that starts passing fails the test until it leaves this list. Kept in step
# with docs/mcp.md. None is expected now.
EXPECTED = {
    # Sampling and elicitation pass: the gateway relays the fixture's requests
    # (sent on the tool call's own stream) to the suite's client, and turns
    # them into input-required results for a 2026-07-28 client; a task tool
    # that asks at once is answered so before it becomes a task
    # (tasks-mrtr-composition, the fixture's test_tool_with_task).
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
        # Result folders are "server-<scenario>-<ISO time with dashes>".
        folder = os.path.basename(os.path.dirname(path))
        scenario = re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", folder)
        scenario = scenario[len("server-"):] if scenario.startswith("server-") else scenario
        with open(path) as f:
            results[scenario] = json.load(f)
    return proc, results


def compare(results, expected):
    """(unexpected failures, listed failures that did not fail) of one run."""
    unexpected, fixed = [], []
    for scenario, checks in sorted(results.items()):
        allowed = expected.get(scenario, {})
        failed = {c["id"] for c in checks if c.get("status") == "FAILURE"}
        for c in checks:
            if c.get("status") == "FAILURE" and c["id"] not in allowed:
                unexpected.append("%s/%s: %s" % (scenario, c["id"], c.get("errorMessage")))
        fixed += ["%s/%s" % (scenario, i) for i in sorted(set(allowed) - failed)]
    # A listed scenario that did not run at all is stale too.
    fixed += ["%s (not run)" % s for s in sorted(set(expected) - set(results))]
    return unexpected, fixed


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
        start = time.monotonic()
        proc, results = run_suite(self.url, revision, out)
        sys.stderr.write("[conformance %s: %d scenarios, %.1fs] " %
                         (revision, len(results), time.monotonic() - start))
        self.assertTrue(results, "no results; suite output:\n%s\n%s" % (proc.stdout[-3000:],
                                                                        proc.stderr[-3000:]))
        unexpected, fixed = compare(results, EXPECTED[revision])
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
        for scenario in ("tools-call-simple-text", "prompts-get-with-args", "resources-read-text",
                         "tools-call-with-progress", "completion-complete", "logging-set-level",
                         "resources-subscribe", "tools-call-with-logging"):
            self.assert_passed(r, scenario, scenario)
        self.assert_passed(r, "dns-rebinding-protection", "localhost-host-rebinding-rejected")
        self.assert_passed(r, "dns-rebinding-protection", "localhost-host-valid-accepted")

    def test_2026_07_28(self):
        r = self.check_revision("2026-07-28")
        for scenario in ("tools-call-simple-text", "resources-read-text", "completion-complete"):
            self.assert_passed(r, scenario, scenario)
        # Input asked before the task exists (the fixture's test_tool_with_task),
        # and input asked by a running task (confirm_delete, multi_input).
        self.assert_passed(r, "tasks-mrtr-composition",
                           "sep-2663-mrtr-synchronous-before-task-creation")
        for check in ("sep-2663-tasks-get-status-input-required",
                      "tasks-mrtr-tasks-update-resumes", "tasks-mrtr-partial-fulfillment"):
            self.assert_passed(r, "tasks-mrtr-input", check)
        for check in ("sep-2549-tools-list-caching-hints", "sep-2549-resources-read-caching-hints",
                      "sep-2549-cache-scope-valid"):
            self.assert_passed(r, "caching", check)
        for check in ("sep-2575-request-meta-invalid-missing-client-capabilities",
                      "sep-2575-http-server-method-not-found-404-ping",
                      "sep-2575-http-server-unsupported-version-400",
                      "sep-2575-server-no-log-without-loglevel"):
            self.assert_passed(r, "server-stateless", check)
        # SEP-2243 against the fixture's test_custom_header (x-mcp-header).
        for check in ("sep-2243-server-decode-base64", "sep-2243-server-validate-param-match",
                      "sep-2243-server-reject-invalid-param-chars",
                      "sep-2243-server-reject-param-mismatch"):
            self.assert_passed(r, "http-custom-header-server-validation", check)


if __name__ == "__main__":
    unittest.main()
