// Drives Gatehouse's MCP endpoint with the official SDK client
// (StreamableHTTPClientTransport, or SSEClientTransport with MCP_TRANSPORT=sse) and prints one JSON line with what it saw,
// or {"error": ...}. Usage: mcp_client.mjs URL SCENARIO [API_KEY]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, scenario, apiKey] = process.argv.slice(2);
const headers = apiKey ? { "x-api-key": apiKey } : {};

// MCP_TRANSPORT=sse: the deprecated HTTP+SSE transport (2024-11-05).
const legacy = process.env.MCP_TRANSPORT === "sse";
let rootsAsked = 0;  // roots/list requests this client answered

async function connect() {
  const transport = legacy
    ? new SSEClientTransport(new URL(url), { requestInit: { headers } })
    : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  // "s2c": a client that can be asked for sampling, elicitation and roots.
  const s2c = scenario === "s2c" || scenario === "roots-sync";
  const capabilities = s2c ? { sampling: {}, elicitation: {}, roots: { listChanged: true } } : {};
  const client = new Client({ name: "gatehouse-test", version: "1.0.0" }, { capabilities });
  if (s2c) {
    client.setRequestHandler(CreateMessageRequestSchema, async () =>
      ({ role: "assistant", content: { type: "text", text: "4" }, model: "test-model" }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { name: "Ada" } }));
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      rootsAsked++;
      return { roots: [{ uri: "file:///work", name: "work" }] };
    });
  }
  await client.connect(transport);
  return { client, transport };
}

async function allTools(client) {
  const names = [];
  let cursor;
  let pages = 0;
  const outputSchemas = {};
  let meta;
  do {
    const r = await client.listTools(cursor ? { cursor } : {});
    pages++;
    for (const t of r.tools) {
      names.push(t.name);
      if (t.outputSchema) outputSchemas[t.name] = t.outputSchema;
    }
    meta = meta || r._meta;
    cursor = r.nextCursor;
  } while (cursor);
  return { names, pages, meta, outputSchemas };
}

const text = (r) => (r.content || []).filter((c) => c.type === "text").map((c) => c.text).join("\n");

async function main() {
  const { client, transport } = await connect();
  const out = { sessionId: transport.sessionId, server: client.getServerVersion() };
  if (scenario === "basic") {
    Object.assign(out, { tools: await allTools(client) });
    out.echoEverything = text(await client.callTool({ name: "everything_echo", arguments: { message: "hi" } }));
    out.echoFixture = text(await client.callTool({ name: "fixture_echo", arguments: { message: "hi" } }));
    out.weather = text(await client.callTool({ name: "weather", arguments: { city: "Oslo" } }));
    out.fail = await client.callTool({ name: "fail", arguments: {} });
    try {
      await client.callTool({ name: "get-env", arguments: {} });
      out.denied = "called";
    } catch (e) {
      out.denied = { code: e.code, message: e.message };
    }
    const progress = [];
    const r = await client.callTool({ name: "progress", arguments: {} }, undefined,
      { onprogress: (p) => progress.push(p.progress) });
    out.progress = { values: progress, text: text(r) };
    const everythingProgress = [];
    const r2 = await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
      undefined, { onprogress: (p) => everythingProgress.push(p.progress) });
    out.everythingProgress = { values: everythingProgress, text: text(r2) };
    const res = await client.listResources();
    out.resources = res.resources.map((x) => x.uri);
    out.greeting = (await client.readResource({ uri: "fixture://greeting" })).contents[0].text;
    const prompts = await client.listPrompts();
    out.prompts = prompts.prompts.map((p) => p.name);
    const g = await client.getPrompt({ name: "greet", arguments: { name: "Ada" } });
    out.greet = g.messages[0].content.text;
    out.templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    await client.ping();
    out.ping = true;
    if (!legacy) {
      await transport.terminateSession();
      out.terminated = true;
    }
  } else if (scenario === "list") {
    Object.assign(out, { tools: await allTools(client) });
  } else if (scenario === "notify") {
    // Calls each named tool (argv[5..]), which makes its server send
    // notifications/tools/list_changed; the gateway relays it on the GET
    // stream the SDK opened after initialize. A call is repeated (bounded)
    // while no notification came, since the GET may still be opening.
    let changed = 0;
    let wake = () => {};
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++; wake(); });
    out.notified = [];
    for (const name of process.argv.slice(5)) {
      const before = changed;
      let calls = 0;
      while (changed === before && calls < 10) {
        calls++;
        await client.callTool({ name, arguments: {} });
        await new Promise((r) => { wake = r; setTimeout(r, 1000); });
      }
      out.notified.push({ name, calls, received: changed - before });
    }
  } else if (scenario === "calls") {
    // Calls the tool argv[5] argv[6] times; each outcome is the result's
    // text or the JSON-RPC error the SDK raised (code, message, data).
    out.calls = [];
    const n = Number(process.argv[6] || "1");
    for (let i = 0; i < n; i++) {
      try {
        out.calls.push({ text: text(await client.callTool({ name: process.argv[5], arguments: JSON.parse(process.argv[7] || "{}") })) });
      } catch (e) {
        out.calls.push({ code: e.code, message: e.message, data: e.data });
      }
    }
  } else if (scenario === "s2c" || scenario === "s2c-none" || scenario === "roots-sync") {
    // Calls each named tool (argv[5..], "name" or "name@{json arguments}");
    // each outcome is its text and isError. roots-sync: first waits (up to
    // 5 s) for the server to ask for the roots on its own, after initialize.
    if (scenario === "roots-sync") {
      for (let i = 0; i < 50 && rootsAsked === 0; i++) await new Promise((r) => setTimeout(r, 100));
      out.rootsAskedFirst = rootsAsked;
    }
    out.results = {};
    for (const spec of process.argv.slice(5)) {
      const at = spec.indexOf("@");
      const name = at < 0 ? spec : spec.slice(0, at);
      const args = at < 0 ? {} : JSON.parse(spec.slice(at + 1));
      try {
        const r = await client.callTool({ name, arguments: args });
        out.results[name] = { text: text(r), isError: !!r.isError };
      } catch (e) {
        out.results[name] = { code: e.code, message: e.message };
      }
    }
  } else if (scenario === "call" || scenario === "listcall") {
    // listcall: the SDK checks structuredContent against the outputSchema
    // it saw in tools/list, so list first.
    if (scenario === "listcall") await allTools(client);
    out.result = await client.callTool({ name: process.argv[5], arguments: JSON.parse(process.argv[6] || "{}") });
  }
  out.rootsAsked = rootsAsked;
  await client.close();
  console.log(JSON.stringify(out));
}

main().then(() => process.exit(0), (e) => {
  console.log(JSON.stringify({ error: String(e && e.message || e), code: e && e.code }));
  // The SDK keeps its GET stream open: exit instead of waiting for it.
  process.exit(0);
});
