#!/usr/bin/env python3
"""Request validation at the gateway on the real binary (issue 5).

Admin-API mode: an OpenAPI document imported and deployed with
`validation: {requests: on, responses: report}` gets the request-validation
policy on every route; bad calls get 400 (415) problem+json listing each
violation with its location and never reach the upstream; good calls pass,
chunked bodies included; a rejected body keeps the connection usable;
responses that do not match the document are counted and logged but
unchanged. YAML-file mode: the policy on a hand-written route naming a
`specs:` entry, and a schema that cannot compile is a config error.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, gatehouse_bin, wait_until  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKEN = "it-admin-token-validation-0123456"

SPEC = """openapi: 3.0.3
info: {title: Pets, version: 1.0.0}
servers: [{url: 'http://pets.example.com/v1'}]
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: kind, in: query, schema: {type: array, items: {type: string, enum: [cat, dog]}}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [items]
                properties: {items: {type: array}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses: {'201': {description: created}}
  /pets/{petId}:
    get:
      operationId: showPet
      parameters: [{name: petId, in: path, required: true, schema: {type: integer, format: int64}}]
      responses: {'200': {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [name, tag]
      additionalProperties: false
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string, minLength: 1}
        tag: {type: string, enum: [cat, dog]}
        born: {type: string, format: date}
"""


def errors(resp):
    doc = resp.json()
    return sorted((e["location"], e["keyword"]) for e in doc["errors"])


class AdminDeployed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(None, workers=2, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        api = lambda m, p, b=None, h=None: cls.gh.api(m, p, b, TOKEN, h)  # noqa: E731
        assert api("POST", "/api/v1/apis", {"name": "pets", "owner_team": "zoo"}).status == 201
        r = api("POST", "/api/v1/apis/pets/versions",
                {"version": "1.0.0", "upstream_url": "http://" + cls.up.address + "/v1",
                 "validation": {"requests": "on", "responses": "report"}})
        assert r.status == 201, r
        r = api("POST", "/api/v1/apis/pets/versions/1.0.0/revisions?deploy=true", SPEC,
                {"Content-Type": "application/yaml"})
        assert r.status == 201, r
        ok = wait_until(lambda: cls.gh.request("GET", "/v1/pets?limit=1").status == 200, timeout=10)
        assert ok, "deployed routes never answered"

    def req(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        return self.gh.request(method, path, headers=h, body=body, timeout=10)

    def test_routes_carry_the_policy(self):
        routes = self.gh.api("GET", "/api/v1/routes?tag=api:pets@1.0.0", None, TOKEN).json()["items"]
        by_name = {r["name"]: r for r in routes}
        pol = [p for p in by_name["pets.1.0.0.createPet"]["policies"] if p["name"] == "request-validation"]
        self.assertEqual(pol[0]["config"], {"spec": "pets@1.0.0", "operation": "createPet",
                                            "responses": "report"})

    def test_parameters(self):
        r = self.req("GET", "/v1/pets?limit=10&kind=cat&kind=dog&other=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-upstream-name"), "A")
        before = self.up.count()
        r = self.req("GET", "/v1/pets?limit=abc&kind=cow")
        self.assertEqual(r.status, 400, r)
        self.assertTrue(r.header("content-type").startswith("application/problem+json"))
        doc = r.json()
        self.assertEqual(doc["code"], "request_invalid")
        self.assertEqual(errors(r), [("query.kind/0", "enum"), ("query.limit", "type")])
        by_loc = {e["location"]: e for e in doc["errors"]}
        self.assertEqual(by_loc["query.limit"]["message"], "expected integer, got string")
        self.assertEqual(self.up.count(), before)  # never reached the upstream
        self.assertEqual(errors(self.req("GET", "/v1/pets")), [("query.limit", "required")])
        self.assertEqual(errors(self.req("GET", "/v1/pets?limit=101")), [("query.limit", "maximum")])
        self.assertEqual(self.req("GET", "/v1/pets/42").status, 200)
        self.assertEqual(errors(self.req("GET", "/v1/pets/forty-two")), [("path.petId", "type")])

    def test_bodies(self):
        good = {"name": "Rex", "tag": "dog", "born": "2020-02-29"}
        r = self.req("POST", "/v1/pets", good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body_length"], len(json.dumps(good)))
        r = self.req("POST", "/v1/pets", {"id": 1, "name": "", "tag": "cow", "born": "2021-02-29",
                                          "extra": True})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(errors(r), [("body/born", "format"), ("body/extra", "additionalProperties"),
                                     ("body/id", "readOnly"), ("body/name", "minLength"),
                                     ("body/tag", "enum")])
        r = self.req("POST", "/v1/pets", b"name=Rex", {"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415, r)
        self.assertEqual(r.json()["code"], "unsupported_media_type")
        self.assertEqual(errors(r), [("header.Content-Type", "contentType")])
        r = self.req("POST", "/v1/pets", b"{not json", {"Content-Type": "application/json"})
        self.assertEqual(errors(r), [("body", "json")])
        r = self.req("POST", "/v1/pets")
        self.assertEqual(errors(r), [("body", "required")])

    def test_chunked_body_is_validated_then_forwarded_whole(self):
        body = json.dumps({"name": "Tom", "tag": "cat"}).encode()
        with self.gh.raw() as c:
            half = len(body) // 2
            c.send(b"POST /v1/pets HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" +
                   b"%x\r\n" % half + body[:half] + b"\r\n" +
                   b"%x\r\n" % (len(body) - half) + body[half:] + b"\r\n0\r\n\r\n")
            r = c.read_response("POST")
            self.assertEqual(r.status, 200, r)
            echoed = r.json()
            self.assertEqual(echoed["body_length"], len(body))
            sent = {k.lower(): v for k, v in echoed["headers"]}
            self.assertEqual(sent.get("content-length"), str(len(body)))
            self.assertNotIn("transfer-encoding", sent)
            # An invalid chunked body on the same connection: 400, and the connection lives on.
            bad = b'{"name": 5}'
            c.send(b"POST /v1/pets HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(bad) + bad + b"\r\n0\r\n\r\n")
            r = c.read_response("POST")
            self.assertEqual(r.status, 400, r)
            self.assertEqual(errors(r), [("body", "required"), ("body/name", "type")])
            c.send(b"GET /v1/pets?limit=2 HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
            self.assertEqual(c.read_response("GET").status, 200)

    def test_content_length_body_rejected_keeps_connection(self):
        bad = b'{"name": "x", "tag": "bird"}'
        with self.gh.raw() as c:
            c.send(b"POST /v1/pets HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(bad) + bad)
            r = c.read_response("POST")
            self.assertEqual(r.status, 400, r)
            c.send(b"GET /v1/pets/7 HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n")
            self.assertEqual(c.read_response("GET").status, 200)

    def test_response_report_mode(self):
        # The echo upstream's JSON has no `items`: reported, not changed.
        r = self.req("GET", "/v1/pets?limit=3")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "A")
        rec = self.gh.wait_access(lambda a: a.get("validation", "").startswith("response required")
                                  and "limit=3" not in a.get("path", "x"))
        self.assertIsNotNone(rec, self.gh.access_records()[-3:])
        self.assertIn("required property 'items' is missing", rec["validation"])
        self.assertTrue(wait_until(lambda: self.gh.metric(
            "gatehouse_validation_response_violations_total", route="pets.1.0.0.listPets") >= 1))
        self.assertGreaterEqual(self.gh.metric("gatehouse_validation_rejected_total"), 1)


class FileMode(unittest.TestCase):
    def test_specs_section_and_config_errors(self):
        up = Upstream("B")
        self.addCleanup(up.stop)
        tmp = tempfile.mkdtemp(prefix="gatehouse-it-val-")
        with open(os.path.join(tmp, "pets.yaml"), "w") as f:
            f.write(SPEC)
        config = {
            "specs": [{"name": "pets", "file": "pets.yaml"}],
            "upstreams": [{"name": "pets", "targets": [{"address": up.address, "weight": 1}]}],
            "routes": [{"name": "pets", "match": {"paths": ["/pets", "/pets/{id}"]}, "upstream": "pets",
                        "policies": [{"name": "request-validation", "config": {"spec": "pets"}}]}],
        }
        gh = Gatehouse(config, workers=1, tmpdir=tmp)
        self.addCleanup(gh.cleanup)
        self.assertEqual(gh.request("GET", "/pets?limit=5").status, 200)
        r = gh.request("GET", "/pets?limit=0")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(errors(r), [("query.limit", "minimum")])
        # The operation found by method and path: POST /pets validates its body.
        r = gh.request("POST", "/pets", headers={"Content-Type": "application/json"},
                       body=b'{"name": "Rex"}')
        self.assertEqual(errors(r), [("body", "required")])
        self.assertEqual(gh.request("GET", "/pets/12").status, 200)
        self.assertEqual(errors(gh.request("GET", "/pets/x")), [("path.petId", "type")])

        # A pattern RE2 cannot compile is a config error at load time, with the place.
        bad_dir = tempfile.mkdtemp(prefix="gatehouse-it-val-bad-")
        self.addCleanup(lambda: __import__("shutil").rmtree(bad_dir, ignore_errors=True))
        with open(os.path.join(bad_dir, "pets.yaml"), "w") as f:
            f.write(SPEC.replace("minLength: 1}", "minLength: 1, pattern: '(?=x)'}"))
        cfg_path = os.path.join(bad_dir, "gatehouse.yaml")
        with open(cfg_path, "w") as f:
            f.write("specs:\n  - {name: pets, file: pets.yaml}\n"
                    "upstreams:\n  - {name: pets, targets: [{address: '127.0.0.1:9'}]}\n"
                    "routes:\n  - name: pets\n    match: {paths: [/pets]}\n    upstream: pets\n"
                    "    policies:\n      - {name: request-validation, config: {spec: pets, operation: createPet}}\n")
        import subprocess
        p = subprocess.run([gatehouse_bin(), "check", "-c", cfg_path], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(p.returncode, 0, p)
        out = p.stdout + p.stderr
        self.assertIn("gatehouse.yaml:", out)
        self.assertIn("(?=x)", out)
        self.assertIn("/components/schemas/Pet/properties/name/pattern", out)


if __name__ == "__main__":
    unittest.main()
