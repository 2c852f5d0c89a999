#!/usr/bin/env python3
"""Load balancing across a model's targets (strategy: weighted,
least-inflight, latency, cost), retries with backoff before the first byte
(5xx, 429 honouring Retry-After up to max_retry_after) and the
time-to-first-token timeout, separate from the idle timeout. Driven by the
official openai and @anthropic-ai/sdk clients against fake providers."""

import concurrent.futures
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import node, HAVE_SDKS  # noqa: E402

KEY = "routing-consumer-key"
AUTH = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}

NAMES = ("busy1", "busy2", "slow", "quick", "cheap", "dear", "flaky", "limited", "stalled",
         "backup", "stalled2", "longwait")

CONFIG = """\
llm:
  providers:
{providers}
    - {{name: mocky, kind: mock, mock: {{latency: 3s}}}}
  models:
    - name: spread
      strategy: least-inflight
      targets: [{{provider: busy1, model: m}}, {{provider: busy2, model: m}}]
    - name: quickest
      strategy: latency
      targets: [{{provider: slow, model: m}}, {{provider: quick, model: m}}]
    - name: thrifty
      strategy: cost
      targets: [{{provider: dear, model: dear-model, weight: 100}}, {{provider: cheap, model: cheap-model, weight: 1}}]
    - name: flaky
      targets: [{{provider: flaky, model: m}}]
      retry: {{attempts: 2, backoff: 10ms, max_backoff: 50ms}}
    - name: limited
      targets: [{{provider: limited, model: m}}]
      retry: {{attempts: 1, max_retry_after: 5s}}
    - name: stalled
      targets: [{{provider: stalled, model: m}}]
      fallbacks: [backup]
      retry: {{first_token_timeout: 300ms}}
    - name: backup
      targets: [{{provider: backup, model: claude-haiku}}]
    - name: stalled-alone
      targets: [{{provider: stalled2, model: m}}]
      retry: {{first_token_timeout: 300ms}}
    - name: longwait
      targets: [{{provider: longwait, model: m}}]
      fallbacks: [backup]
      retry: {{attempts: 3, max_retry_after: 1s}}
    - name: mocky
      targets: [{{provider: mocky, model: mock-1}}]
      retry: {{first_token_timeout: 200ms}}
  prices:
    - {{model: dear-model, input: 10, output: 30}}
    - {{model: cheap-model, input: 0.1, output: 0.3}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [spread, quickest, thrifty, flaky, limited, stalled, backup, stalled-alone, longwait, mocky]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: dana, credentials: [{{type: key-auth, key: "{key}"}}]}}
"""


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiRouting(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakes = {}
        for n in NAMES:
            f = FakeLLM("anthropic" if n == "backup" else "openai")
            cls.addClassCleanup(f.stop)
            cls.fakes[n] = f
        providers = "\n".join(
            '    - {name: %s, kind: %s, base_url: "%s", api_key: "sk-%s"}'
            % (n, "anthropic" if n == "backup" else "openai", f.base_url, n)
            for n, f in cls.fakes.items())
        cls.gh = Gatehouse(CONFIG.format(providers=providers, key=KEY))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def chat(self, model, *flags):
        return node("openai_chat.mjs", self.base + "/v1", KEY, model, *flags)

    def messages(self, model, *flags):
        return node("anthropic_messages.mjs", self.base, KEY, model, *flags)

    def count(self, name):
        return len(self.fakes[name].take())

    def record(self, model, n=1):
        recs = []

        def found():
            recs[:] = [x for x in self.gh.access_records() if (x.get("llm") or {}).get("model") == model]
            return len(recs) >= n
        self.assertTrue(wait_until(found), model)
        return recs

    def test_least_inflight_spreads_calls_in_flight(self):
        a, b = self.fakes["busy1"], self.fakes["busy2"]
        a.delay = b.delay = 3.0
        try:
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                futures = []
                for i in range(4):
                    # Each call is in flight at a provider before the next starts,
                    # so the gateway sees exact counts: 0/0, 1/0, 1/1, 2/1.
                    futures.append(pool.submit(self.chat, "spread", *(["--stream"] if i % 2 else [])))
                    self.assertTrue(wait_until(lambda: a.inflight + b.inflight == i + 1, timeout=20))
                self.assertEqual((a.inflight, b.inflight), (2, 2))
                for f in futures:
                    self.assertTrue(f.result()["ok"])
        finally:
            a.delay = b.delay = 0
        self.assertEqual(self.count("busy1"), 2)
        self.assertEqual(self.count("busy2"), 2)

    def test_latency_prefers_the_fastest_after_measuring_each(self):
        self.fakes["slow"].delay = 0.4
        try:
            for _ in range(2):  # untried targets are measured first
                self.assertTrue(self.chat("quickest")["ok"])
            self.assertEqual(self.count("slow"), 1)
            self.assertEqual(self.count("quick"), 1)
            for flags in ((), ("--stream",), ()):
                self.assertTrue(self.chat("quickest", *flags)["ok"])
            self.assertTrue(self.messages("quickest")["ok"])
            self.assertEqual(self.count("slow"), 0)
            self.assertEqual(self.count("quick"), 4)
        finally:
            self.fakes["slow"].delay = 0

    def test_cost_picks_the_cheapest_target_whatever_the_weights(self):
        for flags in ((), ("--stream",), ()):
            self.assertTrue(self.chat("thrifty", *flags)["ok"])
        self.assertTrue(self.messages("thrifty", "--stream")["ok"])
        self.assertEqual(self.count("cheap"), 4)
        self.assertEqual(self.count("dear"), 0)
        # Cooling down the cheap target sends the next call to the dear one.
        f = self.fakes["cheap"]
        f.fail_status, f.fail_count, f.fail_headers = 429, 1, {"Retry-After": "300"}
        self.assertTrue(self.chat("thrifty")["ok"])
        self.assertTrue(self.chat("thrifty")["ok"])
        self.assertEqual(self.count("cheap"), 1)  # the 429; then skipped
        self.assertEqual(self.count("dear"), 2)

    def test_retries_5xx_with_backoff_on_the_same_target(self):
        f = self.fakes["flaky"]
        f.fail_status, f.fail_count = 503, 2
        r = self.chat("flaky", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], f.reply)
        self.assertEqual(self.count("flaky"), 3)
        rec = self.record("flaky")[-1]
        self.assertEqual(rec["llm"]["attempts"], 3)
        self.assertEqual(rec["status"], 200)
        # More failures than attempts: the client gets the provider's error.
        f.fail_status, f.fail_count = 500, 3
        r = self.messages("flaky")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 500)
        self.assertEqual(self.count("flaky"), 3)
        f.fail_status = 0

    def test_429_retry_after_is_waited_for_up_to_the_cap(self):
        f = self.fakes["limited"]
        f.fail_status, f.fail_count, f.fail_headers = 429, 1, {"retry-after-ms": "200"}
        r = self.chat("limited")
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.count("limited"), 2)  # waited 200 ms, then the same target
        # Above max_retry_after (1s for `longwait`): no waiting, the fallback answers.
        g = self.fakes["longwait"]
        g.fail_status, g.fail_count, g.fail_headers = 429, 1, {"Retry-After": "30"}
        r = self.chat("longwait", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.fakes["backup"].reply)
        self.assertEqual(self.count("longwait"), 1)
        self.assertEqual(self.count("backup"), 1)

    def test_first_token_timeout_falls_back_before_the_first_byte(self):
        f = self.fakes["stalled"]
        f.delay = 3.0
        try:
            for call in (lambda: self.chat("stalled", "--stream"), lambda: self.chat("stalled"),
                         lambda: self.messages("stalled", "--stream")):
                r = call()
                self.assertTrue(r["ok"], r)
                self.assertEqual(r["content"], self.fakes["backup"].reply)
            self.assertEqual(self.count("stalled"), 3)
            self.assertEqual(self.count("backup"), 3)
            rec = self.record("stalled", 3)[-1]
            self.assertEqual(rec["llm"]["attempts"], 2)
            self.assertEqual(rec["llm"]["provider"], "backup")
        finally:
            f.delay = 0

    def test_first_token_timeout_without_fallback_is_a_504(self):
        f = self.fakes["stalled2"]
        f.delay = 3.0
        try:
            body = json.dumps({"model": "stalled-alone", "stream": True,
                               "messages": [{"role": "user", "content": "hi"}]})
            r = self.gh.request("POST", "/v1/chat/completions", AUTH, body.encode())
            self.assertEqual(r.status, 504, r)
            err = json.loads(r.body)["error"]
            self.assertIn("no token within 300 ms", err["message"])
            rec = self.record("stalled-alone")[-1]
            self.assertEqual(rec["error"], "first_token_timeout")
        finally:
            f.delay = 0
        r = self.messages("mocky")  # the mock's 3 s latency is above its 200 ms limit
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 504)


if __name__ == "__main__":
    unittest.main()
