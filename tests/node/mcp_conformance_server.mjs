// The conformance-fixture MCP server: the tools, prompts and resources the
// @modelcontextprotocol/conformance server scenarios call by name
// (test_simple_text, test_prompt_with_arguments, test://static-text, ...),
// written from the scenarios' stated requirements with the official SDK's
// low-level Server (raw JSON Schemas, e.g. the 2020-12 one, need it).
// Streamable HTTP on 127.0.0.1; prints {"port": N} once listening.
// tests/integration/test_mcp_conformance.py runs the suite against Gatehouse
// proxying this server.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema, CompleteRequestSchema, GetPromptRequestSchema, ListPromptsRequestSchema,
  ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema,
  ReadResourceRequestSchema, SetLevelRequestSchema, SubscribeRequestSchema,
  UnsubscribeRequestSchema, McpError, ErrorCode,
} from "@modelcontextprotocol/sdk/types.js";

const port = Number(process.argv[2] || 0);
// A 1x1 PNG and a tiny WAV (44-byte header, 2 samples), generated here.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
function wav() {
  const b = Buffer.alloc(48);
  b.write("RIFF", 0); b.writeUInt32LE(40, 4); b.write("WAVE", 8); b.write("fmt ", 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34); b.write("data", 36); b.writeUInt32LE(4, 40);
  return b.toString("base64");
}
const WAV = wav();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const noArgs = { type: "object", properties: {} };

// JSON Schema 2020-12 keywords the json-schema-2020-12 scenario expects to
// survive every hop unchanged.
const schema2020 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: { address: { $anchor: "addressDef", type: "object",
    properties: { street: { type: "string" }, city: { type: "string" } } } },
  properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" },
    contactMethod: { type: "string", enum: ["phone", "email"] },
    phone: { type: "string" }, email: { type: "string" } },
  allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
  if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
  then: { required: ["phone"] },
  else: { required: ["email"] },
  additionalProperties: false,
};

const tools = [
  { name: "test_simple_text", description: "Returns simple text", inputSchema: noArgs },
  { name: "test_image_content", description: "Returns an image", inputSchema: noArgs },
  { name: "test_audio_content", description: "Returns audio", inputSchema: noArgs },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArgs },
  { name: "test_multiple_content_types", description: "Returns text, image and resource", inputSchema: noArgs },
  { name: "test_tool_with_logging", description: "Logs three messages", inputSchema: noArgs },
  { name: "test_tool_with_progress", description: "Reports progress", inputSchema: noArgs },
  { name: "test_error_handling", description: "Always fails", inputSchema: noArgs },
  { name: "test_sampling", description: "Asks the client to sample",
    inputSchema: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] } },
  { name: "test_elicitation", description: "Asks the user",
    inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] } },
  { name: "test_elicitation_sep1034_defaults", description: "Elicits with defaults", inputSchema: noArgs },
  { name: "test_elicitation_sep1330_enums", description: "Elicits enums", inputSchema: noArgs },
  { name: "json_schema_2020_12_tool", description: "JSON Schema 2020-12 input", inputSchema: schema2020 },
  // 2026-07-28 diagnostics: a tool that always logs (the server-stateless
  // scenario checks no log reaches a client that set no logLevel), and one
  // with an x-mcp-header argument (SEP-2243: sent also as Mcp-Param-Region).
  { name: "test_logging_tool", description: "Logs three messages", inputSchema: noArgs },
  { name: "test_custom_header", description: "Echoes a region also sent as a header",
    inputSchema: { type: "object", properties: {
      region: { type: "string", description: "Region", "x-mcp-header": "Region" } },
    required: ["region"] } },
  // 2026-07-28 input-required results (SEP-2322) and -32021: written as a
  // 2025-11-25 server writes them (sampling, elicitation and roots requests
  // on the call's stream); Gatehouse turns those into InputRequiredResults.
  ...["elicitation", "sampling", "list_roots", "request_state", "tampered_state",
    "multiple_inputs", "multi_round", "capabilities"].map((n) => ({
    name: `test_input_required_result_${n}`, description: `Input-required: ${n}`, inputSchema: noArgs })),
  { name: "test_input_required_runs", description: "Input-required tool runs", inputSchema: noArgs },
  { name: "test_missing_capability", description: "Needs sampling", inputSchema: noArgs },
  { name: "test_streaming_elicitation", description: "Elicits while answering", inputSchema: noArgs },
  // The tasks extension (SEP-2663) scenarios' tools. The gateway runs a call
  // as a task when the tool says `execution.taskSupport` (2025-11-25 wire);
  // this server itself knows nothing of tasks and answers every call plainly.
  { name: "greet", description: "Greets (sync only)",
    inputSchema: { type: "object", properties: { name: { type: "string" } } } },
  { name: "slow_compute", description: "Sleeps `seconds`, then answers; stops when cancelled",
    inputSchema: { type: "object", properties: { seconds: { type: "number" },
      label: { type: "string" } } }, execution: { taskSupport: "optional" } },
  { name: "failing_job", description: "A tool error after about a second (task required)",
    inputSchema: noArgs, execution: { taskSupport: "required" } },
  { name: "protocol_error_job", description: "A JSON-RPC error after a short wait",
    inputSchema: noArgs, execution: { taskSupport: "optional" } },
  // Gatehouse makes a call a task once the upstream has asked nothing for
  // a moment (tasks::kSettleMs, 250 ms): a question asked at once is the
  // call's input-required phase (answered before the task exists), one
  // asked after some work is the task's (tasks/get, tasks/update).
  { name: "confirm_delete", description: "Works a little, then asks the user to confirm",
    inputSchema: { type: "object", properties: { filename: { type: "string" } } },
    execution: { taskSupport: "optional" } },
  { name: "multi_input", description: "Works a little, then asks the user two things at once",
    inputSchema: noArgs, execution: { taskSupport: "optional" } },
  { name: "test_tool_with_task", description: "Asks the user's name at once, then answers (task required)",
    inputSchema: noArgs, execution: { taskSupport: "required" } },
  { name: "plan_trip", description: "Asks where to at once, works, then asks to confirm",
    inputSchema: noArgs, execution: { taskSupport: "optional" } },
];

// The work a task tool does before its in-task question: well past the
// gateway's settle time.
const kWorkMs = 800;

const text = (t) => ({ content: [{ type: "text", text: t }] });

// Each question names its key in the client's inputRequests
// (_meta["io.gatehouse/inputKey"]), so the client sees the names the
// scenarios expect; without one Gatehouse derives a key from the question.
const keyed = (key) => ({ _meta: { "io.gatehouse/inputKey": key } });
const ask = (server, related, key, message, properties) => server.elicitInput({ message,
  requestedSchema: { type: "object", properties, required: Object.keys(properties) },
  ...keyed(key) }, related);
const sample = (server, related, key, prompt, maxTokens) => server.createMessage({
  messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens,
  ...keyed(key) }, related);
const listRoots = (server, related, key) => server.listRoots(keyed(key), related);
const said = (r) => r.content?.text ?? JSON.stringify(r.content ?? {});

// How many times input-required tools started (test_mcp_mrtr.py tells a
// resumed call from a re-issued one by it).
let inputRuns = 0;

async function inputRequired(server, name, extra, related) {
  const caps = extra._meta?.["io.modelcontextprotocol/clientCapabilities"] ?? {};
  if (name.startsWith("test_input_required_result_")) inputRuns += 1;
  switch (name) {
    case "test_input_required_runs":
      return text(String(inputRuns));
    case "test_input_required_result_elicitation":
    case "test_streaming_elicitation": {
      const r = await ask(server, related, "user_name", "What is your name?", { name: { type: "string" } });
      return text(`Hello, ${r.content?.name}!`);
    }
    case "test_input_required_result_sampling": {
      const r = await sample(server, related, "capital_question", "What is the capital of France?", 100);
      return text(`The model said: ${said(r)}`);
    }
    case "test_input_required_result_list_roots": {
      const r = await listRoots(server, related, "client_roots");
      return text(`Roots: ${r.roots.map((x) => x.uri).join(", ")}`);
    }
    case "test_input_required_result_request_state":
    case "test_input_required_result_tampered_state": {
      const r = await ask(server, related, "confirm", "Please confirm", { ok: { type: "boolean" } });
      return text(`Confirmed: ${r.content?.ok}`);
    }
    case "test_input_required_result_multiple_inputs": {
      const [who, greeting, roots] = await Promise.all([
        ask(server, related, "user_name", "What is your name?", { name: { type: "string" } }),
        sample(server, related, "greeting", "Generate a greeting", 50),
        listRoots(server, related, "client_roots")]);
      return text(`${said(greeting)} ${who.content?.name} (${roots.roots.length} roots)`);
    }
    case "test_input_required_result_multi_round": {
      const who = await ask(server, related, "step1", "Step 1: What is your name?", { name: { type: "string" } });
      const color = await ask(server, related, "step2", "Step 2: What is your favorite color?",
        { color: { type: "string" } });
      return text(`${who.content?.name} likes ${color.content?.color}`);
    }
    case "test_input_required_result_capabilities": {
      // Asks only for what the request's _meta declares.
      const got = [];
      if (caps.sampling) got.push(said(await sample(server, related, "capital_question",
        "What is the capital of France?", 100)));
      if (caps.elicitation) got.push(JSON.stringify((await ask(server, related, "user_name",
        "What is your name?", { name: { type: "string" } })).content));
      return text(`Asked for ${got.length} input(s): ${got.join("; ")}`);
    }
    case "test_missing_capability": {
      // Needs sampling whatever the client declared: Gatehouse answers -32021.
      const r = await sample(server, related, "needs_sampling", "Say something", 10);
      return text(`The model said: ${said(r)}`);
    }
  }
  return undefined;
}

async function callTool(server, req, extra) {
  const name = req.params.name;
  const args = req.params.arguments || {};
  // Requests a tool call makes go out on that call's own response stream
  // (relatedRequestId), as the spec's "SHOULD relate to the originating
  // client request" asks; without it the SDK sends them on the standalone
  // GET stream, which a client may never open.
  const related = { relatedRequestId: extra.requestId };
  const asked = await inputRequired(server, name, extra, related);
  if (asked) return asked;
  switch (name) {
    case "test_simple_text":
      return text("This is a simple text response for testing.");
    case "test_image_content":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "test_audio_content":
      return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
    case "test_embedded_resource":
      return { content: [{ type: "resource", resource: { uri: "test://embedded-resource",
        mimeType: "text/plain", text: "This is an embedded resource content." } }] };
    case "test_multiple_content_types":
      return { content: [
        { type: "text", text: "Multiple content types test:" },
        { type: "image", data: PNG, mimeType: "image/png" },
        { type: "resource", resource: { uri: "test://mixed-content-resource",
          mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } }] };
    case "test_custom_header":
      return text(`region ${args.region}`);
    case "test_logging_tool":
    case "test_tool_with_logging":
      for (const [i, msg] of ["Tool execution started", "Tool processing data",
        "Tool execution completed"].entries()) {
        if (i) await sleep(50);
        await extra.sendNotification({ method: "notifications/message",
          params: { level: "info", logger: "conformance", data: msg } });
      }
      return text("Logging tool finished");
    case "test_tool_with_progress": {
      const token = req.params._meta?.progressToken;
      for (const p of [0, 50, 100]) {
        if (p) await sleep(50);
        if (token !== undefined)
          await extra.sendNotification({ method: "notifications/progress",
            params: { progressToken: token, progress: p, total: 100 } });
      }
      return text("Progress tool finished");
    }
    case "test_error_handling":
      return { isError: true, content: [{ type: "text",
        text: "This tool intentionally returns an error for testing" }] };
    case "test_sampling": {
      const r = await server.createMessage({ messages: [{ role: "user",
        content: { type: "text", text: String(args.prompt ?? "") } }], maxTokens: 100 }, related);
      return text(`LLM response: ${r.content?.text ?? JSON.stringify(r.content)}`);
    }
    case "test_elicitation": {
      const r = await server.elicitInput({ message: String(args.message ?? ""), requestedSchema: {
        type: "object", properties: {
          username: { type: "string", description: "User's response" },
          email: { type: "string", description: "User's email address" } },
        required: ["username", "email"] } }, related);
      return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    }
    case "test_elicitation_sep1034_defaults": {
      const r = await server.elicitInput({ message: "Defaults test", requestedSchema: {
        type: "object", properties: {
          name: { type: "string", default: "John Doe" },
          age: { type: "integer", default: 30 },
          score: { type: "number", default: 95.5 },
          status: { type: "string", enum: ["active", "inactive", "pending"], default: "active" },
          verified: { type: "boolean", default: true } } } }, related);
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    }
    case "test_elicitation_sep1330_enums": {
      const r = await server.elicitInput({ message: "Enum test", requestedSchema: {
        type: "object", properties: {
          untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
          titledSingle: { type: "string", oneOf: [{ const: "value1", title: "First Option" },
            { const: "value2", title: "Second Option" }, { const: "value3", title: "Third Option" }] },
          legacyEnum: { type: "string", enum: ["opt1", "opt2", "opt3"],
            enumNames: ["Option One", "Option Two", "Option Three"] },
          untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
          titledMulti: { type: "array", items: { anyOf: [{ const: "value1", title: "First Choice" },
            { const: "value2", title: "Second Choice" }, { const: "value3", title: "Third Choice" }] } },
        } } }, related);
      return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    }
    case "greet":
      return text(`Hello, ${args.name ?? "World"}!`);
    case "slow_compute": {
      const ms = Math.max(0, Number(args.seconds ?? 1)) * 1000;
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, ms);
        extra.signal.addEventListener("abort", () => {
          clearTimeout(t);
          // Seen by tests/integration/test_mcp_tasks.py: the gateway's
          // notifications/cancelled reached this call.
          console.log(JSON.stringify({ cancelled: extra.requestId }));
          reject(new Error("cancelled"));
        });
      });
      return text(`computed ${args.label ?? ""} after ${ms / 1000}s`);
    }
    case "failing_job":
      await sleep(1000);
      return { isError: true, content: [{ type: "text", text: "the job failed" }] };
    case "protocol_error_job":
      await sleep(200);
      throw new McpError(ErrorCode.InternalError, "protocol_error_job broke down");
    case "test_tool_with_task": {
      // The tasks-mrtr-composition scenario: the name is gathered before
      // the task exists, and the task's result carries it.
      const r = await ask(server, related, "user_name", "What is your name?", { name: { type: "string" } });
      return text(`Hello, ${r.content?.name}! (from a task)`);
    }
    case "plan_trip": {
      const where = await ask(server, related, "destination", "Where to?", { city: { type: "string" } });
      await sleep(kWorkMs);
      const ok = await server.elicitInput({ message: `Book ${where.content?.city}?`, requestedSchema: {
        type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] } },
      related).catch((e) => ({ action: "error", content: { why: e.message } }));
      return text(`plan_trip ${where.content?.city}: ${ok.action} ${JSON.stringify(ok.content ?? {})}`);
    }
    case "confirm_delete": {
      await sleep(kWorkMs);
      const r = await server.elicitInput({ message: `Delete ${args.filename}?`, requestedSchema: {
        type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] } },
      related).catch((e) => ({ action: "error", content: { why: e.message } }));
      return text(`confirm_delete ${args.filename}: ${r.action} ${JSON.stringify(r.content ?? {})}`);
    }
    case "multi_input": {
      await sleep(kWorkMs);
      const ask = (what) => server.elicitInput({ message: what, requestedSchema: {
        type: "object", properties: { name: { type: "string" }, confirm: { type: "boolean" } } } },
      related).catch((e) => ({ action: "error", content: { why: e.message } }));
      const [a, b] = await Promise.all([ask("First?"), ask("Second?")]);
      return text(`multi_input: ${JSON.stringify(a.content ?? {})} ${JSON.stringify(b.content ?? {})}`);
    }
    case "json_schema_2020_12_tool":
      return text(`received ${JSON.stringify(args)}`);
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
}

const resources = [
  { uri: "test://static-text", name: "static-text", description: "A static text resource",
    mimeType: "text/plain" },
  { uri: "test://static-binary", name: "static-binary", description: "A static PNG",
    mimeType: "image/png" },
  { uri: "test://watched-resource", name: "watched-resource", description: "Subscribable",
    mimeType: "text/plain" },
];

function readResource(uri) {
  if (uri === "test://static-text")
    return { contents: [{ uri, mimeType: "text/plain",
      text: "This is the content of the static text resource." }] };
  if (uri === "test://static-binary") return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
  if (uri === "test://watched-resource")
    return { contents: [{ uri, mimeType: "text/plain", text: "watched" }] };
  const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (m)
    return { contents: [{ uri, mimeType: "application/json",
      text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }] };
  throw new McpError(ErrorCode.InvalidParams, "Resource not found", { uri });
}

const prompts = [
  { name: "test_simple_prompt", description: "A simple prompt" },
  { name: "test_prompt_with_arguments", description: "A prompt with arguments", arguments: [
    { name: "arg1", description: "First test argument", required: true },
    { name: "arg2", description: "Second test argument", required: true }] },
  { name: "test_prompt_with_embedded_resource", description: "A prompt embedding a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }] },
  { name: "test_prompt_with_image", description: "A prompt with an image" },
  { name: "test_input_required_result_prompt", description: "A prompt that asks for context" },
];

// prompts/get asking for input (the input-required-result-non-tool-request scenario).
async function promptWithInput(server, extra) {
  const r = await ask(server, { relatedRequestId: extra.requestId }, "user_context",
    "What context should the prompt use?", { context: { type: "string" } });
  return { messages: [{ role: "user", content: { type: "text",
    text: `Use this context: ${r.content?.context}` } }] };
}

function getPrompt(name, args = {}) {
  const user = (content) => ({ role: "user", content });
  switch (name) {
    case "test_simple_prompt":
      return { messages: [user({ type: "text", text: "This is a simple prompt for testing." })] };
    case "test_prompt_with_arguments":
      return { messages: [user({ type: "text",
        text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` })] };
    case "test_prompt_with_embedded_resource":
      return { messages: [
        user({ type: "resource", resource: { uri: args.resourceUri, mimeType: "text/plain",
          text: "Embedded resource content for testing." } }),
        user({ type: "text", text: "Please process the embedded resource above." })] };
    case "test_prompt_with_image":
      return { messages: [user({ type: "image", data: PNG, mimeType: "image/png" }),
        user({ type: "text", text: "Please analyze the image above." })] };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  }
}

function makeServer() {
  const server = new Server({ name: "gatehouse-conformance-fixture", version: "1.0.0" }, {
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true }, logging: {}, completions: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, (req, extra) => callTool(server, req, extra));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: "test://template/{id}/data", name: "template",
      description: "A templated resource", mimeType: "application/json" }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => readResource(req.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts }));
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra) =>
    req.params.name === "test_input_required_result_prompt" ? promptWithInput(server, extra)
      : getPrompt(req.params.name, req.params.arguments));
  server.setRequestHandler(CompleteRequestSchema, async () => ({
    completion: { values: ["paris", "park", "party"], total: 3, hasMore: false } }));
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  return server;
}

const sessions = new Map();
const httpServer = http.createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  const parsed = body ? JSON.parse(body) : undefined;
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
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res, parsed);
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: httpServer.address().port }));
});
