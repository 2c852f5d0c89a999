#!/usr/bin/env python3
"""llm-token-limit and llm-budget with `store: redis`: two gateway processes
share one real Redis (started here). Each reservation is one atomic Lua
script in Redis, so concurrent clients spread over both nodes cannot
overshoot: exactly as many calls as fit are admitted (held at the provider
until every caller was admitted or refused), the rest get 429 in their SDK's
format, and once the calls end Redis holds the real usage (reconciled), so
room comes back. With Redis down, on_store_error decides."""

import concurrent.futures
import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import node, HAVE_SDKS  # noqa: E402
from test_policies_cluster import Redis  # noqa: E402

KEY = "cluster-consumer-key"
TOKENS = 1000
MAX_TOKENS = 300  # each call reserves its prompt estimate + 300: three fit in 1000, not four
CALLERS = 8

CONFIG = """\
llm:
  providers:
    - {{name: up, kind: openai, base_url: "{base}", api_key: "sk-up"}}
  models:
    - {{name: fast, targets: [{{provider: up, model: gpt-4o-mini}}]}}
    - {{name: priced, targets: [{{provider: up, model: priced-model}}]}}
  prices:
    - {{model: priced-model, input: 1000, output: 1000}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [fast]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - name: llm-token-limit
        config: {{tokens: {tokens}, window: 1h, by: consumer, default_max_tokens: {max_tokens},
                 store: redis, redis: {{host: 127.0.0.1, port: {redis}, timeout: 500ms}},
                 on_store_error: {on_error}}}
  - name: money
    match: {{paths: ["/b/v1/"]}}
    llm: {{models: [priced]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - name: llm-budget
        config: {{amount: 1, period: month, by: consumer, default_max_tokens: {max_tokens},
                 store: redis, redis: {{host: 127.0.0.1, port: {redis}, timeout: 500ms}}}}
  - name: per-model
    match: {{paths: ["/m/v1/"]}}
    llm: {{models: [fast]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - name: llm-token-limit
        config: {{tokens: {tokens}, window: 1h, by: model, default_max_tokens: {max_tokens},
                 store: redis, redis: {{host: 127.0.0.1, port: {redis}, timeout: 500ms,
                                        prefix: "gatehouse:llm-tokens-m:"}}}}
consumers:
  - {{name: carla, credentials: [{{type: key-auth, key: "{key}"}}]}}
"""


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiClusterLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.addClassCleanup(cls.redis.stop)
        cls.fake = FakeLLM("openai")
        cls.addClassCleanup(cls.fake.stop)
        cfg = CONFIG.format(base=cls.fake.base_url, tokens=TOKENS, max_tokens=MAX_TOKENS,
                            redis=cls.redis.port, key=KEY, on_error="closed")
        cls.nodes = []
        for _ in range(2):
            gh = Gatehouse(cfg)
            cls.addClassCleanup(gh.cleanup)
            cls.nodes.append(gh)

    @classmethod
    def tearDownClass(cls):
        for gh in cls.nodes:
            gh.stop_and_check()

    def base(self, i, prefix=""):
        return "http://127.0.0.1:%d%s" % (self.nodes[i % 2].proxy_port, prefix)

    def call(self, i, prefix=""):
        model = "priced" if prefix == "/b" else "fast"
        if i % 2:
            return node("openai_chat.mjs", self.base(i, prefix) + "/v1", KEY, model, "--stream")
        return node("anthropic_messages.mjs", self.base(i, prefix), KEY, model)

    def burst(self, prefix=""):
        """CALLERS concurrent SDK calls over both nodes; admitted calls are held
        at the provider until every caller was admitted or refused."""
        self.fake.take()
        self.fake.gate = threading.Event()
        done = []
        try:
            with concurrent.futures.ThreadPoolExecutor(CALLERS) as pool:
                futures = [pool.submit(lambda i=i: done.append(self.call(i, prefix)) or done[-1])
                           for i in range(CALLERS)]
                self.assertTrue(wait_until(
                    lambda: len(self.fake.requests) + len(done) >= CALLERS, timeout=60))
                arrived = len(self.fake.requests)
                self.fake.gate.set()
                results = [f.result() for f in futures]
        finally:
            self.fake.gate = None
        self.fake.take()
        return arrived, results

    def redis_sum(self, pattern):
        total = 0
        for k in self.redis.command("KEYS", pattern):
            total += int(self.redis.command("GET", k) or 0)
        return total

    def test_token_limit_shared_by_two_nodes_never_overshoots(self):
        arrived, results = self.burst()
        ok = [r for r in results if r["ok"]]
        refused = [r for r in results if not r["ok"]]
        self.assertEqual(arrived, 3, results)
        self.assertEqual(len(ok), 3, results)
        self.assertEqual(len(refused), CALLERS - 3, results)
        for r in refused:
            self.assertEqual(r["status"], 429, r)
            self.assertIn("token limit of 1000 per 1h exceeded", json.dumps(r["error"]))
        # Reconciled: Redis holds the real usage (11 prompt + 7 completion per
        # call, the fake's numbers), not the reservations.
        self.assertTrue(wait_until(lambda: self.redis_sum("gatehouse:llm-tokens:*") == 3 * 18))
        # So the next call fits again, on either node.
        for i in range(2):
            self.assertTrue(self.call(i)["ok"])
        # Settled after the answer went out: wait for it.
        self.assertTrue(wait_until(lambda: self.redis_sum("gatehouse:llm-tokens:*") == 5 * 18))
        self.fake.take()

    def test_budget_shared_by_two_nodes_never_overshoots(self):
        # At 1000 per million tokens, a call may cost up to (prompt + 300) / 1000:
        # about 0.32 of the budget of 1, so three fit at once and a fourth does not.
        arrived, results = self.burst("/b")
        ok = [r for r in results if r["ok"]]
        self.assertEqual(arrived, 3, results)
        self.assertEqual(len(ok), 3, results)
        for r in results:
            if not r["ok"]:
                self.assertEqual(r["status"], 429, r)
                self.assertIn("budget of 1 USD per month", json.dumps(r["error"]))
        # Settled at the real cost, 18 tokens x 1000 / 1e6 = 0.018 each, in micro-units.
        self.assertTrue(wait_until(
            lambda: self.redis_sum("gatehouse:llm-budget:*") == 3 * 18000))


    def test_token_limit_by_model_shared_by_two_nodes_never_overshoots(self):
        # by: model reserves per provider attempt, in Redis like by: consumer.
        arrived, results = self.burst("/m")
        ok = [r for r in results if r["ok"]]
        self.assertEqual(arrived, 3, results)
        self.assertEqual(len(ok), 3, results)
        for r in results:
            if not r["ok"]:
                self.assertEqual(r["status"], 429, r)
                self.assertIn("token limit of 1000 per 1h (model:fast) exceeded",
                              json.dumps(r["error"]))
        self.assertTrue(wait_until(lambda: self.redis_sum("gatehouse:llm-tokens-m:*") == 3 * 18))


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiClusterLimitsStoreDown(unittest.TestCase):
    def test_on_store_error(self):
        fake = FakeLLM("openai")
        self.addCleanup(fake.stop)
        redis = Redis()
        port = redis.port
        redis.stop()  # nothing listens there any more
        body = json.dumps({"model": "fast", "messages": [{"role": "user", "content": "hi"}]})
        headers = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
        for mode, status in (("open", 200), ("closed", 429)):
            gh = Gatehouse(CONFIG.format(base=fake.base_url, tokens=TOKENS, max_tokens=MAX_TOKENS,
                                         redis=port, key=KEY, on_error=mode))
            self.addCleanup(gh.cleanup)
            r = http_request(gh.proxy_port, "POST", "/v1/chat/completions", headers, body.encode())
            self.assertEqual(r.status, status, r)
            if status == 429:
                self.assertIn("store unreachable", json.loads(r.body)["error"]["message"])
            gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
