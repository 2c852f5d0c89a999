// node openai_embeddings.mjs BASE_URL KEY MODEL [--float] [--dimensions N] INPUT...
// Drives the official `openai` client's embeddings.create (base64 on the wire
// by default, decoded by the SDK); prints one JSON line with what it got.
import OpenAI from "openai";

const [baseURL, apiKey, model, ...rest] = process.argv.slice(2);
const params = { model, input: [] };
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--float") params.encoding_format = "float";
  else if (rest[i] === "--dimensions") params.dimensions = Number(rest[++i]);
  else params.input.push(rest[i]);
}
if (params.input.length === 1) params.input = params.input[0];
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });
try {
  const r = await client.embeddings.create(params);
  console.log(JSON.stringify({ ok: true, model: r.model, usage: r.usage,
    vectors: r.data.map((d) => ({ index: d.index, embedding: Array.from(d.embedding) })) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status ?? null, type: e.error?.type ?? e.type ?? null,
    message: e.message }));
}
