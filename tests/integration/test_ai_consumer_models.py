#!/usr/bin/env python3
"""Per-consumer model allow-lists on AI routes (consumers[].llm.models): a
consumer sees and may call only its models (names or aliases), /v1/models
lists exactly those, and consumers without a list keep every model of the
route. Plain HTTP against the built-in mock provider."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402

CONFIG = """\
llm:
  providers: [{name: mock, kind: mock, mock: {reply: "ok"}}]
  models:
    - {name: fast, aliases: [quick], targets: [{provider: mock, model: m-fast}]}
    - {name: smart, targets: [{provider: mock, model: m-smart}]}
    - {name: embed, targets: [{provider: mock, model: m-embed}]}
routes:
  - name: ai
    match: {paths: ["/v1/"]}
    llm: {models: [fast, smart, embed]}
    policies: [{name: key-auth}]
consumers:
  - {name: intern, llm: {models: [quick]}, credentials: [{type: key-auth, key: intern-key}]}
  - {name: staff, credentials: [{type: key-auth, key: staff-key}]}
  - {name: nobody, llm: {models: []}, credentials: [{type: key-auth, key: nobody-key}]}
"""


class ConsumerModels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gh = Gatehouse(CONFIG)
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def call(self, key, model, path="/v1/chat/completions"):
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        if path.endswith("embeddings"):
            body = {"model": model, "input": "hi"}
        return http_request(self.gh.proxy_port, "POST", path, body=json.dumps(body).encode(),
                            headers={"apikey": key, "Content-Type": "application/json"})

    def models(self, key):
        r = http_request(self.gh.proxy_port, "GET", "/v1/models", headers={"apikey": key})
        self.assertEqual(r.status, 200, r.body)
        return [m["id"] for m in json.loads(r.body)["data"]]

    def test_limited_consumer(self):
        self.assertEqual(self.models("intern-key"), ["fast"])
        self.assertEqual(self.call("intern-key", "fast").status, 200)
        self.assertEqual(self.call("intern-key", "quick").status, 200)  # the alias too
        r = self.call("intern-key", "smart")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(json.loads(r.body)["error"]["param"], "model")
        self.assertEqual(self.call("intern-key", "embed", "/v1/embeddings").status, 404)

    def test_unlimited_consumer(self):
        self.assertEqual(self.models("staff-key"), ["fast", "smart", "embed"])
        self.assertEqual(self.call("staff-key", "smart").status, 200)
        self.assertEqual(self.call("staff-key", "embed", "/v1/embeddings").status, 200)

    def test_empty_list_allows_nothing(self):
        self.assertEqual(self.models("nobody-key"), [])
        self.assertEqual(self.call("nobody-key", "fast").status, 404)


if __name__ == "__main__":
    unittest.main()
