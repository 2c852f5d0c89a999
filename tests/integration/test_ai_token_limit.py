#!/usr/bin/env python3
"""llm-token-limit end to end: the AI gateway in front of its built-in mock
provider (usage counted with the o200k tokenizer), key-auth consumers, and
the policy reserving prompt estimate + max_tokens before each call and
settling with the real usage after it."""

import concurrent.futures
import http.client
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402

CONFIG = """\
llm:
  providers:
    - {name: mock, kind: mock, mock: {reply: "ok"}}
    - {name: slow, kind: mock, mock: {reply: "ok", latency: 400ms}}
    - {name: first, kind: mock, mock: {reply: "from-first"}}
    - {name: second, kind: mock, mock: {reply: "from-second"}}
  models:
    - {name: echo, targets: [{provider: mock, model: mock-1}]}
    - {name: slow, targets: [{provider: slow, model: mock-1}]}
    - {name: big, targets: [{provider: first, model: mock-1}], fallbacks: [small]}
    - {name: small, targets: [{provider: second, model: mock-1}]}
routes:
  - name: ai
    match: {paths: ["/v1/"]}
    llm: {models: [echo]}
    policies:
      - {name: key-auth}
      - {name: llm-token-limit, config: {tokens: 200, window: 1m, by: consumer}}
  - name: ai-burst
    match: {hosts: ["burst.test"], paths: ["/v1/"]}
    llm: {models: [slow]}
    policies:
      - {name: key-auth}
      - {name: llm-token-limit, config: {tokens: 300, window: 1h, by: consumer}}
  - name: ai-by-model
    match: {hosts: ["model.test"], paths: ["/v1/"]}
    llm: {models: [big, small]}
    policies:
      - {name: key-auth}
      - {name: llm-token-limit, config: {tokens: 120, window: 1h, by: model}}
  - name: ai-by-provider
    match: {hosts: ["provider.test"], paths: ["/v1/"]}
    llm: {models: [big, small]}
    policies:
      - {name: key-auth}
      - {name: llm-token-limit, config: {tokens: 120, window: 1h, by: provider}}
consumers:
  - {name: alice, credentials: [{type: key-auth, key: alice-key}]}
  - {name: bob, credentials: [{type: key-auth, key: bob-key}]}
  - {name: carol, credentials: [{type: key-auth, key: carol-key}]}
  - {name: dave, credentials: [{type: key-auth, key: dave-key}]}
"""


def post(port, path, key, body, host="127.0.0.1"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", path, body=json.dumps(body).encode(),
                  headers={"Content-Type": "application/json", "apikey": key, "Host": host})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(data or b"{}")
    finally:
        c.close()


def chat(port, key, max_tokens=10, host="127.0.0.1", text="hello there"):
    return post(port, "/v1/chat/completions", key,
                {"model": "echo" if host == "127.0.0.1" else "slow", "max_tokens": max_tokens,
                 "messages": [{"role": "user", "content": text}]}, host)


class TokenLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gh = Gatehouse(CONFIG)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def test_budget_spent_then_refused_per_consumer(self):
        spent = 0
        admitted = 0
        for _ in range(100):
            status, headers, body = chat(self.port, "alice-key")
            if status != 200:
                break
            admitted += 1
            spent += body["usage"]["total_tokens"]
            self.assertEqual(headers.get("x-ratelimit-limit-tokens"), "200")
            self.assertIn("x-ratelimit-remaining-tokens", headers)
        self.assertEqual(status, 429, body)
        self.assertGreater(admitted, 3)
        # Reservations are prompt estimate + max_tokens and the mock answers
        # one token: what was admitted never exceeds the budget.
        self.assertLessEqual(spent, 200)
        self.assertEqual(body["error"]["type"], "rate_limit_error")
        self.assertIn("token limit of 200 per 1m", body["error"]["message"])
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        # Bob has his own budget.
        self.assertEqual(chat(self.port, "bob-key")[0], 200)

    def test_request_larger_than_the_limit(self):
        status, _, body = chat(self.port, "carol-key", max_tokens=5000)
        self.assertEqual(status, 429, body)
        self.assertIn("more than the limit of 200 tokens per 1m", body["error"]["message"])
        # Nothing was counted: a normal request still passes.
        self.assertEqual(chat(self.port, "carol-key")[0], 200)

    def test_messages_client_gets_anthropic_shaped_refusal(self):
        status, _, body = post(self.port, "/v1/messages", "carol-key",
                               {"model": "echo", "max_tokens": 4096,
                                "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 429, body)
        self.assertEqual(body["type"], "error")
        self.assertEqual(body["error"]["type"], "rate_limit_error")

    def test_concurrent_requests_cannot_overshoot(self):
        # 16 requests at once, each reserving ~60 tokens against 300 while the
        # slow provider holds every call for 400 ms: without reservations all
        # would pass the check before any usage is known.
        def one(_):
            return chat(self.port, "dave-key", max_tokens=50, host="burst.test")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(16)))
        ok = [r for r in results if r[0] == 200]
        refused = [r for r in results if r[0] == 429]
        self.assertEqual(len(ok) + len(refused), 16, [r[0] for r in results])
        self.assertGreater(len(refused), 0)
        self.assertGreater(len(ok), 0)
        prompt = ok[0][2]["usage"]["prompt_tokens"]
        self.assertLessEqual(len(ok) * (prompt + 50), 300)


class TokenLimitPerTarget(unittest.TestCase):
    """by: model / by: provider reserve per provider attempt, like llm-budget:
    a target whose window is spent is skipped, so the fallback answers, and
    only when every target is spent is the request refused."""

    @classmethod
    def setUpClass(cls):
        cls.gh = Gatehouse(CONFIG)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.port = cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def drain(self, host, spent_key, route):
        served = []
        for _ in range(100):
            # Different consumers: the key is the target, not the caller.
            key = ("alice-key", "bob-key")[len(served) % 2]
            status, headers, body = post(self.port, "/v1/chat/completions", key,
                                         {"model": "big", "max_tokens": 10,
                                          "messages": [{"role": "user", "content": "hello there"}]},
                                         host)
            if status != 200:
                break
            served.append(body["choices"][0]["message"]["content"])
        self.assertEqual(status, 429, body)
        self.assertEqual(body["error"]["type"], "rate_limit_error")
        self.assertIn("token limit of 120 per 1h (%s) exceeded" % spent_key,
                      body["error"]["message"])
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        # The first target until its window is spent, then the fallback only.
        n = served.count("from-first")
        self.assertGreater(n, 2, served)
        self.assertGreater(served.count("from-second"), 2, served)
        self.assertEqual(served, ["from-first"] * n + ["from-second"] * (len(served) - n))
        # The access log names what refused.
        rec = self.gh.wait_access(lambda x: x.get("status") == 429 and x.get("route") == route)
        self.assertEqual(rec["error"], "llm_token_limit", rec)
        return served

    def test_by_model_falls_back_when_the_model_is_spent(self):
        self.drain("model.test", "model:small", "ai-by-model")

    def test_by_provider_falls_back_when_the_provider_is_spent(self):
        self.drain("provider.test", "provider:second", "ai-by-provider")


class TokenLimitConfig(unittest.TestCase):
    def test_only_on_llm_routes(self):
        cfg = ("upstreams: [{name: u, targets: [{address: '127.0.0.1:9'}]}]\n"
               "routes:\n  - name: r\n    match: {paths: ['/']}\n    upstream: u\n"
               "    policies: [{name: llm-token-limit, config: {tokens: 10, window: 1m}}]\n")
        gh = Gatehouse(cfg, start=False)
        try:
            p = subprocess.run([os.environ["GATEHOUSE_BIN"], "check", "-c", gh.config_path],
                               capture_output=True, text=True, timeout=30)
        finally:
            gh.cleanup()
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("routes[0].policies[0].config", p.stdout + p.stderr)
        self.assertIn("attach it to a route with an llm: block", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
