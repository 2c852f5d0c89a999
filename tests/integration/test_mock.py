#!/usr/bin/env python3
"""The mock server on the real binary (docs/mock.md): YAML mock routes over a
`specs:` entry, the `gatehouse mock` command, and an API version deployed
with mock: true then switched to its real upstream with one PATCH.
Named examples, Prefer code/example/dynamic, Accept (406), 404/405, HEAD,
generated bodies (deterministic unless dynamic), response headers, the access
log's "mock" field and gatehouse_mock_responses_total.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Gatehouse, RawClient, check_problem, gatehouse_bin,  # noqa: E402
                     http_request, wait_until, SOURCE)
from upstream import Upstream  # noqa: E402

FIXTURE = os.path.join(SOURCE, "tests", "fixtures", "openapi", "mock-petstore.yaml")
CATS = [{"id": 1, "name": "Fluffy", "tag": "cat"}, {"id": 2, "name": "Tom", "tag": "cat"}]
TOKEN = "it-admin-token-mock-0123456789abcd"


def mock_config():
    return {
        "specs": [{"name": "petstore", "file": FIXTURE}],
        "routes": [
            {"name": "mock-all", "match": {"paths": ["/"]}, "mock": {"spec": "petstore"}},
            {"name": "mock-dyn", "match": {"paths": ["/dyn/"]}, "rewrite": {"strip_prefix": True},
             "mock": {"spec": "petstore", "dynamic": True}},
            {"name": "mock-op", "match": {"paths": ["=/fixed"]},
             "mock": {"spec": "petstore", "operation": "getStatus"}},
            {"name": "mock-lax", "match": {"paths": ["/lax/"]}, "rewrite": {"strip_prefix": True},
             "mock": {"spec": "petstore", "validate": False}},
        ],
    }


class MockRoutes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gh = Gatehouse(mock_config(), workers=1)
        cls.addClassCleanup(cls.gh.cleanup)

    def req(self, method, path, headers=None, body=None):
        return self.gh.request(method, path, headers=headers, body=body)

    def test_named_examples_and_headers(self):
        r = self.req("GET", "/pets")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.json(), CATS)
        self.assertEqual(r.header("x-rate-limit"), "100")
        self.assertTrue(r.header("x-next", "").startswith("https://example.com/"), r)
        rec = self.gh.wait_access(lambda a: a.get("route") == "mock-all" and
                                  a.get("mock") == "example:cats")
        self.assertIsNotNone(rec, self.gh.access_records())
        self.assertEqual(rec["status"], 200)
        self.assertGreater(self.gh.metric("gatehouse_mock_responses_total"), 0)

        dogs = self.req("GET", "/pets", {"Prefer": "example=dogs"})
        self.assertEqual(dogs.json(), [{"id": 3, "name": "Spot", "tag": "dog"}])
        missing = self.req("GET", "/pets", {"Prefer": "example=birds"})
        doc = check_problem(self, missing, 404, "mock_example_not_found")
        self.assertIn("cats, dogs", doc["detail"])

    def test_prefer_code_and_query_spelling(self):
        for r in (self.req("GET", "/pets", {"Prefer": "code=404"}),
                  self.req("GET", "/pets?__code=404")):
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json(), {"code": 404, "message": "no pets"})
        check_problem(self, self.req("GET", "/pets", {"Prefer": "code=418"}), 404,
                      "mock_status_not_defined")
        # showPetById has a default response: any code is answered from it.
        r = self.req("GET", "/pets/7", {"Prefer": "code=503"})
        self.assertEqual(r.status, 503, r)
        self.assertIn("message", r.json())
        check_problem(self, self.req("GET", "/pets", {"Prefer": "code=abc"}), 400, "invalid_prefer")

    def test_accept(self):
        r = self.req("GET", "/pets", {"Accept": "text/csv"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "text/csv")
        self.assertEqual(r.body, b"id,name\n1,Fluffy\n")
        r = self.req("GET", "/pets", {"Accept": "application/xml"})
        check_problem(self, r, 406, "not_acceptable")
        self.assertEqual(r.header("vary"), "Accept")

    def test_unknown_path_and_method(self):
        doc = check_problem(self, self.req("GET", "/nope"), 404, "mock_no_operation")
        self.assertIn("petstore", doc["detail"])
        r = self.req("PATCH", "/pets", body=b"{}")
        check_problem(self, r, 405, "method_not_allowed")
        self.assertEqual(r.header("allow"), "GET, POST")

    def test_generated_bodies(self):
        body = json.dumps({"name": "Rex"}).encode()
        h = {"Content-Type": "application/json"}
        a = self.req("POST", "/pets", h, body)
        b = self.req("POST", "/pets", h, body)
        self.assertEqual(a.status, 201, a)
        self.assertEqual(a.body, b.body)  # static: the same request, the same answer
        pet = a.json()
        for k in ("id", "name", "born", "chip"):
            self.assertIn(k, pet)
        self.assertNotIn("secret", pet)  # writeOnly
        self.assertRegex(pet["born"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(pet["chip"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertTrue(self.gh.wait_access(lambda x: x.get("mock") == "generated"))
        # Dynamic per request: on the dynamic route, or asked for with Prefer.
        dyn = {self.req("POST", "/dyn/pets", h, body).body for _ in range(6)}
        self.assertGreater(len(dyn), 1)
        pref = {self.req("POST", "/pets", dict(h, Prefer="dynamic=true"), body).body
                for _ in range(6)}
        self.assertGreater(len(pref), 1)
        # ...and turned off per request on the dynamic route.
        off = {self.req("POST", "/dyn/pets", dict(h, Prefer="dynamic=false"), body).body
               for _ in range(3)}
        self.assertEqual(len(off), 1)

    def test_request_validation(self):
        h = {"Content-Type": "application/json"}
        # Body: a required property missing and a pattern broken, both listed.
        r = self.req("POST", "/pets", h, json.dumps({"tag": "X1"}).encode())
        doc = check_problem(self, r, 400, "request_invalid")
        locations = {(e["location"], e["keyword"]) for e in doc["errors"]}
        self.assertIn(("body", "required"), locations, doc)
        self.assertIn(("body/tag", "pattern"), locations, doc)
        self.assertTrue(self.gh.wait_access(lambda x: x.get("mock") == "invalid"))
        # Not JSON at all, and a missing required body.
        check_problem(self, self.req("POST", "/pets", h, b"{nope"), 400, "request_invalid")
        check_problem(self, self.req("POST", "/pets", h), 400, "request_invalid")
        # A media type the operation does not accept.
        r = self.req("POST", "/pets", {"Content-Type": "text/plain"}, b"Rex")
        check_problem(self, r, 415, "unsupported_media_type")
        # Parameters: a query parameter out of range, a path parameter not an integer.
        doc = check_problem(self, self.req("GET", "/pets?limit=500"), 400, "request_invalid")
        self.assertEqual(doc["errors"][0]["location"], "query.limit", doc)
        self.assertEqual(doc["errors"][0]["keyword"], "maximum", doc)
        doc = check_problem(self, self.req("GET", "/pets/abc"), 400, "request_invalid")
        self.assertEqual(doc["errors"][0]["location"], "path.petId", doc)
        # Valid requests still get their answers.
        self.assertEqual(self.req("GET", "/pets?limit=5").status, 200)
        self.assertEqual(self.req("POST", "/pets", h, b'{"name":"Rex","tag":"dog"}').status, 201)
        # validate: false answers whatever arrives.
        self.assertEqual(self.req("GET", "/lax/pets?limit=500").status, 200)
        self.assertEqual(self.req("POST", "/lax/pets", h, b'{"tag":"X1"}').status, 201)

    def test_operation_route_empty_body_and_head(self):
        r = self.req("GET", "/fixed")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"state": "green"})
        d = self.req("DELETE", "/pets/1")
        self.assertEqual(d.status, 204, d)
        self.assertEqual(d.body, b"")
        g = self.req("GET", "/pets/1")
        self.assertEqual(g.header("deprecation"), "true")
        with RawClient(self.gh.proxy_port) as c:
            c.send("HEAD /pets HTTP/1.1\r\nHost: t\r\n\r\n")
            h = c.read_response("HEAD")
            self.assertEqual(h.status, 200)
            self.assertEqual(h.body, b"")
            self.assertEqual(int(h.header("content-length")), len(json.dumps(CATS, separators=(",", ":"))))

    def test_keep_alive_after_bodies(self):
        with RawClient(self.gh.proxy_port) as c:
            body = b'{"name":"Rex"}'
            c.send(b"POST /pets HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self.assertEqual(c.read_response().status, 201)
            c.send(b"POST /pets HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                   b"Content-Type: application/json\r\n\r\n"
                   b"5\r\n{\"nam\r\n9\r\ne\":\"Rex\"}\r\n0\r\n\r\n")
            self.assertEqual(c.read_response().status, 201)
            c.send("GET /pets HTTP/1.1\r\nHost: t\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.body), CATS)


class MockConfigErrors(unittest.TestCase):
    def check(self, config_text):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "g.yaml")
            with open(path, "w") as f:
                f.write(config_text)
            p = subprocess.run([gatehouse_bin(), "check", "-c", path], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            return p.stderr

    def test_field_errors(self):
        spec = json.dumps(FIXTURE)
        err = self.check("specs:\n  - {name: petstore, file: %s}\nupstreams:\n"
                         "  - {name: u, targets: [{address: '127.0.0.1:1'}]}\nroutes:\n"
                         "  - name: both\n    match: {paths: ['/']}\n    upstream: u\n"
                         "    mock: {spec: petstore}\n" % spec)
        self.assertRegex(err, r"g\.yaml:\d+:\d+: routes\[0\]\.mock: a route has one of upstream, "
                              r"llm, mcp or mock")
        err = self.check("routes:\n  - name: nospec\n    match: {paths: ['/']}\n    mock: {dynamic: true}\n")
        self.assertRegex(err, r"g\.yaml:\d+:\d+: routes\[0\]\.mock\.spec: a mock route needs the spec")
        err = self.check("specs:\n  - {name: petstore, file: %s}\nroutes:\n  - name: typo\n"
                         "    match: {paths: ['/']}\n    mock: {spec: petstor}\n" % spec)
        self.assertRegex(err, r"routes\[0\]\.mock\.spec: unknown spec \"petstor\".*petstore")
        err = self.check("specs:\n  - {name: petstore, file: %s}\nroutes:\n  - name: op\n"
                         "    match: {paths: ['/']}\n    mock: {spec: petstore, operation: nope}\n" % spec)
        self.assertRegex(err, r"g\.yaml:\d+:\d+: routes\[0\]\.mock\.operation: spec 'petstore' "
                              r"has no operation 'nope'")


class MockCli(unittest.TestCase):
    def start(self, *args):
        p = subprocess.Popen([gatehouse_bin(), "mock", FIXTURE, "--listen", "127.0.0.1:0"] +
                             list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        lines = []
        port = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            line = p.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
            if port and line.strip().startswith("DELETE"):
                break
        self.assertIsNotNone(port, "".join(lines) + p.stderr.read1(65536).decode())
        # Drain the access log so the pipe never fills.
        threading.Thread(target=lambda: [None for _ in iter(p.stdout.readline, b"")],
                         daemon=True).start()
        threading.Thread(target=lambda: [None for _ in iter(p.stderr.readline, b"")],
                         daemon=True).start()
        return p, port, "".join(lines)

    def stop(self, p):
        p.terminate()
        self.assertEqual(p.wait(30), 0)

    def test_serves_the_spec(self):
        p, port, banner = self.start()
        self.assertIn("Mock Petstore 1.0.0 (openapi-3.0)", banner)
        self.assertRegex(banner, r"GET\s+/pets\s+listPets")
        self.assertRegex(banner, r"DELETE\s+/pets/\{petId\}\s+deletePet")
        r = http_request(port, "GET", "/pets")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), CATS)
        r = http_request(port, "GET", "/pets", {"Prefer": "code=404"})
        self.assertEqual(r.status, 404)
        self.assertEqual(http_request(port, "GET", "/nowhere").status, 404)
        a = http_request(port, "GET", "/pets/3").body
        self.assertEqual(a, http_request(port, "GET", "/pets/3").body)
        self.stop(p)

    def test_dynamic_flag(self):
        p, port, banner = self.start("--dynamic")
        self.assertIn("dynamic", banner)
        bodies = {http_request(port, "GET", "/pets/3").body for _ in range(6)}
        self.assertGreater(len(bodies), 1)
        self.stop(p)

    def test_bad_spec(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.yaml")
            with open(bad, "w") as f:
                f.write("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  pets: {}\n")
            p = subprocess.run([gatehouse_bin(), "mock", bad, "--listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertRegex(p.stderr, r"bad\.yaml:4:\d+: .*must start with '/'")


class MockDeployedVersion(unittest.TestCase):
    """APIs as assets: `mock: true` on a version deploys mock routes; one
    PATCH switches them to the real upstream and back."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(None, workers=1, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    def api(self, method, path, body=None, headers=None):
        return self.gh.api(method, path, body, TOKEN, headers)

    def test_mock_then_real_upstream(self):
        with open(FIXTURE) as f:
            spec = f.read()
        r = self.api("POST", "/api/v1/apis", {"name": "pets", "owner_team": "zoo"})
        self.assertEqual(r.status, 201, r)
        r = self.api("POST", "/api/v1/apis/pets/versions", {"version": "1.0.0", "mock": True})
        self.assertEqual(r.status, 201, r)
        r = self.api("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", spec,
                     {"Content-Type": "application/yaml"})
        self.assertEqual(r.status, 201, r)

        def get(path):
            try:
                return self.gh.request("GET", path, timeout=5)
            except OSError:
                return None
        self.assertTrue(wait_until(lambda: (get("/v1/pets") or r).status == 200, timeout=10))
        m = get("/v1/pets")
        self.assertEqual(m.json(), CATS)
        routes = self.api("GET", "/api/v1/routes?tag=api:pets@1.0.0").json()["items"]
        self.assertTrue(routes)
        self.assertTrue(all(x.get("mock", {}).get("spec") == "pets@1.0.0" for x in routes), routes)

        r = self.api("PATCH", "/api/v1/apis/pets/versions/1.0.0",
                     {"mock": False, "upstream_url": "http://" + self.up.address})
        self.assertEqual(r.status, 200, r)

        # upstream_url has no path, so the routes lose the spec's /v1 base path.
        def real():
            x = get("/pets")
            return x is not None and x.header("x-upstream-name") == "A"
        self.assertTrue(wait_until(real, timeout=10))
        r = self.api("PATCH", "/api/v1/apis/pets/versions/1.0.0", {"mock": True})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(wait_until(lambda: (get("/pets") or r).status == 200 and
                                   get("/pets").header("x-upstream-name") is None, timeout=10))
        self.assertEqual(get("/pets").json(), CATS)


if __name__ == "__main__":
    unittest.main()
