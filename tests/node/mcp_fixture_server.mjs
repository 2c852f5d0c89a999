// A small MCP server on the streamable-HTTP transport (official SDK), the
// second upstream of tests/integration/test_mcp.py. Prints {"port": N} once
// listening. Tools: echo (collides with server-everything's), weather,
// progress (sends progress notifications), notify (list_changed), whoami
// (the credential headers it got), get-env (denied by the route). With the
// argument `stdio` it serves stdio instead; with `PORT sse` the deprecated
// HTTP+SSE transport (SSEServerTransport: GET /sse, POST /messages).
// `later` sends a server-to-client request a moment after its call was
// answered (outside any call: on the standalone GET stream, or the HTTP+SSE
// stream with nothing in flight); `later-result` reports what came of it.
// With the environment NO_GET=1 a GET on /mcp is answered 405.
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { CreateMessageResultSchema, ElicitResultSchema, ListRootsResultSchema } from "@modelcontextprotocol/sdk/types.js";

const port = Number(process.argv[2] || 0);
const stdio = process.argv[2] === "stdio";
const legacySse = process.argv[3] === "sse";
const sseSessions = new Map();
const sessions = new Map();
let deleted = 0;
let toolLists = 0;  // tools/list requests received (streamable HTTP), for the list cache tests
let getsOpened = 0;  // standalone GET streams opened (streamable HTTP)
let getsOpen = 0;    // ... and still open
let connections = 0; // TCP (or TLS) connections accepted, to see upstream keep-alive

const LATER = {
  sampling: { method: "sampling/createMessage", schema: CreateMessageResultSchema, params: {
    messages: [{ role: "user", content: { type: "text", text: "2+2?" } }], maxTokens: 10 } },
  elicitation: { method: "elicitation/create", schema: ElicitResultSchema, params: {
    message: "Your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } },
      required: ["name"] } } },
  roots: { method: "roots/list", schema: ListRootsResultSchema },
};

function makeServer() {
  const server = new McpServer({ name: "fixture", version: "1.0.0" });
  server.registerTool("echo", { description: "Echoes (fixture)", inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: "text", text: `fixture echo: ${message}` }] }));
  server.registerTool("weather", { description: "Weather for a city", inputSchema: { city: z.string() } },
    async ({ city }) => ({ content: [{ type: "text", text: `sunny in ${city}` }] }));
  server.registerTool("fail", { description: "Always an isError result" },
    async () => ({ isError: true, content: [{ type: "text", text: "it failed" }] }));
  server.registerTool("progress", { description: "Sends 3 progress notifications" },
    async (extra) => {  // no inputSchema: the SDK passes only `extra`
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= 3; i++) {
        if (token !== undefined)
          await extra.sendNotification({ method: "notifications/progress",
            params: { progressToken: token, progress: i, total: 3 } });
        await new Promise((r) => setTimeout(r, 20));
      }
      return { content: [{ type: "text", text: "progress done" }] };
    });
  server.registerTool("notify", { description: "Announces that its tool list changed" },
    async (extra) => {
      // Sent with the request (HTTP: on its SSE stream; stdio: unsolicited),
      // so the gateway's relay is exercised without an upstream GET stream.
      await extra.sendNotification({ method: "notifications/tools/list_changed" });
      return { content: [{ type: "text", text: "notified" }] };
    });
  server.registerTool("whoami", { description: "The credentials this server was called with" },
    async (extra) => {
      // What reached the upstream: the gateway's own credential, never the
      // client's token (MCP authorization forbids passing it through).
      const h = extra.requestInfo?.headers || {};
      return { content: [{ type: "text", text: JSON.stringify({
        authorization: h.authorization ?? null, upstreamKey: h["x-upstream-key"] ?? null }) }] };
    });
  server.registerTool("get-env", { description: "Would leak the environment" },
    async () => ({ content: [{ type: "text", text: "secret" }] }));
  // Server-to-client requests, sent with the tool call (on its stream).
  server.registerTool("ask", { description: "Asks the client's model (sampling)" },
    async (extra) => {
      const r = await extra.sendRequest({ method: "sampling/createMessage", params: {
        messages: [{ role: "user", content: { type: "text", text: "2+2?" } }], maxTokens: 10 } },
      CreateMessageResultSchema);
      return { content: [{ type: "text", text: `model ${r.model} said: ${r.content.text}` }] };
    });
  server.registerTool("elicit", { description: "Asks the user for a name (elicitation)" },
    async (extra) => {
      const r = await extra.sendRequest({ method: "elicitation/create", params: {
        message: "Your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } },
          required: ["name"] } } }, ElicitResultSchema);
      return { content: [{ type: "text", text: `${r.action}: ${r.content?.name}` }] };
    });
  server.registerTool("roots", { description: "Lists the client's roots" },
    async (extra) => {
      const r = await extra.sendRequest({ method: "roots/list" }, ListRootsResultSchema);
      return { content: [{ type: "text", text: r.roots.map((x) => x.uri).join(",") }] };
    });
  server.registerTool("caps", { description: "The client capabilities this server was told about" },
    async () => ({ content: [{ type: "text", text: JSON.stringify(server.server.getClientCapabilities() || {}) }] }));
  // Outside any call: sent with no related request, after the call ended.
  let outcome;  // this session's `later` request: undefined (none yet), a promise, then its text
  server.registerTool("later", { description: "Sends a server-to-client request after answering",
    inputSchema: { kind: z.enum(["sampling", "elicitation", "roots"]) } },
  async ({ kind }) => {
    const l = LATER[kind];
    outcome = new Promise((r) => setTimeout(r, 200)).then(() =>
      server.server.request({ method: l.method, params: l.params }, l.schema, { timeout: 20000 }))
      .then((r) => kind === "sampling" ? `model ${r.model} said: ${r.content.text}`
        : kind === "elicitation" ? `${r.action}: ${r.content?.name}` : r.roots.map((x) => x.uri).join(","),
      (e) => `error ${e.code}: ${e.message}`);
    return { content: [{ type: "text", text: "scheduled" }] };
  });
  server.registerTool("later-result", { description: "What came of the last `later` request" },
    async () => ({ content: [{ type: "text", text: outcome ? await outcome : "nothing scheduled" }] }));
  server.registerResource("greeting", "fixture://greeting", { mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, text: "hello from the fixture" }] }));
  server.registerPrompt("greet", { description: "Greets someone", argsSchema: { name: z.string() } },
    ({ name }) => ({ messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}` } }] }));
  return server;
}

if (stdio) {
  // `mcp_fixture_server.mjs stdio`: the same tools over stdio.
  await makeServer().connect(new StdioServerTransport());
} else {
  // TLS_CERT and TLS_KEY (PEM files) in the environment: HTTPS instead.
  // TLS_CLIENT_CA as well: a client certificate issued by that CA is required
  // (mTLS); a client without one is refused in the handshake.
  const tls = process.env.TLS_CERT
    ? { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) }
    : null;
  if (tls && process.env.TLS_CLIENT_CA) {
    tls.ca = readFileSync(process.env.TLS_CLIENT_CA);
    tls.requestCert = true;
    tls.rejectUnauthorized = true;
  }
  const create = (handler) => (tls ? https.createServer(tls, handler) : http.createServer(handler));
  const httpServer = create(async (req, res) => {
    if (req.url === "/stats") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ sessions: legacySse ? sseSessions.size : sessions.size, deleted, toolLists,
        getsOpened, getsOpen, connections }));
      return;
    }
    if (legacySse) {
      const url = new URL(req.url, "http://localhost");
      if (req.method === "GET" && url.pathname === "/sse") {
        const transport = new SSEServerTransport("/messages", res);
        sseSessions.set(transport.sessionId, transport);
        res.on("close", () => { if (sseSessions.delete(transport.sessionId)) deleted++; });
        await makeServer().connect(transport);
        return;
      }
      const transport = sseSessions.get(url.searchParams.get("sessionId"));
      if (req.method !== "POST" || url.pathname !== "/messages" || !transport) {
        res.statusCode = 404;
        res.end("no such session");
        return;
      }
      await transport.handlePostMessage(req, res);
      return;
    }
    if (req.method === "GET" && process.env.NO_GET === "1") {
      getsOpened++;
      res.writeHead(405, { allow: "POST, DELETE" }).end();
      return;
    }
    if (req.method === "GET" && sessions.has(req.headers["mcp-session-id"])) {
      getsOpened++;
      getsOpen++;
      res.on("close", () => getsOpen--);
    }
    let body = "";
    for await (const chunk of req) body += chunk;
    const parsed = body ? JSON.parse(body) : undefined;
    if (parsed?.method === "tools/list") toolLists++;
    const sid = req.headers["mcp-session-id"];
    let transport = sid ? sessions.get(sid) : undefined;
    if (!transport) {
      if (sid || parsed?.method !== "initialize") {
        res.statusCode = 404;
        res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId && sessions.delete(transport.sessionId)) deleted++;
      };
      const server = makeServer();
      // Ends this session's standalone GET stream (the client reconnects).
      server.registerTool("drop-get", { description: "Closes the standalone GET stream" },
        async () => {
          transport.closeStandaloneSSEStream();
          return { content: [{ type: "text", text: "dropped" }] };
        });
      await server.connect(transport);
    }
    await transport.handleRequest(req, res, parsed);
  });

  httpServer.on(tls ? "secureConnection" : "connection", () => { connections++; });
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(JSON.stringify({ port: httpServer.address().port }));
  });
}
