#!/usr/bin/env python3
"""REST to MCP: an OpenAPI document (a `specs:` entry) exposed as an MCP
server, one tool per operation, called through the official SDK client; the
calls reach the in-repo test upstream (tests/integration/upstream.py), which
echoes what it received."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, gatehouse_bin  # noqa: E402
from test_mcp import HAVE_SDK, node_client  # noqa: E402
from upstream import Upstream  # noqa: E402

SPEC = """openapi: 3.0.3
info: {title: Pets, version: "1"}
servers: [{url: "http://pets.example/v1"}]
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}}
      responses: {"200": {description: ok}}
    post:
      operationId: createPet
      summary: Create a pet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses: {"201": {description: created}}
  /pets/{petId}:
    get:
      operationId: getPet
      summary: Info for a pet
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Seen"}}}
components:
  schemas:
    Seen:
      type: object
      required: [method, path]
      properties:
        method: {type: string}
        path: {type: string}
        headers: {type: array}
        nickname: {type: string, nullable: true}
    NewPet:
      type: object
      required: [name]
      properties: {name: {type: string}}
"""

# No servers: no base path (the test upstream answers /status/NNN itself).
STATUS_SPEC = """openapi: 3.1.0
info: {title: Status, version: "1"}
paths:
  /status/{code}:
    get:
      parameters:
        - {name: code, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
"""

CONFIG = """\
upstreams:
  - {{name: petapi, targets: [{{address: "{address}"}}]}}
specs:
  - {{name: pets, document: {spec}}}
  - {{name: status, document: {status_spec}}}
mcp:
  servers:
    - {{name: pets, openapi: {{spec: pets, upstream: petapi}}}}
    - {{name: picked, openapi: {{spec: pets, upstream: petapi, operations: [getPet]}}}}
    - {{name: status, openapi: {{spec: status, upstream: petapi}}}}
routes:
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [pets, status], prefix: never}}
  - name: picked
    match: {{paths: ["/picked"]}}
    mcp: {{servers: [picked], prefix: never}}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpOpenApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = Upstream("P")
        cls.api.__enter__()
        cls.addClassCleanup(cls.api.__exit__, None, None, None)
        cls.gh = Gatehouse(CONFIG.format(address=cls.api.address, spec=json.dumps(SPEC),
                                          status_spec=json.dumps(STATUS_SPEC)))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def call(self, name, args, path="/mcp"):
        return node_client(self.base + path, "call", "", name, json.dumps(args))

    def test_one_tool_per_operation(self):
        out = node_client(self.base + "/mcp", "list")
        self.assertNotIn("error", out, out)
        self.assertEqual(sorted(out["tools"]["names"]),
                         ["createPet", "getPet", "get_status_code", "listPets"])
        out = node_client(self.base + "/picked", "list")
        self.assertEqual(out["tools"]["names"], ["getPet"])

    def test_calls_become_http_requests(self):
        r = self.call("getPet", {"petId": "a b/c", "X-Trace": "t-1"})["result"]
        seen = r["structuredContent"]
        self.assertEqual(seen["method"], "GET")
        # The path parameter is percent-encoded; the base path comes from servers[0].
        self.assertEqual(seen["path"], "/v1/pets/a%20b%2Fc")
        self.assertIn(["X-Trace", "t-1"], [[k, v] for k, v in seen["headers"]])
        self.assertEqual(json.loads(r["content"][0]["text"]), seen)
        self.assertFalse(r.get("isError", False))
        r = self.call("listPets", {"limit": 3, "tag": ["x", "y z"]})["result"]
        self.assertEqual(r["structuredContent"]["path"], "/v1/pets?limit=3&tag=x&tag=y%20z")
        r = self.call("createPet", {"body": {"name": "Rex"}})["result"]
        self.assertEqual(r["structuredContent"]["method"], "POST")
        self.assertEqual(r["structuredContent"]["body_length"], len('{"name":"Rex"}'))
        headers = {k.lower(): v for k, v in r["structuredContent"]["headers"]}
        self.assertEqual(headers["content-type"], "application/json")

    def test_output_schema_from_the_response_schema(self):
        out = node_client(self.base + "/mcp", "list")
        schemas = out["tools"]["outputSchemas"]
        # Only getPet documents a JSON object answer; its root reference is inlined.
        self.assertEqual(sorted(schemas), ["getPet"])
        self.assertEqual(schemas["getPet"]["type"], "object")
        self.assertEqual(schemas["getPet"]["required"], ["method", "path"])
        self.assertEqual(schemas["getPet"]["properties"]["nickname"]["type"], ["string", "null"])
        # The SDK client checks structuredContent against the schema it listed.
        out = node_client(self.base + "/mcp", "listcall", "", "getPet", json.dumps({"petId": "7"}))
        self.assertNotIn("error", out, out)
        self.assertEqual(out["result"]["structuredContent"]["path"], "/v1/pets/7")

    def test_non_2xx_is_a_tool_error_and_bad_arguments_are_32602(self):
        r = self.call("get_status_code", {"code": 404})["result"]
        self.assertTrue(r["isError"])
        self.assertTrue(r["content"][0]["text"].startswith("HTTP 404"))
        out = self.call("getPet", {})
        self.assertEqual(out.get("code"), -32602, out)
        self.assertIn("petId", out["error"])

    def test_config_errors_name_the_field(self):
        bad = CONFIG.format(address=self.api.address, spec=json.dumps(SPEC),
                            status_spec=json.dumps(STATUS_SPEC)).replace(
            "operations: [getPet]", "operations: [getPett]")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(bad)
        self.addCleanup(os.unlink, f.name)
        p = subprocess.run([gatehouse_bin(), "check", "-c", f.name], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("mcp.servers[1].openapi.operations", p.stdout + p.stderr)
        self.assertIn("getPett", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
