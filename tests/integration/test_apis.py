#!/usr/bin/env python3
"""APIs as assets on the real binary: an OpenAPI document imported through
the admin API becomes routes that proxy to a real upstream (with key-auth
from the document's apiKey scheme); a new revision adds a route and rollback
takes it away in one call; deprecation adds Deprecation/Sunset/Link headers;
retirement answers 410 problem+json pointing at the successor; every step is
audited and the endpoints are in the served OpenAPI document.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, gatehouse_bin, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKEN = "it-admin-token-apis-0123456789ab"

SPEC_V1 = """openapi: 3.0.3
info: {title: Pets, version: 1.0.0}
servers: [{url: 'https://pets.example.com/v1'}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Pet-Key}
paths:
  /pets:
    get:
      operationId: listPets
      responses: {'200': {description: ok}}
  /pets/{petId}:
    get:
      operationId: showPet
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
  /private:
    get:
      operationId: private
      security: [{key: []}]
      responses: {'200': {description: ok}}
"""

SPEC_V2 = SPEC_V1 + """  /owners:
    get:
      operationId: listOwners
      responses: {'200': {description: ok}}
"""


class Apis(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(None, workers=2, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    def api(self, method, path, body=None, headers=None):
        return self.gh.api(method, path, body, TOKEN, headers)

    def ok(self, resp, status=200):
        self.assertEqual(resp.status, status, resp)
        return resp.json() if resp.body else None

    def get(self, path, headers=None):
        try:
            return self.gh.request("GET", path, headers=headers, timeout=5)
        except OSError:
            return None

    def status(self, path, headers=None):
        r = self.get(path, headers)
        return r.status if r else 0

    def test_import_deploy_lifecycle_rollback(self):
        base = "/api/v1/apis/pets/versions/1.0.0"
        self.ok(self.api("POST", "/api/v1/apis",
                         {"name": "pets", "owner_team": "zoo", "tags": ["public"]}), 201)
        self.ok(self.api("POST", "/api/v1/apis/pets/versions",
                         {"version": "1.0.0", "upstream_url": "http://" + self.up.address}), 201)
        # A consumer for the apiKey scheme (key-auth reads X-Pet-Key).
        self.ok(self.api("POST", "/api/v1/consumers",
                         {"name": "alice", "credentials": [{"type": "key-auth", "key": "alice-key"}]}), 201)

        # Import revision 1 as YAML and deploy it in the same call.
        rev = self.ok(self.api("POST", base + "/revisions?deploy=true", SPEC_V1,
                               headers={"Content-Type": "application/yaml"}), 201)
        self.assertEqual(rev["number"], 1)
        self.assertEqual(rev["operations"], 3)
        self.assertTrue(wait_until(lambda: self.status("/pets") == 200, timeout=5))
        r = self.get("/pets/42")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/pets/42")
        self.assertEqual(r.header("x-upstream-name"), "A")
        self.assertEqual(self.status("/pets/42/more"), 404)  # the template is one segment
        # Security from the document: key-auth on /private only.
        self.assertEqual(self.status("/private"), 401)
        self.assertEqual(self.status("/private", {"X-Pet-Key": "alice-key"}), 200)
        routes = self.ok(self.api("GET", "/api/v1/routes?tag=api:pets@1.0.0"))["items"]
        self.assertEqual(sorted(x["name"] for x in routes),
                         ["pets.1.0.0.listPets", "pets.1.0.0.private", "pets.1.0.0.showPet"])

        # Revision 2 adds /owners; rolling back to 1 removes it, in one call each.
        self.ok(self.api("POST", base + "/revisions", {"document": SPEC_V2, "deploy": True}), 201)
        self.assertTrue(wait_until(lambda: self.status("/owners") == 200, timeout=5))
        v = self.ok(self.api("POST", base + "/deploy", {"revision": 1}))
        self.assertEqual(v["deployed_revision"], 1)
        self.assertTrue(wait_until(lambda: self.status("/owners") == 404, timeout=5))
        self.assertEqual(self.status("/pets"), 200)

        # Lifecycle: checked transitions.
        bad = self.api("POST", base + "/lifecycle", {"state": "retired"})
        self.assertEqual(bad.status, 409, bad)
        self.assertEqual(bad.json()["code"], "invalid_transition")
        self.ok(self.api("POST", base + "/lifecycle", {"state": "published"}))
        self.ok(self.api("POST", base + "/lifecycle",
                         {"state": "deprecated", "sunset": "2026-12-31T23:59:59Z",
                          "successor": "2.0.0", "successor_url": "/v2"}))

        # Each worker swaps in the new snapshot on its own: wait until requests on
        # both paths (new connections, so either worker) see the headers.
        def deprecated():
            rs = [self.get(p) for p in ("/pets", "/pets/1", "/pets", "/pets/1")]
            return all(r is not None and r.status == 200 and r.header("deprecation") is not None
                       for r in rs)
        self.assertTrue(wait_until(deprecated, timeout=5))
        r = self.get("/pets/1")
        self.assertTrue(r.header("deprecation").startswith("@"), r)
        self.assertEqual(r.header("sunset"), "Thu, 31 Dec 2026 23:59:59 GMT")
        self.assertEqual(r.header("link"), '</v2>; rel="successor-version"')

        self.ok(self.api("POST", base + "/lifecycle", {"state": "retired"}))
        self.assertTrue(wait_until(
            lambda: all(self.status(p) == 410 for p in ("/pets", "/private", "/pets", "/private")),
            timeout=5))
        r = self.get("/private")  # 410 before authentication
        self.assertEqual(r.status, 410, r)
        self.assertTrue(r.header("content-type").startswith("application/problem+json"), r)
        doc = r.json()
        self.assertEqual(doc["code"], "api_retired")
        self.assertEqual(doc["successor"], "/v2")
        self.assertEqual(doc["successor_version"], "2.0.0")
        self.assertEqual(r.header("link"), '</v2>; rel="successor-version"')

        # Audited: every lifecycle change of the version, with before/after.
        audit = self.ok(self.api("GET", "/api/v1/audit?kind=api_version&limit=100"))["items"]
        states = [e["after"]["body"]["state"] for e in audit if e.get("after")]
        for s in ("published", "deprecated", "retired"):
            self.assertIn(s, states)
        self.assertTrue(all(e["actor"].startswith("token:") for e in audit), audit)

    def test_openapi_document_lists_api_endpoints(self):
        doc = self.ok(self.gh.api("GET", "/api/v1/openapi.json", token=TOKEN))
        for p in ("/api/v1/apis", "/api/v1/apis/{api}/versions/{version}/revisions",
                  "/api/v1/apis/{api}/versions/{version}/deploy",
                  "/api/v1/apis/{api}/versions/{version}/lifecycle"):
            self.assertIn(p, doc["paths"])

    def test_bad_document_is_located(self):
        self.api("POST", "/api/v1/apis", {"name": "broken", "owner_team": "t"})
        self.ok(self.api("POST", "/api/v1/apis/broken/versions", {"version": "2024-06-01"}), 201)
        r = self.api("POST", "/api/v1/apis/broken/versions/2024-06-01/revisions",
                     "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {responses: {'200': {$ref: '#/x'}}}\n")
        self.assertEqual(r.status, 400, r)
        doc = r.json()
        self.assertEqual(doc["code"], "unresolved_ref")
        self.assertEqual(doc["pointer"], "/paths/~1a/get/responses/200/$ref")
        self.assertEqual(doc["line"], 5)


    def test_cli_diff_exit_codes(self):
        d = tempfile.mkdtemp(prefix="gatehouse-diff-")
        old, new, broken = (os.path.join(d, n) for n in ("old.yaml", "new.yaml", "broken.yaml"))
        with open(old, "w") as f:
            f.write(SPEC_V1)
        with open(new, "w") as f:
            f.write(SPEC_V2)
        with open(broken, "w") as f:
            f.write("openapi: 3.0.0\ninfo: [\n")

        def cli(*args):
            p = subprocess.run([gatehouse_bin(), "openapi", "diff"] + list(args),
                               capture_output=True, text=True, timeout=60)
            return p.returncode, p.stdout, p.stderr
        code, out, _ = cli(old, new)
        self.assertEqual(code, 0, out)  # an added operation breaks nobody
        self.assertIn("[endpoint-added] GET /owners", out)
        code, out, _ = cli(new, old, "--format", "json")
        self.assertEqual(code, 1, out)
        doc = json.loads(out)
        self.assertTrue(doc["breaking"])
        self.assertEqual(doc["changes"][0]["id"], "api-path-removed-without-deprecation")
        self.assertEqual(doc["changes"][0]["operation"], "GET /owners")
        code, _, err = cli(old, broken)
        self.assertEqual(code, 2)
        self.assertIn("broken.yaml:3:", err)


if __name__ == "__main__":
    unittest.main()
