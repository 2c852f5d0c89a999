#!/usr/bin/env python3
"""llm-cache end to end: exact-match hits answered without a provider call,
as JSON or replayed as SSE in the client's protocol (Chat chunks, Messages
events, Responses events), through the official SDKs and raw HTTP."""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, metric_sum, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import HAVE_SDKS, node  # noqa: E402

ALICE = "alice-cache-key"
BOB = "bob-cache-key"

CONFIG = """\
llm:
  providers:
    - {{name: oai, kind: openai, base_url: "{openai}", api_key: "sk-provider"}}
    - {{name: ant, kind: anthropic, base_url: "{anthropic}", api_key: "sk-ant-provider"}}
  models:
    - {{name: gpt, aliases: [gpt-alias], targets: [{{provider: oai, model: gpt-4o-mini}}]}}
    - {{name: claude, targets: [{{provider: ant, model: claude-sonnet-4-5}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [gpt, claude]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - {{name: llm-cache, config: {{ttl: 10m, max_entries: 100, max_bytes: 4mb}}}}
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "{alice}"}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: "{bob}"}}]}}
"""


def post(port, path, body, key=ALICE, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        h = {"Content-Type": "application/json", "Authorization": "Bearer " + key}
        h.update(headers or {})
        c.request("POST", path, body=json.dumps(body).encode(), headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


def chat_body(text, model="gpt", **extra):
    b = {"model": model, "messages": [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": text}]}
    b.update(extra)
    return b


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class Cache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.openai = FakeLLM("openai", reply="Cached words from the fake provider")
        cls.addClassCleanup(cls.openai.stop)
        cls.anthropic = FakeLLM("anthropic", reply="Claude says cached hello")
        cls.addClassCleanup(cls.anthropic.stop)
        cls.gh = Gatehouse(CONFIG.format(openai=cls.openai.base_url,
                                         anthropic=cls.anthropic.base_url, alice=ALICE, bob=BOB))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port
        cls.base = "http://127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        self.openai.take()
        self.anthropic.take()

    def test_hit_after_miss_json_then_sdk_stream_replay(self):
        msg = "tell me about caching one"
        st, h, body = post(self.port, "/v1/chat/completions", chat_body(msg))
        self.assertEqual(st, 200, body)
        self.assertEqual(h["x-gatehouse-cache"], "miss")
        first = json.loads(body)
        self.assertEqual(len(self.openai.take()), 1)
        # Field order, an alias and the user field do not change the key.
        st, h, body = post(self.port, "/v1/chat/completions",
                           {"user": "u-9", "messages": chat_body(msg)["messages"],
                            "model": "gpt-alias"})
        self.assertEqual(h["x-gatehouse-cache"], "hit")
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"],
                         first["choices"][0]["message"]["content"])
        # The official client, streaming: the JSON-stored answer replayed as chunks.
        r = node("openai_chat.mjs", self.base + "/v1", ALICE, "gpt", "--stream", "--message", msg)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], "Cached words from the fake provider")
        self.assertEqual(r["finish_reason"], "stop")
        self.assertEqual(r["usage"]["completion_tokens"], first["usage"]["completion_tokens"])
        self.assertEqual(self.openai.take(), [])  # no provider call for either hit

    def test_streamed_answer_stored_and_replayed_to_messages_client(self):
        msg = "tell me about caching two"
        # Stored from a streamed Anthropic answer to a Messages client.
        r = node("anthropic_messages.mjs", self.base, ALICE, "claude", "--stream", "--message", msg)
        self.assertTrue(r["ok"], r)
        self.assertEqual(len(self.anthropic.take()), 1)
        r2 = node("anthropic_messages.mjs", self.base, ALICE, "claude", "--stream", "--message", msg)
        self.assertTrue(r2["ok"], r2)
        self.assertEqual(r2["content"], r["content"])
        self.assertEqual(r2["stop_reason"], "end_turn")
        self.assertIn("message_stop", r2["events"])
        # The same prompt from a Chat client hits the same entry.
        st, h, body = post(self.port, "/v1/chat/completions",
                           chat_body(msg, model="claude", max_tokens=256))
        self.assertEqual(h["x-gatehouse-cache"], "hit", body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], r["content"])
        self.assertEqual(self.anthropic.take(), [])

    def test_responses_stream_replay(self):
        req = {"model": "gpt", "input": "tell me about caching three"}
        st, h, body = post(self.port, "/v1/responses", req)
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), body)
        st, h, body = post(self.port, "/v1/responses", dict(req, stream=True))
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "hit"), body)
        self.assertIn("text/event-stream", h["content-type"])
        self.assertIn("event: response.output_text.delta", body)
        self.assertIn("event: response.completed", body)
        self.assertIn("Cached words from the fake provider", body)
        self.assertEqual(len(self.openai.take()), 1)

    def test_cache_control_and_scope(self):
        msg = "tell me about caching four"
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg),
                        headers={"Cache-Control": "no-store"})
        self.assertEqual(h["x-gatehouse-cache"], "bypass")
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg))
        self.assertEqual(h["x-gatehouse-cache"], "miss")  # no-store stored nothing
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg),
                        headers={"Cache-Control": "no-cache"})
        self.assertEqual(h["x-gatehouse-cache"], "bypass")
        self.assertEqual(len(self.openai.take()), 3)
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg))
        self.assertEqual(h["x-gatehouse-cache"], "hit")
        # Bob has his own scope; a different temperature is a different request.
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg), key=BOB)
        self.assertEqual(h["x-gatehouse-cache"], "miss")
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg, temperature=0.3))
        self.assertEqual(h["x-gatehouse-cache"], "miss")
        self.assertEqual(len(self.openai.take()), 2)

    def test_errors_not_stored(self):
        self.openai.fail_status = 500
        try:
            st, h, _ = post(self.port, "/v1/chat/completions", chat_body("caching five"))
            self.assertEqual((st, h["x-gatehouse-cache"]), (500, "miss"))
        finally:
            self.openai.fail_status = 0
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body("caching five"))
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"))

    def test_hit_metered_without_provider_tokens(self):
        msg = "caching six"
        post(self.port, "/v1/chat/completions", chat_body(msg))
        st, h, _ = post(self.port, "/v1/chat/completions", chat_body(msg))
        self.assertEqual(h["x-gatehouse-cache"], "hit")
        rid = h["x-request-id"]
        wait_until(lambda: any(a.get("request_id") == rid for a in self.gh.access), timeout=10)
        rec = [a for a in self.gh.access if a.get("request_id") == rid][-1]
        self.assertEqual(rec["llm"]["cache"], "hit")
        self.assertEqual(rec["llm"]["provider"], "cache")
        self.assertEqual(rec["llm"]["input_tokens"], 0)
        self.assertEqual(rec["llm"]["output_tokens"], 0)
        s = self.gh.metrics()
        self.assertGreaterEqual(metric_sum(s, "gatehouse_llm_cache_total", result="hit"), 1)
        self.assertGreaterEqual(metric_sum(s, "gatehouse_llm_cache_total", result="miss"), 1)
        self.assertGreaterEqual(metric_sum(s, "gatehouse_llm_cache_total", result="store"), 1)


if __name__ == "__main__":
    unittest.main()
