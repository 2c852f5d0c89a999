#!/usr/bin/env python3
"""AWS Bedrock behind Gatehouse: the official openai and @anthropic-ai/sdk npm
clients (tests/node) call Gatehouse, which signs with SigV4 and speaks
Converse / ConverseStream to a fake Bedrock (fake_bedrock.py) that verifies
every signature independently and frames streams as AWS event streams."""

import json
import os
import shutil
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402
from fake_bedrock import FakeBedrock, TOOL  # noqa: E402
from test_ai_gateway import node, NODE_DIR  # noqa: E402

HAVE_SDKS = (shutil.which("node") is not None and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")) and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@anthropic-ai", "sdk")))

ACCESS_KEY = "AKIDGATEHOUSETEST"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE//session+token=="
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
CONSUMER_KEY = "carol-consumer-key"

CONFIG = """\
llm:
  providers:
    - name: aws
      kind: bedrock
      base_url: "{base}"
      region: us-west-2
      aws: {{access_key_id: "{akid}", secret_access_key: "${{TEST_AWS_SECRET}}", session_token: "${{TEST_AWS_TOKEN}}"}}
    - name: aws-wrong
      kind: bedrock
      base_url: "{base}"
      region: us-west-2
      aws: {{access_key_id: "{akid}", secret_access_key: "not-the-secret", session_token: "{token}"}}
  prices:
    - {{provider: aws, model: "{model}", input: 0.25, output: 1.25, cache_read: 0.03, cache_write: 0.3}}
  models:
    - name: claude
      targets: [{{provider: aws, model: "{model}"}}]
    - name: wrong
      targets: [{{provider: aws-wrong, model: "{model}"}}]
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [claude, wrong]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: carol, credentials: [{{type: key-auth, key: "{consumer}"}}]}}
"""


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiBedrock(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeBedrock(access_key=ACCESS_KEY, secret_key=SECRET, region="us-west-2",
                               session_token=TOKEN)
        cls.addClassCleanup(cls.fake.stop)
        cls.gh = Gatehouse(CONFIG.format(base=cls.fake.base_url, akid=ACCESS_KEY, token=TOKEN,
                                         model=MODEL_ID, consumer=CONSUMER_KEY),
                           env={"TEST_AWS_SECRET": SECRET, "TEST_AWS_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        self.fake.take()
        self.fake.fail_status = 0
        self.fake.cut_after = 0
        self.fake.stream_exception = ""

    def chat(self, model, *flags):
        return node("openai_chat.mjs", self.base + "/v1", CONSUMER_KEY, model, *flags)

    def messages(self, model, *flags):
        return node("anthropic_messages.mjs", self.base, CONSUMER_KEY, model, *flags)

    def only(self):
        reqs = self.fake.take()
        self.assertEqual(len(reqs), 1, reqs)
        return reqs[0]

    def assert_signed_request(self, rec, stream):
        # The model id's ':' travels as %3A; the fake re-derived the signature from the spec.
        self.assertEqual(rec["path"], "/model/anthropic.claude-3-haiku-20240307-v1%3A0/" +
                         ("converse-stream" if stream else "converse"))
        self.assertTrue(rec["sig_ok"], rec["sig_error"])
        self.assertTrue(rec["headers"]["authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=%s/" % ACCESS_KEY))
        self.assertIn("/us-west-2/bedrock/aws4_request", rec["headers"]["authorization"])
        self.assertEqual(rec["headers"]["x-amz-security-token"], TOKEN)
        self.assertNotIn(CONSUMER_KEY, json.dumps(rec["headers"]))
        body = rec["body"]
        self.assertEqual(body["system"], [{"text": "Be brief."}])
        self.assertEqual(body["messages"][0], {"role": "user", "content": [{"text": "Say hello"}]})
        self.assertNotIn("model", body)

    def test_chat_and_stream(self):
        for flags in ((), ("--stream",)):
            r = self.chat("claude", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.fake.reply)
            self.assertEqual(r["finish_reason"], "stop")
            # inputTokens 13 + cache read 3 + cache write 2; outputTokens 5.
            self.assertEqual(r["usage"]["prompt_tokens"], 18)
            self.assertEqual(r["usage"]["prompt_tokens_details"]["cached_tokens"], 3)
            self.assertEqual(r["usage"]["completion_tokens"], 5)
            self.assert_signed_request(self.only(), bool(flags))
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "aws"
                                  and x["llm"].get("stream") and x.get("status") == 200
                                  and x["llm"].get("usage_known"))
        self.assertEqual(rec["llm"]["input_tokens"], 13)
        self.assertEqual(rec["llm"]["cache_read_tokens"], 3)
        self.assertEqual(rec["llm"]["output_tokens"], 5)
        self.assertFalse(rec["llm"]["partial"])

    def test_messages_and_stream(self):
        for flags in ((), ("--stream",)):
            r = self.messages("claude", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.fake.reply)
            self.assertEqual(r["stop_reason"], "end_turn")
            self.assertEqual(r["usage"]["input_tokens"], 13)
            self.assertEqual(r["usage"]["cache_read_input_tokens"], 3)
            self.assertEqual(r["usage"]["cache_creation_input_tokens"], 2)
            self.assertEqual(r["usage"]["output_tokens"], 5)
            if flags:
                self.assertEqual(r["events"][0], "message_start")
                self.assertEqual(r["events"][-1], "message_stop")
            rec = self.only()
            self.assert_signed_request(rec, bool(flags))
            self.assertEqual(rec["body"]["inferenceConfig"]["maxTokens"], 256)

    def test_tools(self):
        for flags in ((), ("--stream",)):
            r = self.chat("claude", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["finish_reason"], "tool_calls")
            self.assertEqual(len(r["tool_calls"]), 1)
            call = r["tool_calls"][0]
            name = call["function"]["name"] if "function" in call else call["name"]
            args = call["function"]["arguments"] if "function" in call else call["arguments"]
            self.assertEqual(name, TOOL["name"])
            self.assertEqual(json.loads(args), TOOL["args"])
            spec = self.only()["body"]["toolConfig"]["tools"][0]["toolSpec"]
            self.assertEqual(spec["name"], "get_weather")
            self.assertEqual(spec["inputSchema"]["json"]["required"], ["city"])
            r = self.messages("claude", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["stop_reason"], "tool_use")
            self.assertEqual(r["tool_uses"][0]["name"], TOOL["name"])
            self.assertEqual(r["tool_uses"][0]["input"], TOOL["args"])
            self.fake.take()

    def test_bad_signature_and_errors(self):
        # A wrong secret: the fake's independent check refuses it, 403 reaches the client.
        r = self.chat("wrong")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 403)
        self.assertIn("signature", r["error"]["message"])
        self.assertFalse(self.only()["sig_ok"])
        self.fake.fail_status = 429
        r = self.messages("claude", "--stream")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 429)
        self.assertEqual(r["error"]["error"]["type"], "rate_limit_error")
        self.assertIn("fake bedrock error", r["error"]["error"]["message"])

    def test_cost_header_log_and_metric(self):
        # (13 x 0.25 + 3 x 0.03 + 2 x 0.3 + 5 x 1.25) / 1e6 per request.
        want = (13 * 0.25 + 3 * 0.03 + 2 * 0.3 + 5 * 1.25) / 1e6
        before = self.gh.metric("gatehouse_llm_cost_total", consumer="carol", model="claude") or 0
        req = urllib.request.Request(self.base + "/v1/chat/completions", data=json.dumps({
            "model": "claude", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": "Bearer " + CONSUMER_KEY})
        with urllib.request.urlopen(req, timeout=20) as resp:
            self.assertEqual(resp.status, 200)
            self.assertAlmostEqual(float(resp.headers["X-Gatehouse-LLM-Cost"]), want, places=12)
        r = self.messages("claude", "--stream")
        self.assertTrue(r["ok"], r)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "aws"
                                  and x["llm"].get("stream") and "cost" in x["llm"])
        self.assertAlmostEqual(rec["llm"]["cost"], want, places=12)
        after = self.gh.metric("gatehouse_llm_cost_total", consumer="carol", model="claude")
        self.assertAlmostEqual(after - before, 2 * want, places=12)
        # The wrong-secret provider has no price: its 403 costs nothing and logs no cost.
        self.chat("wrong")
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "aws-wrong")
        self.assertNotIn("cost", rec["llm"])

    def raw_stream(self, path, body):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + CONSUMER_KEY,
                                              "x-api-key": CONSUMER_KEY,
                                              "anthropic-version": "2023-06-01"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.read().decode()

    def test_stream_exception_and_cut_are_in_band(self):
        self.fake.stream_exception = "throttlingException"
        status, text = self.raw_stream("/v1/messages", {
            "model": "claude", "max_tokens": 50, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200)
        self.assertIn("event: error", text)
        self.assertIn("fake mid-stream failure", text)
        self.assertNotIn("message_stop", text)
        self.fake.stream_exception = ""
        self.fake.cut_after = 3  # messageStart and two text deltas, then the connection drops
        status, text = self.raw_stream("/v1/chat/completions", {
            "model": "claude", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200)
        # The connection drops inside the chunked body: an in-band error, never [DONE].
        self.assertRegex(text, "provider_body_cut|upstream_stream_truncated")
        self.assertNotIn("[DONE]", text)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "aws"
                                  and x["llm"].get("partial"))
        self.assertTrue(rec["llm"]["partial"])


if __name__ == "__main__":
    unittest.main()
