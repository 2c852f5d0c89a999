"""REST to MCP for an API managed in Gatehouse, the issue's own shape
(`mcp.servers: [{name: petstore, openapi: {api: petstore}}]`): the API is
imported and deployed through the admin API (its routes proxy to a real
upstream), the settings file exposes it as an MCP server, and the official
SDK client lists its operations as tools and calls them; each call goes
through the deployed route. A new deployed revision changes the tools."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Gatehouse, wait_until  # noqa: E402
from test_mcp import HAVE_SDK, node_client  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKEN = "it-admin-token-mcp-api-0123456789"

SPEC_V1 = """openapi: 3.0.3
info: {title: Petstore, version: 1.0.0}
servers: [{url: 'https://petstore.example.com/v1'}]
paths:
  /pets:
    get:
      operationId: listPets
      summary: List the pets
      responses: {'200': {description: ok}}
  /pets/{petId}:
    get:
      operationId: showPet
      summary: One pet
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok}}
"""

SPEC_V2 = SPEC_V1 + """  /owners:
    get:
      operationId: listOwners
      responses: {'200': {description: ok}}
"""

SETTINGS = """\
mcp:
  servers:
    - {name: petstore, openapi: {api: petstore}}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpManagedApi(unittest.TestCase):
    def test_a_deployed_api_is_an_mcp_server(self):
        up = Upstream("pets")
        self.addCleanup(up.stop)
        gh = Gatehouse(None, workers=2, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        self.addCleanup(gh.cleanup)

        def api(method, path, body=None, headers=None, status=None):
            r = gh.api(method, path, body, TOKEN, headers)
            if status:
                self.assertEqual(r.status, status, r)
            return r.json() if r.body else None

        base = "/api/v1/apis/petstore/versions/1.0.0"
        api("POST", "/api/v1/apis", {"name": "petstore", "owner_team": "zoo"}, status=201)
        api("POST", "/api/v1/apis/petstore/versions",
            {"version": "1.0.0", "upstream_url": "http://" + up.address}, status=201)
        api("POST", base + "/revisions?deploy=true", SPEC_V1,
            headers={"Content-Type": "application/yaml"}, status=201)
        gh.stop()

        # The MCP server names the managed API; the settings file holds it
        # (stdio commands and MCP servers never come from the admin API).
        settings = os.path.join(gh.tmpdir, "settings.yaml")
        with open(settings, "w") as f:
            f.write(SETTINGS)
        gh.extra_args = list(gh.extra_args) + ["--settings", settings]
        gh.start()
        api("POST", "/api/v1/routes",
            {"name": "tools", "match": {"paths": ["/mcp"]}, "mcp": {"servers": ["petstore"]}},
            status=201)
        url = "http://127.0.0.1:%d/mcp" % gh.proxy_port
        self.assertTrue(wait_until(lambda: node_client(url, "list").get("tools") is not None,
                                   timeout=10))

        out = node_client(url, "list")
        self.assertNotIn("error", out, out)
        self.assertEqual(sorted(out["tools"]["names"]), ["listPets", "showPet"])

        out = node_client(url, "call", "", "showPet", json.dumps({"petId": "42"}))
        self.assertNotIn("error", out, out)
        result = out["result"]
        self.assertFalse(result.get("isError"), result)
        # The upstream's echo: the deployed route's path (base path /v1 dropped by
        # the deployment's routes as for a direct call) and its name.
        seen = json.loads(result["content"][0]["text"])
        self.assertEqual(seen["path"], "/pets/42")
        # The call went through the deployed route: its access-log line says so.
        gh.wait_access(lambda r: r.get("route") == "petstore.1.0.0.showPet" and
                       r.get("protocol") == "internal")

        # Revision 2 deployed: the next list has its new operation.
        api("POST", base + "/revisions", {"document": SPEC_V2, "deploy": True}, status=201)
        self.assertTrue(wait_until(
            lambda: "listOwners" in (node_client(url, "list").get("tools") or {}).get("names", []),
            timeout=10))
        gh.stop_and_check()


if __name__ == "__main__":
    unittest.main()
