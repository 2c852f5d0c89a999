#!/usr/bin/env python3
"""Usage records and analytics: one record per LLM request (consumer, model,
provider, token types, cost, status, partial, TTFT, duration, stream) written
off the data path to the store's database, read back through
GET /api/v1/llm/usage with filters, grouping, totals and pagination; the
tokens-per-second and time-to-first-token histograms. Driven by the official
openai and @anthropic-ai/sdk clients against fake providers."""

import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, metric_sum, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from test_ai_gateway import node, HAVE_SDKS  # noqa: E402

TOKEN = "usage-admin-token-0123456789"
ALICE = "alice-usage-key"
BOB = "bob-usage-key"

CONFIG = """\
llm:
  providers:
    - {{name: openai-main, kind: openai, base_url: "{openai}", api_key: "sk-o"}}
    - {{name: claude, kind: anthropic, base_url: "{anthropic}", api_key: "sk-a"}}
  models:
    - {{name: fast, targets: [{{provider: openai-main, model: gpt-4o-mini}}]}}
    - {{name: smart, targets: [{{provider: claude, model: claude-haiku}}]}}
  prices:
    - {{model: gpt-4o-mini, input: 1, output: 2, cache_read: 0.5}}
  usage: {{flush_interval: 100ms, retention: 30d}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [fast, smart]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "{alice}"}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: "{bob}"}}]}}
"""

# The fakes' usage: OpenAI prompt 11 (2 cached), completion 7; Anthropic input
# 13 uncached + 3 cache read, output 9.
OPENAI_COST = (9 * 1 + 2 * 0.5 + 7 * 2) / 1e6


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiUsage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.openai = FakeLLM("openai")
        cls.addClassCleanup(cls.openai.stop)
        cls.anthropic = FakeLLM("anthropic")
        cls.addClassCleanup(cls.anthropic.stop)
        cls.gh = Gatehouse(CONFIG.format(openai=cls.openai.base_url,
                                         anthropic=cls.anthropic.base_url, alice=ALICE, bob=BOB),
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port
        # Four requests: alice on OpenAI (whole and streamed), bob on Anthropic
        # (streamed) and bob asking for a model that does not exist.
        for r in (node("openai_chat.mjs", cls.base + "/v1", ALICE, "fast"),
                  node("openai_chat.mjs", cls.base + "/v1", ALICE, "fast", "--stream"),
                  node("anthropic_messages.mjs", cls.base, BOB, "smart", "--stream")):
            assert r["ok"], r
        r = node("anthropic_messages.mjs", cls.base, BOB, "nope")
        assert not r["ok"] and r["status"] == 404, r

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def usage(self, **params):
        q = urllib.parse.urlencode(params)
        r = self.gh.api("GET", "/api/v1/llm/usage" + ("?" + q if q else ""), token=TOKEN)
        return r

    def ok(self, **params):
        r = self.usage(**params)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_one_record_per_request_with_totals(self):
        doc = self.ok()
        t = doc["totals"]
        self.assertEqual(t["requests"], 4, doc)
        self.assertEqual(t["errors"], 1)
        self.assertEqual(t["input_tokens"], 9 + 9 + 13)
        self.assertEqual(t["cache_read_tokens"], 2 + 2 + 3)
        self.assertEqual(t["output_tokens"], 7 + 7 + 9)
        self.assertAlmostEqual(t["cost"], 2 * OPENAI_COST, places=12)
        items = doc["items"]
        self.assertEqual(len(items), 4)
        self.assertIsNone(doc["next_cursor"])
        # Newest first: the 404, then bob's stream, alice's stream, alice's call.
        self.assertEqual([i["status"] for i in items], [404, 200, 200, 200])
        missing, claude, streamed, whole = items
        self.assertEqual(missing["consumer"], "bob")
        self.assertEqual(missing["model"], "nope")
        self.assertEqual(missing["error"], "ai_unknown_model")
        self.assertEqual(missing["provider"], "")
        self.assertFalse(missing["usage_known"])
        self.assertIsNone(missing["cost"])
        self.assertEqual(claude["endpoint"], "messages")
        self.assertEqual(claude["provider"], "claude")
        self.assertEqual(claude["provider_model"], "claude-haiku")
        self.assertTrue(claude["stream"])
        self.assertIsNone(claude["cost"])  # claude-haiku has no price: unknown, not zero
        self.assertEqual(streamed["consumer"], "alice")
        self.assertTrue(streamed["stream"])
        self.assertFalse(whole["stream"])
        for rec in (claude, streamed, whole):
            self.assertTrue(rec["usage_known"])
            self.assertFalse(rec["partial"])
            self.assertEqual(rec["attempts"], 1)
            self.assertGreater(rec["ttft_ms"], 0)
            self.assertGreaterEqual(rec["duration_ms"], rec["ttft_ms"])
            self.assertEqual(rec["route"], "ai")
            self.assertTrue(rec["credential"])
            self.assertTrue(rec["request_id"])
            self.assertTrue(rec["at"].endswith("Z"))
        for rec in (streamed, whole):
            self.assertEqual((rec["input_tokens"], rec["cache_read_tokens"],
                              rec["output_tokens"]), (9, 2, 7))
            self.assertEqual(rec["model"], "fast")
            self.assertEqual(rec["requested_model"], "fast")
            self.assertAlmostEqual(rec["cost"], OPENAI_COST, places=12)
        # The record's request id is the one the access log has.
        acc = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("model") == "nope")
        self.assertEqual(acc["request_id"], missing["request_id"])

    def test_filters(self):
        self.assertEqual(self.ok(consumer="bob")["totals"]["requests"], 2)
        self.assertEqual(self.ok(consumer="alice", model="fast")["totals"]["requests"], 2)
        self.assertEqual(self.ok(provider="claude")["totals"]["requests"], 1)
        self.assertEqual(self.ok(route="ai")["totals"]["requests"], 4)
        self.assertEqual(self.ok(route="other")["totals"]["requests"], 0)
        self.assertEqual(self.ok(**{"from": "2999-01-01"})["totals"]["requests"], 0)
        self.assertEqual(self.ok(to="2000-01-01T00:00:00Z")["totals"]["requests"], 0)
        self.assertEqual(self.ok(**{"from": "2000-01-01T00:00:00+02:00"})["totals"]["requests"], 4)

    def test_grouping(self):
        doc = self.ok(group_by="consumer")
        self.assertEqual(doc["group_by"], "consumer")
        groups = {g["key"]: g for g in doc["items"]}
        self.assertEqual(sorted(groups), ["alice", "bob"])
        self.assertEqual(groups["alice"]["requests"], 2)
        self.assertEqual(groups["alice"]["output_tokens"], 14)
        self.assertAlmostEqual(groups["alice"]["cost"], 2 * OPENAI_COST, places=12)
        self.assertEqual(groups["bob"]["errors"], 1)
        self.assertIsNone(groups["bob"]["cost"])
        models = {g["key"]: g["requests"] for g in self.ok(group_by="model")["items"]}
        self.assertEqual(models, {"fast": 2, "smart": 1, "nope": 1})
        providers = {g["key"]: g["requests"] for g in self.ok(group_by="provider")["items"]}
        self.assertEqual(providers, {"openai-main": 2, "claude": 1, "": 1})
        for unit in ("day", "hour"):
            doc = self.ok(group_by=unit)
            total = sum(g["requests"] for g in doc["items"])
            self.assertEqual(total, 4)
            for g in doc["items"]:
                self.assertTrue(g["key"].endswith("T00:00:00.000Z") if unit == "day"
                                else g["key"].endswith(":00:00.000Z"), g)

    def test_pagination(self):
        seen = []
        cursor = None
        for _ in range(10):
            params = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            doc = self.ok(**params)
            self.assertEqual(doc["totals"]["requests"], 4)  # totals cover the whole filter
            seen += [i["id"] for i in doc["items"]]
            cursor = doc["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), 4)
        self.assertEqual(len(set(seen)), 4)
        self.assertEqual(seen, sorted(seen, reverse=True))
        doc = self.ok(group_by="model", limit=2)
        self.assertEqual(len(doc["items"]), 2)
        rest = self.ok(group_by="model", limit=2, cursor=doc["next_cursor"])
        self.assertEqual(len(rest["items"]), 1)
        self.assertIsNone(rest["next_cursor"])

    def test_bad_queries_name_the_parameter(self):
        for params, field in (({"from": "yesterday"}, "from"), ({"to": "2026-02-31"}, "to"),
                              ({"group_by": "week"}, "group_by"), ({"limit": "0"}, "limit"),
                              ({"cursor": "bogus"}, "cursor"), ({"consumers": "x"}, "consumers"),
                              ({"from": "2026-01-02", "to": "2026-01-01"}, "from")):
            r = self.usage(**params)
            self.assertEqual(r.status, 400, (params, r))
            doc = r.json()
            self.assertEqual(doc.get("field"), field, doc)
        r = self.gh.api("GET", "/api/v1/llm/usage")
        self.assertEqual(r.status, 401)

    def test_metrics_ttft_and_tokens_per_second(self):
        m = self.gh.metrics()
        for model, provider in (("fast", "openai-main"), ("smart", "claude")):
            self.assertGreaterEqual(metric_sum(m, "gatehouse_llm_tokens_per_second_count",
                                               model=model, provider=provider), 1)
            self.assertGreaterEqual(metric_sum(m, "gatehouse_llm_time_to_first_token_seconds_count",
                                               model=model, provider=provider), 1)
            inf = metric_sum(m, "gatehouse_llm_tokens_per_second_bucket", model=model,
                             provider=provider, le="+Inf")
            self.assertEqual(inf, metric_sum(m, "gatehouse_llm_tokens_per_second_count",
                                             model=model, provider=provider))
        self.assertTrue(wait_until(lambda: metric_sum(
            self.gh.metrics(), "gatehouse_llm_usage_records_written_total") >= 4))
        self.assertEqual(metric_sum(m, "gatehouse_llm_usage_records_dropped_total"), 0)


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiUsageDurable(unittest.TestCase):
    def test_records_survive_a_restart_and_can_be_switched_off(self):
        fake = FakeLLM("openai")
        self.addCleanup(fake.stop)
        data = tempfile.mkdtemp(prefix="gatehouse-usage-data-")
        self.addCleanup(shutil.rmtree, data, True)
        cfg = CONFIG.format(openai=fake.base_url, anthropic=fake.base_url, alice=ALICE, bob=BOB)
        # A long flush interval: only the final flush at exit writes the record.
        cfg = cfg.replace("flush_interval: 100ms", "flush_interval: 60s")

        def start(text):
            gh = Gatehouse(text, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN},
                           extra_args=["--data-dir", data])
            self.addCleanup(gh.cleanup)
            return gh, "http://127.0.0.1:%d" % gh.proxy_port

        gh, base = start(cfg)
        self.assertTrue(node("openai_chat.mjs", base + "/v1", ALICE, "fast")["ok"])
        gh.stop_and_check(self)
        self.assertTrue(os.path.exists(os.path.join(data, "gatehouse.db")))
        gh, base = start(cfg.replace("usage: {flush_interval: 60s, retention: 30d}",
                                     "usage: {enabled: false}"))
        r = gh.api("GET", "/api/v1/llm/usage", token=TOKEN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["totals"]["requests"], 1)
        self.assertTrue(node("openai_chat.mjs", base + "/v1", ALICE, "fast")["ok"])
        r = gh.api("GET", "/api/v1/llm/usage", token=TOKEN)
        self.assertEqual(r.json()["totals"]["requests"], 1)  # disabled: nothing recorded
        gh.stop_and_check(self)

if __name__ == "__main__":
    unittest.main()
