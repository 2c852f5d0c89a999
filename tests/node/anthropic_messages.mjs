// node anthropic_messages.mjs BASE_URL KEY MODEL [--stream] [--tools] [--message TEXT]
// Drives the official `@anthropic-ai/sdk` client; prints one JSON line.
import Anthropic from "@anthropic-ai/sdk";

const [baseURL, apiKey, model, ...rest] = process.argv.slice(2);
const stream = rest.includes("--stream");
const tools = rest.includes("--tools");
const mi = rest.indexOf("--message");
const message = mi >= 0 ? rest[mi + 1] : "Say hello";
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });

const params = { model, max_tokens: 256, system: "Be brief.", messages: [{ role: "user", content: message }] };
if (tools) {
  params.tools = [{ name: "get_weather", description: "Weather of a city",
    input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
}

function summary(m) {
  const text = m.content.filter((b) => b.type === "text").map((b) => b.text).join("");
  const tool_uses = m.content.filter((b) => b.type === "tool_use").map((b) => ({ id: b.id, name: b.name, input: b.input }));
  return { ok: true, id: m.id, content: text, stop_reason: m.stop_reason, tool_uses, usage: m.usage };
}

try {
  if (!stream) {
    console.log(JSON.stringify(summary(await client.messages.create(params))));
  } else {
    const s = client.messages.stream(params);
    const events = [];
    s.on("streamEvent", (e) => events.push(e.type));
    const m = await s.finalMessage();
    console.log(JSON.stringify({ ...summary(m), events }));
  }
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status ?? null, error: e.error ?? null, message: String(e.message) }));
}
