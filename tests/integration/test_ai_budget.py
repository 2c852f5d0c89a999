#!/usr/bin/env python3
"""llm-budget and prices end to end: the official openai and @anthropic-ai/sdk
clients call Gatehouse concurrently; Gatehouse prices every call from
llm.prices, reserves the worst case (prompt estimate + max_tokens) against the
budget before the provider is called and settles with the real cost after;
spend survives a restart on the same data folder. The provider is the fake
Bedrock (fake_bedrock.py), whose usage per call is fixed (13 input, 3 cache
read, 2 cache write, 5 output tokens)."""

import concurrent.futures
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, wait_until  # noqa: E402
from fake_bedrock import FakeBedrock  # noqa: E402
from test_ai_gateway import node, NODE_DIR  # noqa: E402

HAVE_SDKS = (shutil.which("node") is not None and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")) and
             os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@anthropic-ai", "sdk")))

SECRET = "budget-test-secret"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
# 1000 per million tokens, every type: a call costs (13 + 3 + 2 + 5) / 1000.
ACTUAL = 23 / 1000.0

CONFIG = """\
llm:
  currency: EUR
  providers:
    - {{name: aws, kind: bedrock, base_url: "{base}", region: us-east-1,
       aws: {{access_key_id: AKIDBUDGET, secret_access_key: "{secret}"}}}}
  prices:
    - {{model: "{model}", input: 1000, output: 1000}}
  models:
    - {{name: claude, targets: [{{provider: aws, model: "{model}"}}]}}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [claude]}}
    policies:
      - {{name: key-auth, config: {{key_names: [authorization, x-api-key]}}}}
      - {{name: llm-budget, config: {{amount: 1.0, period: month, by: consumer, default_max_tokens: 256}}}}
consumers:
  - {{name: erin, credentials: [{{type: key-auth, key: erin-key}}]}}
  - {{name: frank, credentials: [{{type: key-auth, key: frank-key}}]}}
  - {{name: gina, credentials: [{{type: key-auth, key: gina-key}}]}}
"""


def post(port, key, body, path="/v1/messages"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("POST", path, body=json.dumps(body).encode(),
                  headers={"Content-Type": "application/json", "x-api-key": key,
                           "anthropic-version": "2023-06-01"})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(data or b"{}")
    finally:
        c.close()


def near_month_end():
    t = time.gmtime(time.time() + 120)
    return t.tm_mon != time.gmtime().tm_mon


@unittest.skipUnless(HAVE_SDKS, "node and tests/node/node_modules needed (scripts/bootstrap)")
@unittest.skipIf(near_month_end(), "a monthly budget test must not straddle the month's end")
class AiBudget(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeBedrock(access_key="AKIDBUDGET", secret_key=SECRET, region="us-east-1")
        cls.addClassCleanup(cls.fake.stop)
        cls.data = tempfile.mkdtemp(prefix="gatehouse-budget-data-")
        cls.addClassCleanup(shutil.rmtree, cls.data, True)

    def start(self):
        gh = Gatehouse(CONFIG.format(base=self.fake.base_url, secret=SECRET, model=MODEL_ID),
                       extra_args=["--data-dir", os.path.join(self.data, "state")])
        self.addCleanup(gh.cleanup)
        return gh

    def test_concurrent_sdk_calls_cannot_overshoot_and_spend_survives_a_restart(self):
        gh = self.start()
        base = "http://127.0.0.1:%d" % gh.proxy_port
        # Every call reserves at least max_tokens 256 x 1000 / 1e6 = 0.256 of the 1.0
        # budget (plus its prompt estimate, a few dozen tokens): 3 fit at once, a 4th
        # never does while they are in flight. The fake holds each admitted call until
        # all 8 callers were either admitted (reached the fake) or refused.
        self.fake.gate = threading.Event()
        self.fake.arrived = 0
        self.fake.take()
        done = []

        def one(i):
            if i % 2:
                r = node("openai_chat.mjs", base + "/v1", "erin-key", "claude", "--stream")
            else:
                r = node("anthropic_messages.mjs", base, "erin-key", "claude", "--stream")
            done.append(r)
            return r

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(one, i) for i in range(8)]
            deadline = time.time() + 120  # a failure bound only: the condition decides
            while time.time() < deadline and self.fake.arrived + len(done) < 8:
                time.sleep(0.05)
            in_flight = self.fake.arrived
            self.fake.gate.set()
            results = [f.result() for f in futures]
        self.fake.gate = None
        ok = [r for r in results if r["ok"]]
        refused = [r for r in results if not r["ok"]]
        self.assertEqual(in_flight, 3, results)
        self.assertEqual(len(ok), 3, results)
        self.assertEqual(len(refused), 5, results)
        for r in refused:
            self.assertEqual(r["status"], 429, r)
            msg = json.dumps(r["error"])
            self.assertIn("budget of 1 EUR per month", msg)
        self.assertEqual(len(self.fake.take()), 3)  # refused calls never reached the provider

        # Settled with the real cost: 3 x 0.023 spent, so 0.931 is left and a 4th call fits.
        status, headers, body = post(gh.proxy_port, "erin-key", {
            "model": "claude", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200, body)
        spent = 4 * ACTUAL
        # The header reports what was left after this call's reservation.
        self.assertAlmostEqual(float(headers["x-budget-limit"]), 1.0)
        self.assertLess(float(headers["x-budget-remaining"]), 1.0 - 3 * ACTUAL - 0.256)
        self.assertAlmostEqual(float(headers["x-gatehouse-llm-cost"]), ACTUAL, places=9)
        # The budget is settled before the answer's last bytes; the metric is
        # counted when the exchange ends, which may be just after the client
        # has its answer.
        def cost_now():
            c = gh.metric("gatehouse_llm_cost_total", consumer="erin", model="claude")
            return c if abs(c - spent) < 1e-9 else None
        cost = wait_until(cost_now) or gh.metric(
            "gatehouse_llm_cost_total", consumer="erin", model="claude")
        self.assertAlmostEqual(cost, spent, places=9)

        # Spend another consumer's budget down until a call no longer fits.
        n = 0
        while True:
            status, headers, body = post(gh.proxy_port, "frank-key", {
                "model": "claude", "max_tokens": 900,
                "messages": [{"role": "user", "content": "hi"}]})
            if status != 200:
                break
            n += 1
        self.assertEqual(status, 429, body)
        self.assertEqual(body["type"], "error")
        self.assertEqual(body["error"]["type"], "rate_limit_error")
        retry = int(headers["retry-after"])
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, 31 * 86400)
        # Each call reserves 0.9 + its prompt estimate (a few dozen tokens, under 0.05)
        # and costs 0.023: after k calls another fits while 0.023 k + estimate <= 1,
        # i.e. k <= 4 (estimate 0.9) or k <= 3 (estimate above 0.908): 5 or 4 calls.
        self.assertIn(n, (4, 5))
        self.assertLessEqual((n - 1) * ACTUAL + 0.9, 1.0)

        # A restart on the same data folder keeps what was spent.
        self.assertEqual(gh.stop(), 0, gh.stderr_text())
        gh2 = self.start()
        status, headers, body = post(gh2.proxy_port, "frank-key", {
            "model": "claude", "max_tokens": 900, "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 429, body)
        status, headers, body = post(gh2.proxy_port, "gina-key", {
            "model": "claude", "max_tokens": 900, "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(gh2.stop(), 0, gh2.stderr_text())


if __name__ == "__main__":
    unittest.main()
