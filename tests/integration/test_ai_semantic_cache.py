#!/usr/bin/env python3
"""llm-semantic-cache end to end: the last user turn is embedded through the
gateway's own provider code (a fake OpenAI embeddings server whose vectors the
test chooses, and the built-in mock), paraphrases within the threshold hit
without a chat call, and anything else in the context (system prompt, earlier
turns, tools, consumer) keeps requests apart. Official SDKs for the streamed
replays."""

import http.client
import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, metric_sum, run_check, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import HAVE_SDKS, node  # noqa: E402

ALICE = "alice-sem-key"
BOB = "bob-sem-key"

FRANCE = "What is the capital of France?"
FRANCE_2 = "Tell me the capital city of France"  # cos 0.97 to FRANCE
SPAIN = "What is the capital of Spain?"  # cos 0.6 to FRANCE
EVEREST = "How tall is Mount Everest?"
EVEREST_2 = "What is the height of Mount Everest?"  # cos 0.95 to EVEREST


def unit(angle, axis=0, dim=6):
    v = [0.0] * dim
    v[axis] = math.cos(angle)
    v[axis + 1] = math.sin(angle)
    return v


TABLE = {
    FRANCE: unit(0.0),
    FRANCE_2: unit(math.acos(0.97)),
    SPAIN: unit(math.acos(0.6)),
    EVEREST: unit(0.0, axis=2),
    EVEREST_2: unit(math.acos(0.95), axis=2),
    "weather?": unit(0.0, axis=4),
}

CONFIG = """\
llm:
  providers:
    - {{name: oai, kind: openai, base_url: "{chat}", api_key: "sk-provider"}}
    - {{name: emb, kind: openai, base_url: "{emb}", api_key: "sk-emb"}}
    - {{name: mock, kind: mock}}
  models:
    - {{name: gpt, targets: [{{provider: oai, model: gpt-4o-mini}}]}}
    - {{name: embedder, targets: [{{provider: emb, model: text-embedding-3-small}}]}}
    - {{name: echo, targets: [{{provider: mock, model: mock-1}}]}}
    - {{name: mock-emb, targets: [{{provider: mock, model: mock-embed}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [gpt]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - {{name: llm-semantic-cache, config: {{model: embedder, threshold: 0.9, ttl: 10m, max_entries: 1000}}}}
  - name: mock
    match: {{paths: ["/mock/v1/"]}}
    llm: {{models: [echo]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - {{name: llm-semantic-cache, config: {{model: mock-emb, threshold: 0.99}}}}
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


def chat(text, system="Be brief.", **extra):
    msgs = [{"role": "system", "content": system}] if system else []
    b = {"model": "gpt", "messages": msgs + [{"role": "user", "content": text}]}
    b.update(extra)
    return b


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class SemanticCache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chat = FakeLLM("openai", reply="Paris is the capital of France")
        cls.addClassCleanup(cls.chat.stop)
        cls.emb = FakeLLM("openai")
        cls.emb.embedding_table = TABLE
        cls.addClassCleanup(cls.emb.stop)
        cls.gh = Gatehouse(CONFIG.format(chat=cls.chat.base_url, emb=cls.emb.base_url,
                                         alice=ALICE, bob=BOB))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port
        cls.base = "http://127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        self.chat.take()
        self.emb.take()

    def access(self, headers):
        rid = headers["x-request-id"]
        wait_until(lambda: any(a.get("request_id") == rid for a in self.gh.access), timeout=10)
        return [a for a in self.gh.access if a.get("request_id") == rid][-1]["llm"]

    def test_paraphrase_hits_and_other_meanings_miss(self):
        st, h, body = post(self.port, "/v1/chat/completions", chat(FRANCE))
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), body)
        first = json.loads(body)["choices"][0]["message"]["content"]
        self.assertEqual(len(self.chat.take()), 1)
        # The embeddings call went through the OpenAI provider with our key, not the client's.
        emb = self.emb.take()
        self.assertEqual([r["body"]["input"] for r in emb], [FRANCE])
        self.assertEqual(emb[0]["body"]["model"], "text-embedding-3-small")
        self.assertEqual(emb[0]["headers"]["authorization"], "Bearer sk-emb")

        st, h, body = post(self.port, "/v1/chat/completions", chat(FRANCE_2))
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "semantic-hit"), body)
        self.assertEqual(json.loads(body)["choices"][0]["message"]["content"], first)
        self.assertEqual(self.chat.take(), [])
        log = self.access(h)
        self.assertEqual(log["semantic_cache"], "hit")
        self.assertEqual(log["cache"], "semantic-hit")
        self.assertEqual(log["provider"], "cache")
        self.assertAlmostEqual(log["similarity"], 0.97, places=3)
        self.assertEqual(log["output_tokens"], 0)

        # Below the threshold: a miss, with the closest similarity logged.
        st, h, body = post(self.port, "/v1/chat/completions", chat(SPAIN))
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), body)
        self.assertEqual(len(self.chat.take()), 1)
        log = self.access(h)
        self.assertEqual(log["semantic_cache"], "miss")
        self.assertAlmostEqual(log["similarity"], 0.6, places=3)

    def test_context_must_match_exactly(self):
        sys_prompt = "Answer in one word."
        post(self.port, "/v1/chat/completions", chat(FRANCE, system=sys_prompt))
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE_2, system=sys_prompt))
        self.assertEqual(h["x-gatehouse-cache"], "semantic-hit")
        self.assertEqual(len(self.chat.take()), 1)
        misses = [
            chat(FRANCE_2, system="Answer in two words."),  # another system prompt
            chat(FRANCE_2, system=sys_prompt, temperature=0.2),  # sampling
            chat(FRANCE_2, system=sys_prompt, tools=[{"type": "function", "function": {
                "name": "lookup", "parameters": {"type": "object"}}}]),  # tools
            {"model": "gpt", "messages": [  # an earlier turn
                {"role": "system", "content": sys_prompt},
                {"role": "user", "content": "Let us talk about Europe."},
                {"role": "assistant", "content": "Sure."},
                {"role": "user", "content": FRANCE_2}]},
        ]
        for body in misses:
            st, h, resp = post(self.port, "/v1/chat/completions", body)
            self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), (body, resp))
            self.assertNotIn("similarity", self.access(h))  # an empty context
        self.assertEqual(len(self.chat.take()), len(misses))
        # Bob never sees Alice's answers.
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE_2, system=sys_prompt),
                        key=BOB)
        self.assertEqual(h["x-gatehouse-cache"], "miss")
        self.assertEqual(len(self.chat.take()), 1)

    def test_tool_result_turn_is_not_cached(self):
        body = {"model": "gpt", "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]}
        for _ in range(2):
            st, h, resp = post(self.port, "/v1/chat/completions", body)
            self.assertEqual(st, 200, resp)
            self.assertEqual(self.access(h)["semantic_cache"], "skip")
        self.assertEqual(len(self.chat.take()), 2)
        self.assertEqual(self.emb.take(), [])  # nothing was embedded

    def test_sdk_streams_replay_a_stored_answer(self):
        # Stored from a JSON answer; the official clients stream a paraphrase.
        # openai_chat.mjs sends the system prompt "Be brief.": the same context.
        st, h, body = post(self.port, "/v1/chat/completions", chat(EVEREST))
        self.assertEqual(h["x-gatehouse-cache"], "miss", body)
        stored = json.loads(body)["choices"][0]["message"]["content"]
        r = node("openai_chat.mjs", self.base + "/v1", ALICE, "gpt", "--stream",
                 "--message", EVEREST_2)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], stored)
        self.assertEqual(r["finish_reason"], "stop")
        # The Anthropic client sends its own system prompt and max_tokens: its
        # context is another one, stored on its first call and hit on the second.
        a1 = node("anthropic_messages.mjs", self.base, ALICE, "gpt", "--stream",
                  "--message", EVEREST)
        self.assertTrue(a1["ok"], a1)
        a2 = node("anthropic_messages.mjs", self.base, ALICE, "gpt", "--stream",
                  "--message", EVEREST_2)
        self.assertTrue(a2["ok"], a2)
        self.assertEqual(a2["content"], a1["content"])
        self.assertIn("message_stop", a2["events"])
        self.assertEqual(len(self.chat.take()), 2)  # the first JSON call and a1 only

    def test_embeddings_failure_fails_open(self):
        self.emb.fail_status = 500
        try:
            st, h, body = post(self.port, "/v1/chat/completions", chat(FRANCE, system="Fail."))
            self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), body)
            self.assertEqual(self.access(h)["semantic_cache"], "error")
        finally:
            self.emb.fail_status = 0
        # Nothing was stored: the next identical request is a miss, then stored.
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE, system="Fail."))
        self.assertEqual(h["x-gatehouse-cache"], "miss")
        self.assertEqual(len(self.chat.take()), 2)
        s = self.gh.metrics()
        self.assertGreaterEqual(
            metric_sum(s, "gatehouse_llm_semantic_cache_total", result="error"), 1)

    def test_cache_control(self):
        sysp = "Cache control."
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE, system=sysp),
                        headers={"Cache-Control": "no-store"})
        self.assertEqual(h["x-gatehouse-cache"], "bypass")
        self.assertEqual(self.emb.take(), [])  # no-store: not even embedded
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE_2, system=sysp))
        self.assertEqual(h["x-gatehouse-cache"], "miss")  # nothing was stored
        st, h, _ = post(self.port, "/v1/chat/completions", chat(FRANCE, system=sysp),
                        headers={"Cache-Control": "no-cache"})
        self.assertEqual(h["x-gatehouse-cache"], "bypass")
        self.assertEqual(len(self.chat.take()), 3)

    def test_mock_embeddings_equal_text_across_protocols(self):
        # The mock's embeddings are a pure function of the text: the same
        # question from a Chat and a Responses client shares one entry.
        st, h, body = post(self.port, "/mock/v1/chat/completions",
                           {"model": "echo", "messages": [{"role": "user", "content": "ping me"}]})
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "miss"), body)
        st, h, body = post(self.port, "/mock/v1/responses",
                           {"model": "echo", "input": "ping me", "stream": True})
        self.assertEqual((st, h["x-gatehouse-cache"]), (200, "semantic-hit"), body)
        self.assertIn("event: response.completed", body)
        self.assertIn("ping me", body)
        self.assertAlmostEqual(self.access(h)["similarity"], 1.0, places=4)
        s = self.gh.metrics()
        self.assertGreaterEqual(
            metric_sum(s, "gatehouse_llm_semantic_cache_total", result="hit"), 1)
        self.assertGreaterEqual(
            metric_sum(s, "gatehouse_llm_semantic_cache_total", result="store"), 1)


class SemanticCacheConfig(unittest.TestCase):
    def test_unknown_model_and_bad_threshold_name_the_field(self):
        cfg = """\
llm:
  providers: [{name: mock, kind: mock}]
  models: [{name: echo, targets: [{provider: mock, model: m}]}]
routes:
  - name: ai
    match: {paths: ["/v1/"]}
    llm: {models: [echo]}
    policies:
      - {name: llm-semantic-cache, config: {model: embedr, threshold: 1.5}}
"""
        rc, out, err, _ = run_check(cfg)
        self.assertNotEqual(rc, 0)
        text = out + err
        self.assertIn("routes[0].policies[0].config.model", text)
        self.assertIn('"embedr" is not a model in llm.models', text)
        self.assertIn("(and 1 more)", text)  # the threshold


if __name__ == "__main__":
    unittest.main()
