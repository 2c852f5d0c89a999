#!/usr/bin/env python3
"""/v1/embeddings on AWS Bedrock: the official `openai` npm client's
embeddings.create against Gatehouse in front of fake_bedrock.py, which checks
every InvokeModel's SigV4 signature and request shape and answers like Amazon
Titan Text Embeddings v2 (one call per input) and Cohere Embed (texts in one
call). Vectors come back in input order, base64 (the SDK's default) or float,
with usage metered (Titan's token counts; Cohere's estimated)."""

import json
import os
import shutil
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request, wait_until  # noqa: E402
from fake_bedrock import FakeBedrock, fake_token_count, fake_vector  # noqa: E402
from test_ai_embeddings import NODE_DIR, node  # noqa: E402

HAVE_SDK = (shutil.which("node") is not None and
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")))

ACCESS_KEY = "AKIDEMBEDDINGS"
SECRET = "embed/secret+key"
TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"

CONFIG = """\
llm:
  providers:
    - name: aws
      kind: bedrock
      base_url: "{base}"
      region: eu-central-1
      aws: {{access_key_id: "{akid}", secret_access_key: "{secret}"}}
  models:
    - {{name: titan, targets: [{{provider: aws, model: "{titan}"}}]}}
    - {{name: cohere, targets: [{{provider: aws, model: "{cohere}"}}]}}
    - {{name: claude, targets: [{{provider: aws, model: "anthropic.claude-3-haiku-20240307-v1:0"}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [titan, cohere, claude]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization]}}}}]
consumers:
  - {{name: erin, credentials: [{{type: key-auth, key: "erin-key"}}]}}
"""


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class BedrockEmbeddings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeBedrock(access_key=ACCESS_KEY, secret_key=SECRET, region="eu-central-1")
        cls.addClassCleanup(cls.fake.stop)
        cls.gh = Gatehouse(CONFIG.format(base=cls.fake.base_url, akid=ACCESS_KEY, secret=SECRET,
                                         titan=TITAN, cohere=COHERE))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d/v1" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def setUp(self):
        self.fake.take()
        self.seen = len(self.gh.access_records())

    def record(self, model):
        """This test's access record of a 200 for `model` (earlier tests' are skipped)."""
        def find():
            for r in self.gh.access_records()[self.seen:]:
                if (r.get("llm") or {}).get("model") == model and r.get("status") == 200:
                    return r
            return None
        rec = wait_until(find)
        self.assertIsNotNone(rec)
        return rec

    def embed(self, model, *args):
        return node(self.base, "erin-key", model, *args)

    def assert_signed(self, reqs, model):
        for r in reqs:
            self.assertTrue(r["sig_ok"], r["sig_error"])
            self.assertEqual(r["akid"], ACCESS_KEY)
            self.assertEqual(r["path"], "/model/%s/invoke" % urllib.parse.quote(model, safe="."))

    def test_titan_fans_out_in_order_base64(self):
        texts = ["the first input text", "second", "a third, longer input for titan"]
        r = self.embed("titan", "--dimensions", 256, *texts)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["model"], TITAN)
        self.assertEqual([v["index"] for v in r["vectors"]], [0, 1, 2])
        for v, t in zip(r["vectors"], texts):
            self.assertEqual(v["embedding"], fake_vector(t, 256))  # exact in float32
        self.assertEqual(r["usage"]["prompt_tokens"], sum(fake_token_count(t) for t in texts))
        reqs = self.fake.take()
        self.assertEqual(len(reqs), 3)  # one InvokeModel per input
        self.assert_signed(reqs, TITAN)
        self.assertEqual(sorted(q["body"]["inputText"] for q in reqs), sorted(texts))
        for q in reqs:
            self.assertEqual(q["body"]["dimensions"], 256)
            self.assertIs(q["body"]["normalize"], True)
        rec = self.record("titan")
        self.assertEqual(rec["llm"]["input_tokens"], sum(fake_token_count(t) for t in texts))
        self.assertEqual(rec["llm"]["provider"], "aws")

    def test_titan_float_single_input(self):
        r = self.embed("titan", "--float", "just one")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["vectors"][0]["embedding"], fake_vector("just one", 1024))
        self.assertEqual(r["usage"]["prompt_tokens"], 2)

    def test_cohere_one_call_for_the_texts(self):
        texts = ["alpha", "beta gamma", "delta"]
        r = self.embed("cohere", *texts)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["model"], COHERE)
        for v, t in zip(r["vectors"], texts):
            self.assertEqual(v["embedding"], fake_vector(t, 1024))
        self.assertGreater(r["usage"]["prompt_tokens"], 0)  # estimated: Cohere reports none
        reqs = self.fake.take()
        self.assertEqual(len(reqs), 1)
        self.assert_signed(reqs, COHERE)
        self.assertEqual(reqs[0]["body"], {"texts": texts, "input_type": "search_document"})
        rec = self.record("cohere")
        self.assertGreater(rec["llm"]["input_tokens"], 0)

    def test_cohere_input_type_from_the_client(self):
        body = json.dumps({"model": "cohere", "input": ["what is sigv4?"],
                           "input_type": "search_query", "encoding_format": "float"}).encode()
        r = http_request(self.gh.proxy_port, "POST", "/v1/embeddings", body=body,
                         headers={"Authorization": "erin-key", "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.fake.take()[0]["body"]["input_type"], "search_query")
        bad = json.dumps({"model": "cohere", "input": "x", "input_type": "poetry"}).encode()
        r = http_request(self.gh.proxy_port, "POST", "/v1/embeddings", body=bad,
                         headers={"Authorization": "erin-key", "Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(json.loads(r.body)["error"]["param"], "input_type")

    def test_errors_reach_the_sdk(self):
        r = self.embed("titan", "--dimensions", 300, "x")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 400)
        self.assertIn("256, 512 or 1024", r["message"])
        self.assertEqual(self.fake.take(), [])  # refused before any call
        r = self.embed("claude", "x")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 400)
        self.assertIn("offers embeddings", r["message"])  # a chat model: no embeddings API
        self.fake.fail_status = 429
        try:
            r = self.embed("titan", "a", "b")
        finally:
            self.fake.fail_status = 0
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 429)
        self.assertIn("fake bedrock error", r["message"])


if __name__ == "__main__":
    unittest.main()
