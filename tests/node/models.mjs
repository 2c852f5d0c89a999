// node models.mjs openai|anthropic BASE_URL KEY: lists models through the SDK.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

const [kind, baseURL, apiKey] = process.argv.slice(2);
try {
  const client = kind === "anthropic" ? new Anthropic({ baseURL, apiKey, maxRetries: 0 })
                                      : new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  console.log(JSON.stringify({ ok: true, ids }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status ?? null, message: String(e.message) }));
}
