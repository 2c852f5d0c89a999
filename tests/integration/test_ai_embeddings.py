#!/usr/bin/env python3
"""/v1/embeddings end to end: the official `openai` npm client (base64 on the
wire by default, decoded by the SDK) against Gatehouse in front of the mock
provider and a fake OpenAI provider (fake_llm.py)."""

import json
import math
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
HAVE_SDK = (shutil.which("node") is not None and
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")))

CONFIG = """\
llm:
  providers:
    - {{name: openai-main, kind: openai, base_url: "{openai}", api_key: "sk-embed-secret"}}
    - {{name: claude, kind: anthropic, base_url: "{openai}", api_key: "sk-ant"}}
    - {{name: mock, kind: mock}}
  models:
    - {{name: emb, targets: [{{provider: openai-main, model: text-embedding-3-small}}]}}
    - {{name: mock-emb, targets: [{{provider: mock, model: mock-embed-1}}]}}
    - {{name: claude-only, targets: [{{provider: claude, model: claude-x}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [emb, mock-emb, claude-only]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization]}}}}]
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "alice-key"}}]}}
"""


def node(*args):
    p = subprocess.run(["node", os.path.join(NODE_DIR, "openai_embeddings.mjs")] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("no JSON: rc=%s stdout=%r stderr=%r" % (p.returncode, p.stdout,
                                                                     p.stderr))
    return json.loads(lines[-1])


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class Embeddings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.openai = FakeLLM("openai")
        cls.addClassCleanup(cls.openai.stop)
        cls.gh = Gatehouse(CONFIG.format(openai=cls.openai.base_url))
        cls.addClassCleanup(cls.gh.cleanup)
        cls.base = "http://127.0.0.1:%d/v1" % cls.gh.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def embed(self, model, *args):
        return node(self.base, "alice-key", model, *args)

    def test_mock_base64_decoded_by_the_sdk(self):
        r = self.embed("mock-emb", "hello world", "hello world", "something else")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["model"], "mock-embed-1")
        vs = [v["embedding"] for v in r["vectors"]]
        self.assertEqual([v["index"] for v in r["vectors"]], [0, 1, 2])
        self.assertEqual(len(vs[0]), 64)
        self.assertAlmostEqual(math.sqrt(sum(x * x for x in vs[0])), 1.0, places=5)
        self.assertEqual(vs[0], vs[1])  # equal texts embed equally
        self.assertNotEqual(vs[0], vs[2])
        self.assertGreater(r["usage"]["prompt_tokens"], 0)
        # The float encoding carries the same float32 values.
        f = self.embed("mock-emb", "--float", "hello world")
        self.assertTrue(f["ok"], f)
        for a, b in zip(f["vectors"][0]["embedding"], vs[0]):
            self.assertAlmostEqual(a, b, places=6)

    def test_mock_dimensions(self):
        r = self.embed("mock-emb", "--dimensions", 8, "short")
        self.assertTrue(r["ok"], r)
        self.assertEqual(len(r["vectors"][0]["embedding"]), 8)

    def test_openai_provider_passthrough(self):
        self.openai.take()
        r = self.embed("emb", "--float", "abc", "hello")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["model"], "text-embedding-3-small-served")  # the provider's answer
        self.assertEqual(r["vectors"][1]["embedding"], [0.25, -0.5, 5.0])
        self.assertEqual(r["usage"]["prompt_tokens"], 14)
        reqs = self.openai.take()
        self.assertEqual(len(reqs), 1)
        self.assertTrue(reqs[0]["path"].endswith("/v1/embeddings"))
        self.assertEqual(reqs[0]["body"]["model"], "text-embedding-3-small")
        self.assertEqual(reqs[0]["body"]["input"], ["abc", "hello"])
        self.assertEqual(reqs[0]["body"]["encoding_format"], "float")
        self.assertEqual(reqs[0]["headers"]["authorization"], "Bearer sk-embed-secret")

    def test_provider_without_embeddings(self):
        r = self.embed("claude-only", "hello")
        self.assertFalse(r["ok"])
        self.assertEqual(r["status"], 400)
        self.assertIn("offers embeddings", r["message"])

    def test_bad_input_is_precise(self):
        for body, param in ((b'{"model": "mock-emb"}', "input"),
                            (b'{"model": "mock-emb", "input": []}', "input"),
                            (b'{"model": "mock-emb", "input": [1, "x"]}', "input"),
                            (b'{"model": "mock-emb", "input": "x", "dimensions": 0}', "dimensions"),
                            (b'{"input": "x"}', "model")):
            r = http_request(self.gh.proxy_port, "POST", "/v1/embeddings", body=body,
                             headers={"Authorization": "alice-key",
                                      "Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (body, r.body))
            err = json.loads(r.body)["error"]
            self.assertEqual(err["param"], param, (body, err))
        r = http_request(self.gh.proxy_port, "POST", "/v1/embeddings",
                         body=b'{"model": "nope", "input": "x"}',
                         headers={"Authorization": "alice-key"})
        self.assertEqual(r.status, 404)


if __name__ == "__main__":
    unittest.main()
