// The official SDK client doing MCP authorization against Gatehouse: no token
// at first, so the 401's resource_metadata leads it to the route's RFC 9728
// document, then to the authorization server it names, where it gets a token
// with the client_credentials grant (ClientCredentialsProvider) for the
// resource (RFC 8707 `resource`), and retries. Prints one JSON line.
// Usage: mcp_oauth_client.mjs URL ISSUER CLIENT_ID CLIENT_SECRET [SCOPE]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const [url, issuer, clientId, clientSecret, scope] = process.argv.slice(2);

async function main() {
  const authProvider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer, scope });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
  const client = new Client({ name: "gatehouse-oauth-test", version: "1.0.0" });
  await client.connect(transport);
  const out = { sessionId: transport.sessionId, token: authProvider.tokens()?.access_token ?? null };
  out.tools = (await client.listTools()).tools.map((t) => t.name);
  const r = await client.callTool({ name: "whoami", arguments: {} });
  out.whoami = JSON.parse(r.content[0].text);
  await client.close();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e?.message || e), code: e?.code }));
  process.exitCode = 1;
});
