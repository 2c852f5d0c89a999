#!/usr/bin/env python3
"""Retry-After and cooldowns: a provider answering 429/503 with Retry-After
(seconds or HTTP-date) or retry-after-ms is cooled down for that long; the
gateway falls back before the first byte and skips it until then. Driven by
the official openai and @anthropic-ai/sdk clients and raw requests (for the
Retry-After header the client gets)."""

import email.utils
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, metric_sum, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import node, HAVE_SDKS  # noqa: E402

CONSUMER_KEY = "carol-consumer-key"

CONFIG = """\
llm:
  providers:
    - {{name: limited, kind: openai, base_url: "{limited}", api_key: "sk-limited"}}
    - {{name: backup, kind: anthropic, base_url: "{backup}", api_key: "sk-backup"}}
    - {{name: solo, kind: openai, base_url: "{solo}", api_key: "sk-solo"}}
    - {{name: dated, kind: openai, base_url: "{dated}", api_key: "sk-dated"}}
    - {{name: brief, kind: openai, base_url: "{brief}", api_key: "sk-brief"}}
  models:
    - name: cool
      targets: [{{provider: limited, model: gpt-4o-mini}}]
      fallbacks: [backup]
    - name: backup
      targets: [{{provider: backup, model: claude-haiku}}]
    - name: solo
      targets: [{{provider: solo, model: gpt-4o}}]
    - name: dated
      targets: [{{provider: dated, model: gpt-4o}}]
      fallbacks: [backup]
    - name: brief
      targets: [{{provider: brief, model: gpt-4o}}]
      fallbacks: [backup]
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [cool, backup, solo, dated, brief]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: carol, credentials: [{{type: key-auth, key: "{consumer}"}}]}}
"""

AUTH = {"Authorization": "Bearer " + CONSUMER_KEY, "Content-Type": "application/json"}


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiCooldown(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakes = {}
        for name, kind in (("limited", "openai"), ("backup", "anthropic"), ("solo", "openai"),
                           ("dated", "openai"), ("brief", "openai")):
            f = FakeLLM(kind)
            cls.addClassCleanup(f.stop)
            cls.fakes[name] = f
        f = cls.fakes
        f["limited"].fail_status = 429
        f["limited"].fail_headers = {"Retry-After": "300"}
        f["solo"].fail_status = 429
        f["solo"].fail_headers = {"retry-after-ms": "200000", "Retry-After": "1"}
        f["dated"].fail_status = 503
        f["dated"].fail_headers = {
            "Retry-After": email.utils.formatdate(time.time() + 120, usegmt=True)}
        f["brief"].fail_status = 429
        f["brief"].fail_count = 1  # one 429, then healthy
        f["brief"].fail_headers = {"retry-after-ms": "300"}
        cls.gh = Gatehouse(CONFIG.format(consumer=CONSUMER_KEY,
                                         **{k: v.base_url for k, v in f.items()}))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def chat(self, model, *flags):
        return node("openai_chat.mjs", self.base + "/v1", CONSUMER_KEY, model, *flags)

    def messages(self, model, *flags):
        return node("anthropic_messages.mjs", self.base, CONSUMER_KEY, model, *flags)

    def count(self, name):
        return len(self.fakes[name].take())

    def test_retry_after_cools_down_and_fallback_skips(self):
        r = self.chat("cool")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.fakes["backup"].reply)
        self.assertEqual(self.count("limited"), 1)
        self.assertEqual(self.count("backup"), 1)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("model") == "cool")
        self.assertEqual(rec["llm"]["attempts"], 2)
        self.assertEqual(rec["llm"]["cooldowns"], 1)
        self.assertEqual(rec["llm"]["cooling_skips"], 0)
        # Cooling down for 300 s: the next calls go straight to the fallback,
        # streaming and not, from both SDKs.
        for call in (lambda: self.chat("cool", "--stream"), lambda: self.messages("cool"),
                     lambda: self.messages("cool", "--stream", "--tools")):
            r = call()
            self.assertTrue(r["ok"], r)
            self.assertEqual(self.count("limited"), 0)
            self.assertEqual(self.count("backup"), 1)
        def skipped():
            return [x for x in self.gh.access_records()
                    if (x.get("llm") or {}).get("model") == "cool" and x["llm"]["cooling_skips"]]
        self.assertTrue(wait_until(lambda: len(skipped()) == 3))
        recs = skipped()
        for x in recs:
            self.assertEqual(x["llm"]["attempts"], 1)
            self.assertEqual(x["llm"]["provider"], "backup")
        m = self.gh.metrics()
        self.assertEqual(metric_sum(m, "gatehouse_llm_cooldowns_total", provider="limited"), 1)
        self.assertGreaterEqual(
            metric_sum(m, "gatehouse_llm_cooldown_skips_total", provider="limited"), 3)
        self.assertEqual(metric_sum(m, "gatehouse_llm_cooling_down", provider="limited"), 1)
        self.assertEqual(metric_sum(m, "gatehouse_llm_cooling_down", provider="backup"), 0)

    def test_last_target_429_forwards_retry_after_then_answers_from_cooldown(self):
        body = json.dumps({"model": "solo", "messages": [{"role": "user", "content": "hi"}]})
        r = self.gh.request("POST", "/v1/chat/completions", AUTH, body.encode())
        self.assertEqual(r.status, 429)
        # retry-after-ms wins over Retry-After; the client gets whole seconds.
        self.assertEqual(r.header("Retry-After"), "200")
        self.assertEqual(self.count("solo"), 1)
        r = self.gh.request("POST", "/v1/chat/completions", AUTH, body.encode())
        self.assertEqual(r.status, 429)
        self.assertEqual(self.count("solo"), 0)  # not called while cooling down
        left = int(r.header("Retry-After"))
        self.assertGreater(left, 0)
        self.assertLessEqual(left, 200)
        err = json.loads(r.body)["error"]
        self.assertEqual(err["type"], "rate_limit_error")
        self.assertIn("cooling down", err["message"])
        # The Anthropic SDK sees a 429 in its own shape.
        r = self.messages("solo", "--stream")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 429)
        self.assertEqual(r["error"]["error"]["type"], "rate_limit_error")
        self.assertEqual(self.count("solo"), 0)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("model") == "solo"
                                  and x["llm"]["attempts"] == 0)
        self.assertEqual(rec["llm"]["cooling_skips"], 1)
        self.assertEqual(rec["status"], 429)

    def test_http_date_on_503(self):
        r = self.chat("dated")
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.count("dated"), 1)
        self.assertEqual(self.count("backup"), 1)
        r = self.chat("dated", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.count("dated"), 0)
        self.assertEqual(self.count("backup"), 1)
        self.assertEqual(metric_sum(self.gh.metrics(), "gatehouse_llm_cooling_down",
                                    provider="dated"), 1)

    def test_cooldown_ends(self):
        r = self.chat("brief")
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.count("brief"), 1)  # the 429
        self.assertEqual(self.count("backup"), 1)

        # 300 ms later the target is tried again and (healthy now) answers.
        def served_by_brief():
            r = self.chat("brief")
            self.assertTrue(r["ok"], r)
            return self.count("brief") == 1
        self.assertTrue(wait_until(served_by_brief, timeout=20.0, interval=0.2))
        self.fakes["backup"].take()


if __name__ == "__main__":
    unittest.main()
