#!/usr/bin/env python3
"""Admin listener (/status, /metrics) and `gatehouse check`."""

import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, gatehouse_bin, run_check, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

CONFIG = """\
upstreams:
  - name: users
    targets: [{{address: "{a}", weight: 1}}]
routes:
  - name: user-info
    match: {{paths: ["/v2/user/info"], methods: [GET]}}
    upstream: users
"""

BAD_UNKNOWN_UPSTREAM = """\
upstreams:
  - name: users
    targets: [{address: "127.0.0.1:9", weight: 1}]
routes:
  - name: user-info
    match: {paths: ["/v2/user/info"], methods: [GET]}
    upstream: userz
"""

BAD_SEVERAL = """\
upstreams:
  - name: users
    targets: [{address: "127.0.0.1:9", weight: 1}]
    timeouts: {connect: "5 parsecs"}
routes:
  - name: user-info
    mathc: {paths: ["/v2/user/info"]}
    upstream: users
"""

LINE_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<field>[^:]+): (?P<msg>.+)$")


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


class Admin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(CONFIG.format(a=cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    # -------------------------------------------------------------- status

    def test_status(self):
        r = self.gh.admin("/status")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("content-type", "").startswith("application/json"), r)
        doc = r.json()
        self.assertEqual(doc["status"], "ready")
        self.assertIs(doc["config_loaded"], True)
        self.assertIs(doc["listeners_up"], True)

    def test_unknown_admin_path(self):
        r = self.gh.admin("/no/such/thing")
        self.assertEqual(r.status, 404)
        self.assertTrue(r.header("content-type", "").startswith("application/problem+json"))

    # ------------------------------------------------------------- metrics

    def test_metrics(self):
        for _ in range(3):
            r = self.gh.request("GET", "/v2/user/info")
            self.assertEqual(r.status, 200, r)
        r = self.gh.admin("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r)
        text = r.body.decode()
        m = re.search(r'^gatehouse_route_requests_total\{route="user-info",status_class="2xx"\} '
                      r'(\S+)$', text, re.M)
        self.assertIsNotNone(m, text[:3000])
        self.assertGreaterEqual(float(m.group(1)), 3)
        self.assertRegex(text, r'(?m)^gatehouse_route_request_duration_seconds_bucket\{'
                               r'[^}]*route="user-info"[^}]*le="[^"]+"\} \d+')
        self.assertRegex(text, r'(?m)^gatehouse_route_request_duration_seconds_bucket\{'
                               r'[^}]*le="\+Inf"\} \d+')
        self.assertRegex(text, r"(?m)^gatehouse_active_connections \d+")
        self.assertRegex(text, r"(?m)^gatehouse_config_reloads_total \d+")
        self.assertRegex(text, r"(?m)^# TYPE gatehouse_route_requests_total counter$")

    def test_metrics_histogram_consistent(self):
        self.gh.request("GET", "/v2/user/info")
        samples = self.gh.metrics()
        buckets = [(lab["le"], v) for n, lab, v in samples
                   if n == "gatehouse_route_request_duration_seconds_bucket"
                   and lab.get("route") == "user-info"]
        self.assertTrue(buckets)
        values = [v for _, v in buckets]
        self.assertEqual(values, sorted(values), "histogram buckets must be cumulative")
        count = [v for n, lab, v in samples
                 if n == "gatehouse_route_request_duration_seconds_count"
                 and lab.get("route") == "user-info"]
        self.assertEqual(count, [values[-1]])

    def test_metrics_no_route(self):
        self.gh.request("POST", "/v2/user/info", body=b"x")
        self.gh.request("GET", "/nothing/here")
        self.assertTrue(wait_until(lambda: (self.gh.metric("gatehouse_no_route_total") or 0) >= 2,
                                   timeout=5))

    def test_metrics_counts_this_connection(self):
        with self.gh.raw() as c:
            self.assertEqual(c.request("GET", "/v2/user/info").status, 200)
            self.assertGreaterEqual(self.gh.metric("gatehouse_active_connections"), 1)

    # --------------------------------------------------------------- check

    def check_errors(self, text):
        rc, out, err, path = run_check(text)
        lines = [l for l in (out + err).splitlines() if l.startswith(path + ":")]
        parsed = [LINE_RE.match(l) for l in lines]
        return rc, out + err, path, [p for p in parsed if p]

    def test_check_unknown_upstream(self):
        rc, output, path, errs = self.check_errors(BAD_UNKNOWN_UPSTREAM)
        self.assertEqual(rc, 1, output)
        self.assertTrue(errs, "no FILE:LINE:COL: field: message lines in:\n" + output)
        e = [m for m in errs if m.group("field") == "routes[0].upstream"]
        self.assertTrue(e, output)
        self.assertEqual(e[0].group("file"), path)
        self.assertEqual(int(e[0].group("line")), line_of(BAD_UNKNOWN_UPSTREAM, "userz"), output)
        self.assertGreaterEqual(int(e[0].group("col")), 1)
        self.assertIn("userz", e[0].group("msg"))

    def test_check_reports_every_error(self):
        rc, output, path, errs = self.check_errors(BAD_SEVERAL)
        self.assertEqual(rc, 1, output)
        by_line = {int(m.group("line")): m for m in errs}
        self.assertIn(line_of(BAD_SEVERAL, "parsecs"), by_line, output)
        self.assertIn(line_of(BAD_SEVERAL, "mathc"), by_line, output)
        self.assertIn("match", by_line[line_of(BAD_SEVERAL, "mathc")].group("msg"), output)

    def test_check_yaml_syntax_error(self):
        rc, output, path, errs = self.check_errors("upstreams: [\n  - name: x\n")
        self.assertEqual(rc, 1, output)
        self.assertTrue(errs, output)

    def test_check_good(self):
        rc, out, err, path = run_check(CONFIG.format(a="127.0.0.1:8081"))
        self.assertEqual(rc, 0, out + err)

    def test_check_missing_file(self):
        p = subprocess.run([gatehouse_bin(), "check", "-c", "/nonexistent/gatehouse.yaml"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/nonexistent/gatehouse.yaml", p.stdout + p.stderr)

    def test_serve_refuses_bad_config(self):
        rc, out, err, path = run_check(BAD_UNKNOWN_UPSTREAM)
        p = subprocess.run([gatehouse_bin(), "serve", "-c", path, "--proxy-listen", "127.0.0.1:0",
                            "--admin-listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("userz", p.stderr)


if __name__ == "__main__":
    unittest.main()
