#!/usr/bin/env python3
"""The AI gateway end to end: the official openai and @anthropic-ai/sdk npm
clients (tests/node) talk to Gatehouse, which translates to fake OpenAI and
Anthropic providers (fake_llm.py) or answers from the built-in mock."""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, metric_sum  # noqa: E402
from fake_llm import FakeLLM, TOOL  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
HAVE_SDKS = (shutil.which("node") is not None and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")) and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@anthropic-ai", "sdk")))

OPENAI_KEY = "sk-provider-openai-secret"
ANTHROPIC_KEY = "sk-ant-provider-secret"
CONSUMER_KEY = "alice-consumer-key"

CONFIG = """\
llm:
  providers:
    - {{name: openai-main, kind: openai, base_url: "{openai}", api_key: "${{GH_IT_OPENAI_KEY}}"}}
    - {{name: claude, kind: anthropic, base_url: "{anthropic}", api_key: "${{GH_IT_ANTHROPIC_KEY}}"}}
    - {{name: broken, kind: openai, base_url: "{broken}", api_key: "sk-broken"}}
    - {{name: mock, kind: mock, mock: {{latency: 5ms, tokens_per_second: 2000}}}}
  models:
    - name: smart
      targets: [{{provider: claude, model: claude-sonnet-4-5, weight: 1}}]
      fallbacks: [fast]
    - name: fast
      targets: [{{provider: openai-main, model: gpt-4o-mini}}]
    - name: echo
      targets: [{{provider: mock, model: mock-1}}]
    - name: flaky
      targets: [{{provider: broken, model: gpt-broken}}]
      fallbacks: [smart]
    - name: hidden
      targets: [{{provider: openai-main, model: gpt-hidden}}]
    - name: spread
      targets: [{{provider: broken, model: gpt-broken, weight: 1}}, {{provider: openai-main, model: gpt-4o-mini, weight: 1}}]
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [smart, fast, echo, flaky, spread]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "{consumer}"}}]}}
"""


def node(script, *args):
    p = subprocess.run(["node", os.path.join(NODE_DIR, script)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("no JSON from %s: rc=%s stdout=%r stderr=%r"
                             % (script, p.returncode, p.stdout, p.stderr))
    return json.loads(lines[-1])


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiGateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.openai = FakeLLM("openai")
        cls.addClassCleanup(cls.openai.stop)
        cls.anthropic = FakeLLM("anthropic")
        cls.addClassCleanup(cls.anthropic.stop)
        cls.broken = FakeLLM("openai")
        cls.broken.fail_status = 503
        cls.addClassCleanup(cls.broken.stop)
        os.environ["GH_IT_OPENAI_KEY"] = OPENAI_KEY
        os.environ["GH_IT_ANTHROPIC_KEY"] = ANTHROPIC_KEY
        cls.gh = Gatehouse(CONFIG.format(openai=cls.openai.base_url,
                                         anthropic=cls.anthropic.base_url,
                                         broken=cls.broken.base_url, consumer=CONSUMER_KEY))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        self.openai.take()
        self.anthropic.take()
        self.broken.take()
        self.openai.fail_status = 0
        self.anthropic.fail_status = 0
        self.openai.cut_after = 0
        self.anthropic.cut_after = 0

    def chat(self, model, *flags):
        return node("openai_chat.mjs", self.base + "/v1", CONSUMER_KEY, model, *flags)

    def messages(self, model, *flags):
        return node("anthropic_messages.mjs", self.base, CONSUMER_KEY, model, *flags)

    def only(self, fake):
        reqs = fake.take()
        self.assertEqual(len(reqs), 1, reqs)
        return reqs[0]

    def assert_provider_auth(self, rec, kind):
        h = rec["headers"]
        if kind == "anthropic":
            self.assertEqual(h.get("x-api-key"), ANTHROPIC_KEY)
            self.assertIn("anthropic-version", h)
            self.assertNotIn("authorization", h)
        else:
            self.assertEqual(h.get("authorization"), "Bearer " + OPENAI_KEY)
            self.assertNotIn("x-api-key", h)
        # The consumer's own key never reaches a provider.
        self.assertNotIn(CONSUMER_KEY, json.dumps(h))

    # -- Chat client -> Anthropic provider

    def test_chat_to_anthropic(self):
        r = self.chat("smart")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.anthropic.reply)
        self.assertEqual(r["finish_reason"], "stop")
        self.assertEqual(r["usage"]["prompt_tokens"], 16)  # 13 uncached + 3 cache read
        self.assertEqual(r["usage"]["completion_tokens"], 9)
        rec = self.only(self.anthropic)
        self.assertEqual(rec["path"], "/v1/messages")
        self.assert_provider_auth(rec, "anthropic")
        self.assertEqual(rec["body"]["model"], "claude-sonnet-4-5")
        self.assertIn("Be brief.", json.dumps(rec["body"]["system"]))
        self.assertFalse(rec["body"].get("stream", False))
        # The provider's key is not in anything the client got.
        self.assertNotIn(ANTHROPIC_KEY, json.dumps(r))

    def test_chat_to_anthropic_stream(self):
        r = self.chat("smart", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.anthropic.reply)
        self.assertEqual(r["finish_reason"], "stop")
        self.assertEqual(r["usage"]["prompt_tokens"], 16)
        self.assertEqual(r["usage"]["completion_tokens"], 9)
        rec = self.only(self.anthropic)
        self.assertTrue(rec["body"]["stream"])
        rid_rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("stream")
                                      and x["llm"].get("provider") == "claude")
        self.assertIsNotNone(rid_rec)
        self.assertEqual(rid_rec["llm"]["input_tokens"], 13)
        self.assertEqual(rid_rec["llm"]["cache_read_tokens"], 3)
        self.assertEqual(rid_rec["llm"]["output_tokens"], 9)
        self.assertFalse(rid_rec["llm"]["partial"])
        self.assertEqual(rid_rec["consumer"], "alice")

    # -- Messages client -> OpenAI provider

    def test_messages_to_openai(self):
        r = self.messages("fast")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.openai.reply)
        self.assertEqual(r["stop_reason"], "end_turn")
        self.assertEqual(r["usage"]["input_tokens"], 9)  # 11 prompt - 2 cached
        self.assertEqual(r["usage"]["output_tokens"], 7)
        rec = self.only(self.openai)
        self.assertEqual(rec["path"], "/v1/chat/completions")
        self.assert_provider_auth(rec, "openai")
        self.assertEqual(rec["body"]["model"], "gpt-4o-mini")
        self.assertEqual(rec["body"]["messages"][0]["role"], "system")

    def test_messages_to_openai_stream(self):
        r = self.messages("fast", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.openai.reply)
        self.assertEqual(r["stop_reason"], "end_turn")
        self.assertEqual(r["usage"]["output_tokens"], 7)
        self.assertEqual(r["events"][0], "message_start")
        self.assertEqual(r["events"][-1], "message_stop")
        rec = self.only(self.openai)
        self.assertTrue(rec["body"]["stream"])
        self.assertTrue(rec["body"]["stream_options"]["include_usage"])

    # -- same format

    def test_chat_passthrough(self):
        for flags in ((), ("--stream",)):
            r = self.chat("fast", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.openai.reply)
            self.assertEqual(r["usage"]["prompt_tokens"], 11)
            self.assert_provider_auth(self.only(self.openai), "openai")

    def test_messages_passthrough(self):
        for flags in ((), ("--stream",)):
            r = self.messages("smart", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.anthropic.reply)
            self.assert_provider_auth(self.only(self.anthropic), "anthropic")

    # -- tools through a translation

    def test_tool_calls_chat_to_anthropic(self):
        for flags in (("--tools",), ("--tools", "--stream")):
            r = self.chat("smart", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["finish_reason"], "tool_calls")
            self.assertEqual(len(r["tool_calls"]), 1, r)
            call = r["tool_calls"][0]
            name = call.get("name") or call["function"]["name"]
            args = call.get("arguments") or call["function"]["arguments"]
            self.assertEqual(name, TOOL["name"])
            self.assertEqual(json.loads(args), TOOL["args"])
            rec = self.only(self.anthropic)
            self.assertEqual(rec["body"]["tools"][0]["name"], "get_weather")
            self.assertIn("input_schema", rec["body"]["tools"][0])

    def test_tool_calls_messages_to_openai(self):
        for flags in (("--tools",), ("--tools", "--stream")):
            r = self.messages("fast", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["stop_reason"], "tool_use")
            self.assertEqual(r["tool_uses"][0]["name"], TOOL["name"])
            self.assertEqual(r["tool_uses"][0]["input"], TOOL["args"])
            rec = self.only(self.openai)
            self.assertEqual(rec["body"]["tools"][0]["function"]["name"], "get_weather")

    # -- fallback and errors

    def test_fallback_on_503(self):
        for flags in ((), ("--stream",)):
            r = self.chat("flaky", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.anthropic.reply)
            self.assertEqual(len(self.broken.take()), 1)
            self.assertEqual(len(self.anthropic.take()), 1)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("model") == "flaky")
        self.assertEqual(rec["llm"]["attempts"], 2)
        self.assertEqual(rec["llm"]["served_model"], "smart")

    def test_failover_between_targets_of_a_model(self):
        for _ in range(4):  # whichever target the weights pick first, the healthy one answers
            r = self.chat("spread")
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.openai.reply)
            self.assertEqual(len(self.openai.take()), 1)
        self.broken.take()

    def test_fallback_chain_exhausted(self):
        self.anthropic.fail_status = 503
        self.openai.fail_status = 503
        r = self.chat("smart")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 503)
        self.assertEqual(len(self.anthropic.take()), 1)
        self.assertEqual(len(self.openai.take()), 1)

    def test_provider_error_translated(self):
        self.anthropic.fail_status = 400  # not a fallback status
        r = self.chat("smart")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 400)
        self.assertEqual(r["error"]["type"], "invalid_request_error")
        self.assertIn("fake anthropic error 400", r["error"]["message"])
        self.assertEqual(len(self.openai.take()), 0)
        self.openai.fail_status = 429
        r = self.messages("fast")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 429)
        self.assertEqual(r["error"]["type"], "error")
        self.assertEqual(r["error"]["error"]["type"], "rate_limit_error")

    def test_cut_stream_is_an_in_band_error(self):
        auth = {"Authorization": "Bearer " + CONSUMER_KEY, "Content-Type": "application/json",
                "X-Request-Id": "ai-cut-1"}
        self.openai.cut_after = 2  # role chunk + one content chunk, then the socket closes
        body = {"model": "fast", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        r = self.gh.request("POST", "/v1/chat/completions", auth, json.dumps(body).encode())
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertIn('"error"', text)
        self.assertNotIn("[DONE]", text)
        self.anthropic.cut_after = 3
        body = {"model": "smart", "max_tokens": 50, "stream": True,
                "messages": [{"role": "user", "content": "hi"}]}
        auth["X-Request-Id"] = "ai-cut-2"
        r = self.gh.request("POST", "/v1/messages", auth, json.dumps(body).encode())
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertIn("event: error", text)
        self.assertNotIn("message_stop", text)
        for rid in ("ai-cut-1", "ai-cut-2"):
            rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
            self.assertIsNotNone(rec)
            self.assertTrue(rec["llm"]["partial"], rec)

    def test_unknown_and_hidden_model(self):
        for model in ("nope", "hidden"):
            r = self.chat(model)
            self.assertFalse(r["ok"])
            self.assertEqual(r["status"], 404)
        self.assertEqual(self.openai.take(), [])

    # -- mock provider

    def test_mock(self):
        r = self.chat("echo", "--message", "repeat these words please")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], "repeat these words please")
        self.assertGreater(r["usage"]["completion_tokens"], 0)
        r = self.chat("echo", "--stream", "--message", "one two three")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], "one two three")
        self.assertGreater(r["chunks"], 3)
        r = self.messages("echo", "--stream", "--message", "from anthropic sdk")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], "from anthropic sdk")

    def test_responses_endpoint_and_errors(self):
        auth = {"Authorization": "Bearer " + CONSUMER_KEY, "Content-Type": "application/json"}
        r = self.gh.request("POST", "/v1/responses", auth,
                            json.dumps({"model": "echo", "input": "hello responses"}).encode())
        self.assertEqual(r.status, 200, r.body)
        out = r.json()
        self.assertEqual(out["object"], "response")
        texts = [c["text"] for item in out["output"] if item["type"] == "message"
                 for c in item["content"] if c["type"] == "output_text"]
        self.assertEqual("".join(texts), "hello responses")
        # A field error names the field, in the client's format.
        r = self.gh.request("POST", "/v1/chat/completions", auth,
                            json.dumps({"model": "echo"}).encode())
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["error"]["param"], "messages")
        r = self.gh.request("GET", "/v1/chat/completions", auth)
        self.assertEqual(r.status, 405)
        r = self.gh.request("POST", "/v1/embeddings", auth, b"{}")
        self.assertEqual(r.status, 400)  # an endpoint now (test_ai_embeddings.py)
        self.assertEqual(r.json()["error"]["param"], "model")
        r = self.gh.request("POST", "/v1/audio/speech", auth, b"{}")
        self.assertEqual(r.status, 404)

    def test_metrics(self):
        r = self.chat("echo", "--message", "count me")
        self.assertTrue(r["ok"], r)
        samples = self.gh.metrics()
        self.assertGreaterEqual(metric_sum(samples, "gatehouse_llm_requests_total", model="echo",
                                           provider="mock", status_class="2xx"), 1)
        self.assertGreater(metric_sum(samples, "gatehouse_llm_tokens_total", model="echo",
                                      provider="mock", type="output"), 0)
        self.assertGreaterEqual(metric_sum(samples,
                                           "gatehouse_llm_time_to_first_token_seconds_count",
                                           model="echo", provider="mock"), 1)

    # -- auth and models

    def test_key_auth(self):
        r = node("openai_chat.mjs", self.base + "/v1", "wrong-key", "fast")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 401)
        r = node("anthropic_messages.mjs", self.base, "wrong-key", "fast")
        self.assertEqual(r["status"], 401)
        self.assertEqual(self.openai.take(), [])

    def test_models(self):
        r = node("models.mjs", "openai", self.base + "/v1", CONSUMER_KEY)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["ids"], ["smart", "fast", "echo", "flaky", "spread"])
        r = node("models.mjs", "anthropic", self.base, CONSUMER_KEY)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["ids"], ["smart", "fast", "echo", "flaky", "spread"])


if __name__ == "__main__":
    unittest.main()
