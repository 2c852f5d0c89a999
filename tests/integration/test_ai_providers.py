#!/usr/bin/env python3
"""More LLM providers end to end: Google Gemini, Azure OpenAI (both URL
forms) and Ollama's native API behind Gatehouse, driven by the official openai and @anthropic-ai/sdk
npm clients (tests/node), against fake providers (fake_llm.py)."""

import json
import os
import shutil
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse  # noqa: E402
from fake_llm import FakeLLM, TOOL  # noqa: E402
from test_ai_gateway import node, NODE_DIR  # noqa: E402

HAVE_SDKS = (shutil.which("node") is not None and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")) and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@anthropic-ai", "sdk")))

GEMINI_KEY = "AIza-provider-gemini-secret"
AZURE_KEY = "azure-provider-secret"
CONSUMER_KEY = "bob-consumer-key"

CONFIG = """\
llm:
  providers:
    - {{name: gem, kind: gemini, base_url: "{gemini}", api_key: "{gkey}"}}
    - {{name: az1, kind: azure-openai, base_url: "{azure}", api_key: "{akey}"}}
    - {{name: llama, kind: ollama, base_url: "{ollama}"}}
    - {{name: az-dep, kind: azure-openai, base_url: "{azure}", api_key: "{akey}", api_version: "2024-10-21", deployments: {{gpt-4o: prod-gpt4o}}}}
  models:
    - name: gem
      targets: [{{provider: gem, model: gemini-2.5-flash}}]
    - name: az
      targets: [{{provider: az1, model: my-deployment}}]
    - name: az-dep
      targets: [{{provider: az-dep, model: gpt-4o}}]
    - name: local
      targets: [{{provider: llama, model: "llama3.2:3b"}}]
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [gem, az, az-dep, local]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}]
consumers:
  - {{name: bob, credentials: [{{type: key-auth, key: "{consumer}"}}]}}
"""


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiProviders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gemini = FakeLLM("gemini")
        cls.addClassCleanup(cls.gemini.stop)
        cls.azure = FakeLLM("azure")
        cls.addClassCleanup(cls.azure.stop)
        cls.ollama = FakeLLM("ollama")
        cls.addClassCleanup(cls.ollama.stop)
        cls.gh = Gatehouse(CONFIG.format(gemini=cls.gemini.base_url, azure=cls.azure.base_url,
                                         ollama=cls.ollama.base_url,
                                         gkey=GEMINI_KEY, akey=AZURE_KEY,
                                         consumer=CONSUMER_KEY))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        for f in (self.gemini, self.azure, self.ollama):
            f.take()
            f.fail_status = 0

    def chat(self, model, *flags):
        return node("openai_chat.mjs", self.base + "/v1", CONSUMER_KEY, model, *flags)

    def messages(self, model, *flags):
        return node("anthropic_messages.mjs", self.base, CONSUMER_KEY, model, *flags)

    def only(self, fake):
        reqs = fake.take()
        self.assertEqual(len(reqs), 1, reqs)
        return reqs[0]

    def assert_gemini_request(self, rec, stream):
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        self.assertEqual(rec["path"], "/v1beta/models/gemini-2.5-flash:" + method)
        self.assertEqual(rec["headers"].get("x-goog-api-key"), GEMINI_KEY)
        self.assertNotIn("authorization", rec["headers"])
        self.assertNotIn(CONSUMER_KEY, json.dumps(rec["headers"]))
        body = rec["body"]
        self.assertEqual(body["systemInstruction"], {"parts": [{"text": "Be brief."}]})
        self.assertEqual(body["contents"][0]["role"], "user")
        self.assertEqual(body["contents"][0]["parts"], [{"text": "Say hello"}])
        self.assertNotIn("model", body)

    # -- Gemini

    def test_gemini_chat(self):
        r = self.chat("gem")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.gemini.reply)
        self.assertEqual(r["finish_reason"], "stop")
        # promptTokenCount 21 (5 of them cached); output = candidates 6 + thoughts 4.
        self.assertEqual(r["usage"]["prompt_tokens"], 21)
        self.assertEqual(r["usage"]["prompt_tokens_details"]["cached_tokens"], 5)
        self.assertEqual(r["usage"]["completion_tokens"], 10)
        self.assertEqual(r["usage"]["completion_tokens_details"]["reasoning_tokens"], 4)
        self.assert_gemini_request(self.only(self.gemini), False)
        self.assertNotIn(GEMINI_KEY, json.dumps(r))
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "gem"
                                  and not x["llm"].get("stream"))
        self.assertEqual(rec["llm"]["input_tokens"], 16)
        self.assertEqual(rec["llm"]["cache_read_tokens"], 5)
        self.assertEqual(rec["llm"]["output_tokens"], 10)
        self.assertEqual(rec["llm"]["reasoning_tokens"], 4)

    def test_gemini_chat_stream(self):
        r = self.chat("gem", "--stream")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.gemini.reply)
        self.assertEqual(r["finish_reason"], "stop")
        self.assertEqual(r["usage"]["prompt_tokens"], 21)
        self.assertEqual(r["usage"]["completion_tokens"], 10)
        self.assert_gemini_request(self.only(self.gemini), True)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "gem"
                                  and x["llm"].get("stream"))
        self.assertEqual(rec["llm"]["output_tokens"], 10)
        self.assertFalse(rec["llm"]["partial"])

    def test_gemini_messages_and_stream(self):
        for flags in ((), ("--stream",)):
            r = self.messages("gem", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.gemini.reply)
            self.assertEqual(r["stop_reason"], "end_turn")
            self.assertEqual(r["usage"]["input_tokens"], 16)
            self.assertEqual(r["usage"]["cache_read_input_tokens"], 5)
            self.assertEqual(r["usage"]["output_tokens"], 10)
            if flags:
                self.assertEqual(r["events"][0], "message_start")
                self.assertEqual(r["events"][-1], "message_stop")
            self.assert_gemini_request(self.only(self.gemini), bool(flags))

    def test_gemini_tools(self):
        for flags in ((), ("--stream",)):
            r = self.chat("gem", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["finish_reason"], "tool_calls")
            self.assertEqual(len(r["tool_calls"]), 1)
            call = r["tool_calls"][0]
            name = call["function"]["name"] if "function" in call else call["name"]
            args = call["function"]["arguments"] if "function" in call else call["arguments"]
            self.assertEqual(name, TOOL["name"])
            self.assertEqual(json.loads(args), TOOL["args"])
            rec = self.only(self.gemini)
            decl = rec["body"]["tools"][0]["functionDeclarations"][0]
            self.assertEqual(decl["name"], "get_weather")
            self.assertEqual(decl["parameters"]["required"], ["city"])
            r = self.messages("gem", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["stop_reason"], "tool_use")
            self.assertEqual(r["tool_uses"][0]["name"], TOOL["name"])
            self.assertEqual(r["tool_uses"][0]["input"], TOOL["args"])
            self.gemini.take()

    def test_gemini_errors(self):
        self.gemini.fail_status = 400
        r = self.chat("gem")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 400)
        self.assertIn("fake gemini error 400", r["error"]["message"])
        self.gemini.fail_status = 429
        r = self.messages("gem", "--stream")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 429)
        self.assertEqual(r["error"]["error"]["type"], "rate_limit_error")

    # -- Azure OpenAI

    def test_azure_v1(self):
        for flags in ((), ("--stream",)):
            r = self.chat("az", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.azure.reply)
            rec = self.only(self.azure)
            self.assertEqual(rec["path"], "/openai/v1/chat/completions")
            self.assertEqual(rec["headers"].get("api-key"), AZURE_KEY)
            self.assertNotIn("authorization", rec["headers"])
            self.assertEqual(rec["body"]["model"], "my-deployment")
        r = self.messages("az", "--tools")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["stop_reason"], "tool_use")
        self.only(self.azure)

    def post(self, body):
        req = urllib.request.Request(self.base + "/v1/chat/completions", data=body, method="POST",
                                     headers={"content-type": "application/json",
                                              "authorization": "Bearer " + CONSUMER_KEY})
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()

    def test_same_format_request_is_the_clients_bytes(self):
        # Chat client, Chat-format provider: only `model` changes; fields the
        # gateway does not model (response_format, seed, logprobs, an extension)
        # and the client's own spelling of numbers reach the provider.
        body = (b'{\n  "model": "az",\n  "temperature": 0.70,  "seed": 42,\n'
                b'  "response_format": {"type": "json_object"}, "logprobs": true,\n'
                b'  "x_vendor": {"k": [1, 2.50]},\n'
                b'  "messages": [{"role": "user", "content": "Say hello"}]\n}')
        status, answer = self.post(body)
        self.assertEqual(status, 200)
        rec = self.only(self.azure)
        self.assertEqual(rec["raw"], body.replace(b'"az"', b'"my-deployment"'))
        # The provider's whole answer comes back as it was, fields the IR
        # does not hold included.
        a = json.loads(answer)
        self.assertEqual(a["system_fingerprint"], "fp_fake")
        self.assertEqual(a["choices"][0]["message"]["content"], self.azure.reply)

    def test_same_format_stream_asks_for_usage(self):
        body = (b'{"messages": [{"role": "user", "content": "Say hello"}], "model": "az",'
                b' "stream": true, "seed": 7}')
        status, answer = self.post(body)
        self.assertEqual(status, 200)
        rec = self.only(self.azure)
        self.assertEqual(rec["raw"], b'{"stream_options":{"include_usage":true},' +
                         body[1:].replace(b'"az"', b'"my-deployment"'))
        # The client did not ask for the usage chunk: it is not in its stream.
        self.assertNotIn(b'"usage":{', answer.replace(b" ", b""))
        self.assertIn(b"data: [DONE]", answer)

    def test_azure_deployments_form(self):
        for flags in ((), ("--stream",)):
            r = self.messages("az-dep", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.azure.reply)
            rec = self.only(self.azure)
            self.assertEqual(rec["path"],
                             "/openai/deployments/prod-gpt4o/chat/completions"
                             "?api-version=2024-10-21")
            self.assertEqual(rec["headers"].get("api-key"), AZURE_KEY)
        self.azure.fail_status = 500
        r = self.chat("az-dep")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 500)

    # -- Ollama

    def test_ollama_chat_and_messages(self):
        for flags in ((), ("--stream",)):
            r = self.chat("local", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.ollama.reply)
            self.assertEqual(r["finish_reason"], "stop")
            self.assertEqual(r["usage"]["prompt_tokens"], 17)
            self.assertEqual(r["usage"]["completion_tokens"], 8)
            rec = self.only(self.ollama)
            self.assertEqual(rec["path"], "/api/chat")
            self.assertNotIn("authorization", rec["headers"])
            self.assertEqual(rec["body"]["model"], "llama3.2:3b")
            self.assertIs(rec["body"]["stream"], bool(flags))
            self.assertEqual(rec["body"]["messages"][0], {"role": "system", "content": "Be brief."})
            r = self.messages("local", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["content"], self.ollama.reply)
            self.assertEqual(r["usage"]["input_tokens"], 17)
            self.assertEqual(r["usage"]["output_tokens"], 8)
            self.assertEqual(self.only(self.ollama)["body"]["options"]["num_predict"], 256)
        rec = self.gh.wait_access(lambda x: (x.get("llm") or {}).get("provider") == "llama"
                                  and x["llm"].get("stream"))
        self.assertEqual(rec["llm"]["input_tokens"], 17)
        self.assertEqual(rec["llm"]["output_tokens"], 8)
        self.assertFalse(rec["llm"]["partial"])

    def test_ollama_tools_and_errors(self):
        for flags in ((), ("--stream",)):
            r = self.messages("local", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["stop_reason"], "tool_use")
            self.assertEqual(r["tool_uses"][0]["name"], TOOL["name"])
            self.assertEqual(r["tool_uses"][0]["input"], TOOL["args"])
            r = self.chat("local", "--tools", *flags)
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["finish_reason"], "tool_calls")
            self.ollama.take()
        self.ollama.fail_status = 404
        r = self.chat("local")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 404)
        self.assertIn("fake ollama error 404", r["error"]["message"])


if __name__ == "__main__":
    unittest.main()
