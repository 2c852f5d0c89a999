// node openai_chat.mjs BASE_URL KEY MODEL [--stream] [--tools] [--message TEXT]
// Drives the official `openai` client; prints one JSON line with what it got.
import OpenAI from "openai";

const [baseURL, apiKey, model, ...rest] = process.argv.slice(2);
const stream = rest.includes("--stream");
const tools = rest.includes("--tools");
const mi = rest.indexOf("--message");
const message = mi >= 0 ? rest[mi + 1] : "Say hello";
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });

const params = { model, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: message }] };
if (tools) {
  params.tools = [{ type: "function", function: { name: "get_weather", description: "Weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
}

try {
  if (!stream) {
    const r = await client.chat.completions.create(params);
    const c = r.choices[0];
    console.log(JSON.stringify({ ok: true, id: r.id, content: c.message.content, finish_reason: c.finish_reason,
      tool_calls: c.message.tool_calls ?? [], usage: r.usage }));
  } else {
    const s = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let content = "", finish = null, usage = null, chunks = 0;
    const calls = {};
    for await (const ch of s) {
      chunks++;
      if (ch.usage) usage = ch.usage;
      for (const c of ch.choices) {
        if (c.delta?.content) content += c.delta.content;
        for (const t of c.delta?.tool_calls ?? []) {
          calls[t.index] ??= { id: "", name: "", arguments: "" };
          if (t.id) calls[t.index].id = t.id;
          if (t.function?.name) calls[t.index].name += t.function.name;
          if (t.function?.arguments) calls[t.index].arguments += t.function.arguments;
        }
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    console.log(JSON.stringify({ ok: true, content, finish_reason: finish, tool_calls: Object.values(calls), usage, chunks }));
  }
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status ?? null, error: e.error ?? null, message: String(e.message) }));
}
