#!/usr/bin/env python3
"""REST to MCP: an OpenAPI document (a `specs:` entry) exposed as an MCP
server, one tool per operation, called through the official SDK client. A
call is a request to the gateway itself: routed, passed through the route's
policies for the MCP caller's consumer, balanced over the route's upstream
targets (two in-repo test upstreams, tests/integration/upstream.py, which
echo what they received)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, Nginx, gatehouse_bin  # noqa: E402
from test_mcp import HAVE_SDK, node_client  # noqa: E402
from test_tls import OPENSSL, Pki  # noqa: E402
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

# A form body (application/x-www-form-urlencoded) and a body no call can send.
NOTES_SPEC = """openapi: 3.0.3
info: {title: Notes, version: "1"}
servers: [{url: "/v1"}]
paths:
  /notes:
    post:
      operationId: addNote
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties: {text: {type: string}, tag: {type: array, items: {type: string}}}
      responses: {"200": {description: ok}}
  /files:
    post:
      operationId: upload
      requestBody:
        required: true
        content: {multipart/form-data: {schema: {type: object}}}
      responses: {"200": {description: ok}}
"""

# An operation whose path is the MCP route's own: calls never loop into it.
LOOP_SPEC = """openapi: 3.0.3
info: {title: Loop, version: "1"}
paths:
  /mcp:
    post:
      operationId: loop
      responses: {"200": {description: ok}}
"""

CONFIG = """\
upstreams:
  - {{name: petapi, targets: [{{address: "{a}"}}, {{address: "{b}"}}]}}
specs:
  - {{name: pets, document: {spec}}}
  - {{name: private, document: {private_spec}}}
  - {{name: status, document: {status_spec}}}
  - {{name: notes, document: {notes_spec}}}
  - {{name: loop, document: {loop_spec}}}
mcp:
  servers:
    - {{name: pets, openapi: {{spec: pets}}}}
    - {{name: picked, openapi: {{spec: pets, operations: [getPet]}}}}
    - {{name: status, openapi: {{spec: status}}}}
    - {{name: private, openapi: {{spec: private, operations: [getPet]}}}}
    - {{name: notes, openapi: {{spec: notes}}}}
    - {{name: loop, openapi: {{spec: loop}}}}
consumers:
  - {{name: alice, groups: [owners], credentials: [{{type: key-auth, key: alice-key}}]}}
  - {{name: carol, groups: [owners], credentials: [{{type: key-auth, key: carol-key}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: bob-key}}]}}
routes:
  # The APIs' own routes: what a tool call goes through.
  - name: pets-api
    match: {{paths: ["/v1/"]}}
    upstream: petapi
    policies:
      - {{name: request-transformer, config: {{headers: {{set: {{X-Via: "$(route.name)"}}}}}}}}
  - name: status-api
    match: {{paths: ["/status/"]}}
    upstream: petapi
  - name: private-api
    match: {{paths: ["/private/"]}}
    upstream: petapi
    policies:
      - {{name: key-auth, config: {{key_names: [x-api-key]}}}}
      - {{name: acl, config: {{allow: [owners]}}}}
      - {{name: rate-limit, config: {{requests: 3, window: 1d, by: consumer}}}}
  # The MCP endpoints.
  - name: tools
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [pets, status], prefix: never}}
  - name: picked
    match: {{paths: ["/picked"]}}
    mcp: {{servers: [picked], prefix: never}}
  - name: anonymous-private
    match: {{paths: ["/anon"]}}
    mcp: {{servers: [private, notes, loop], prefix: never}}
  - name: authed
    match: {{paths: ["/authed"]}}
    mcp: {{servers: [private], prefix: never}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
"""

PRIVATE_SPEC = SPEC.replace("http://pets.example/v1", "http://pets.example/private")


def make_config(a, b):
    return CONFIG.format(a=a, b=b, spec=json.dumps(SPEC), private_spec=json.dumps(PRIVATE_SPEC),
                         status_spec=json.dumps(STATUS_SPEC), notes_spec=json.dumps(NOTES_SPEC),
                         loop_spec=json.dumps(LOOP_SPEC))


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpOpenApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = Upstream("A")
        cls.api.__enter__()
        cls.addClassCleanup(cls.api.__exit__, None, None, None)
        cls.api2 = Upstream("B")
        cls.api2.__enter__()
        cls.addClassCleanup(cls.api2.__exit__, None, None, None)
        cls.gh = Gatehouse(make_config(cls.api.address, cls.api2.address))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def call(self, name, args, path="/mcp", key=""):
        return node_client(self.base + path, "call", key, name, json.dumps(args))

    def test_one_tool_per_operation(self):
        out = node_client(self.base + "/mcp", "list")
        self.assertNotIn("error", out, out)
        self.assertEqual(sorted(out["tools"]["names"]),
                         ["createPet", "getPet", "get_status_code", "listPets"])
        out = node_client(self.base + "/picked", "list")
        self.assertEqual(out["tools"]["names"], ["getPet"])

    def test_calls_become_http_requests(self):
        r = self.call("getPet", {"petId": "a b?c", "X-Trace": "t-1"})["result"]
        seen = r["structuredContent"]
        self.assertEqual(seen["method"], "GET")
        # The path parameter is percent-encoded; the base path comes from servers[0].
        self.assertEqual(seen["path"], "/v1/pets/a%20b%3Fc")
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
        # A slash would change the path the gateway routes: refused before sending.
        out = self.call("getPet", {"petId": "../status/500"})
        self.assertEqual(out.get("code"), -32602, out)
        self.assertIn("dot-segment", out["error"])

    def test_config_errors_name_the_field(self):
        good = make_config(self.api.address, self.api2.address)
        for old, new, field, words in [
                ("operations: [getPet]}}\n    - {name: status",
                 "operations: [getPett]}}\n    - {name: status",
                 "mcp.servers[1].openapi.operations", "getPett"),
                # Calls go through the route now: naming an upstream is refused.
                ("{spec: status}", "{spec: status, upstream: petapi}",
                 "mcp.servers[2].openapi.upstream", "gateway route")]:
            bad = good.replace(old, new)
            self.assertNotEqual(bad, good)
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
                f.write(bad)
            self.addCleanup(os.unlink, f.name)
            p = subprocess.run([gatehouse_bin(), "check", "-c", f.name], capture_output=True,
                               text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(field, p.stdout + p.stderr)
            self.assertIn(words, p.stdout + p.stderr)

    def test_calls_go_through_the_route_balanced(self):
        seen = set()
        for i in range(4):
            r = self.call("getPet", {"petId": str(i)})["result"]
            self.assertFalse(r.get("isError", False), r)
            echo = r["structuredContent"]
            seen.add(echo["name"])
            headers = {k.lower(): v for k, v in echo["headers"]}
            # The route's request transform ran; the route forwarded it.
            self.assertEqual(headers["x-via"], "pets-api")
            self.assertIn("x-forwarded-for", headers)
        # Round-robin over the route upstream's two targets.
        self.assertEqual(seen, {"A", "B"})
        rec = self.gh.wait_access(lambda r: r.get("route") == "pets-api"
                                  and r.get("protocol") == "internal")
        self.assertIsNotNone(rec, "the internal request has its own access-log line")
        self.assertEqual(rec["status"], 200)

    def test_consumer_identity_reaches_the_route(self):
        r = self.call("getPet", {"petId": "7"}, path="/authed", key="alice-key")["result"]
        self.assertFalse(r.get("isError", False), r)
        echo = r["structuredContent"]
        self.assertEqual(echo["path"], "/private/pets/7")
        headers = {k.lower(): v for k, v in echo["headers"]}
        # The route's key-auth stepped aside for the caller its MCP route
        # identified, and its acl saw that consumer (and says so upstream).
        self.assertEqual(headers["x-consumer-username"], "alice")
        self.assertEqual(headers["x-consumer-groups"], "owners")
        # The client's credential never left the MCP route.
        self.assertNotIn("x-api-key", headers)
        rec = self.gh.wait_access(lambda r: r.get("route") == "private-api"
                                  and r.get("consumer") == "alice")
        self.assertIsNotNone(rec)
        self.assertEqual(rec["protocol"], "internal")
        # From outside, nothing a client sends stands for an identity: the
        # same route wants its own credential.
        r = self.gh.request("GET", "/private/pets/7",
                            headers={"X-Consumer-Username": "alice", "X-Consumer": "alice"})
        self.assertEqual(r.status, 401)
        r = self.gh.request("GET", "/private/pets/7", headers={"x-api-key": "alice-key"})
        self.assertEqual(r.status, 200)

    def test_route_refusals_are_tool_errors(self):
        # Anonymous MCP caller: the API route's key-auth answers 401.
        r = self.call("getPet", {"petId": "1"}, path="/anon")["result"]
        self.assertTrue(r["isError"], r)
        text = r["content"][0]["text"]
        self.assertTrue(text.startswith("HTTP 401 missing_credentials: no API key found"), text)
        # Identified, but not in the group the route's acl allows: 403.
        r = self.call("getPet", {"petId": "1"}, path="/authed", key="bob-key")["result"]
        self.assertTrue(r["isError"], r)
        self.assertTrue(r["content"][0]["text"].startswith("HTTP 403 acl_forbidden"), r)
        # The route's rate limit counts the consumer's calls: the 4th is 429.
        for _ in range(3):
            r = self.call("getPet", {"petId": "2"}, path="/authed", key="carol-key")["result"]
            self.assertFalse(r.get("isError", False), r)
        r = self.call("getPet", {"petId": "2"}, path="/authed", key="carol-key")["result"]
        self.assertTrue(r["isError"], r)
        text = r["content"][0]["text"]
        self.assertTrue(text.startswith("HTTP 429 rate_limited"), text)
        self.assertIn("Retry-After", text)

    def test_calls_are_not_routed_into_an_mcp_route(self):
        r = self.call("loop", {}, path="/anon")["result"]
        self.assertTrue(r["isError"], r)
        self.assertIn("MCP or AI route", r["content"][0]["text"])

    def test_form_bodies(self):
        r = self.call("addNote", {"body": {"text": "a&b", "tag": ["x", "y"]}}, path="/anon")
        echo = r["result"]["structuredContent"]
        headers = {k.lower(): v for k, v in echo["headers"]}
        self.assertEqual(headers["content-type"], "application/x-www-form-urlencoded")
        self.assertEqual(echo["body_length"], len("text=a%26b&tag=x&tag=y"))
        out = self.call("addNote", {"body": {"text": {"nested": 1}}}, path="/anon")
        self.assertEqual(out.get("code"), -32602, out)
        self.assertIn("cannot be an object in a form body", out["error"])
        out = self.call("upload", {"body": "x"}, path="/anon")
        self.assertEqual(out.get("code"), -32602, out)
        self.assertIn("multipart/form-data", out["error"])


TLS_SPEC = """openapi: 3.0.3
info: {title: Nginx, version: "1"}
paths:
  /nginx/tls:
    get:
      operationId: tlsInfo
      responses: {"200": {description: ok}}
"""


@unittest.skipUnless(HAVE_SDK and OPENSSL and os.path.exists("/usr/sbin/nginx"),
                     "needs the MCP SDK, openssl and nginx")
class McpOpenApiTls(unittest.TestCase):
    """The route's upstream speaks TLS (verified, SNI): a tool call uses it as
    a client's request would."""

    def test_tls_upstream(self):
        d = tempfile.mkdtemp(prefix="gatehouse-mcp-tls-")
        os.chmod(d, 0o755)
        self.addCleanup(subprocess.run, ["rm", "-rf", d])
        pki = Pki(d, "up")
        crt, key = pki.issue("nginx", "/CN=upstream.test", dns=["upstream.test"])
        ng = Nginx(tls={"cert": crt, "key": key})
        self.addCleanup(ng.cleanup)
        gh = Gatehouse({
            "upstreams": [{"name": "ng", "targets": [ng.tls_address],
                           "tls": {"sni": "upstream.test", "ca_file": pki.ca_crt}}],
            "specs": [{"name": "ng", "document": TLS_SPEC}],
            "mcp": {"servers": [{"name": "ng", "openapi": {"spec": "ng"}}]},
            "routes": [{"name": "nginx", "match": {"paths": ["/nginx/"]}, "upstream": "ng"},
                       {"name": "tools", "match": {"paths": ["/mcp"]},
                        "mcp": {"servers": ["ng"], "prefix": "never"}}]})
        self.addCleanup(gh.cleanup)
        out = node_client("http://127.0.0.1:%d/mcp" % gh.proxy_port, "call", "", "tlsInfo", "{}")
        r = out["result"]
        self.assertFalse(r.get("isError", False), r)
        self.assertTrue(r["content"][0]["text"].startswith("tls TLSv1."), r)
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
