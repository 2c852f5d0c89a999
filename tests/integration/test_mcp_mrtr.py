#!/usr/bin/env python3
"""MCP 2026-07-28 input-required results (MRTR, SEP-2322) in front of a
2025-11-25 upstream (tests/node/mcp_conformance_server.mjs, the SDK): the
upstream's elicitation/sampling/roots requests become an InputRequiredResult
with a sealed requestState; the retry resumes the held upstream call on the
node that holds it, or re-issues the request on another node (two gateways
with one session_secret) and answers the upstream from the client's answers,
carried in the state across rounds. -32021 (HTTP 400) when the upstream asks
for a capability the request did not declare; -32602 for a tampered state."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from test_mcp import HAVE_SDK  # noqa: E402
from test_mcp_conformance import ConformanceFixture  # noqa: E402
from test_mcp_modern import V, headers  # noqa: E402

CONFIG = """\
mcp:
  session_secret: "mrtr-test-secret-0123456789abcdef0123"
  servers:
    - {{name: conformance, url: "http://127.0.0.1:{port}/mcp"}}
routes:
  - name: conformance
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [conformance], prefix: never}}
"""

ALL = {"sampling": {}, "elicitation": {}, "roots": {}}


def request(method, rid=1, caps=None, **params):
    params.setdefault("_meta", {})
    params["_meta"].update({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientCapabilities": ALL if caps is None else caps})
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def call(tool, rid=1, caps=None, **params):
    return request("tools/call", rid, caps, name=tool, arguments={}, **params)


def accept(**content):
    return {"action": "accept", "content": content}


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpInputRequired(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = ConformanceFixture()
        cls.addClassCleanup(cls.fixture.stop)
        # One worker each, so a retry sent to the same gateway finds its held
        # call; the second gateway is "another node" (same secret).
        config = CONFIG.format(port=cls.fixture.port)
        cls.gh = Gatehouse(config, workers=1)
        cls.addClassCleanup(cls.gh.cleanup)
        cls.other = Gatehouse(config, workers=1)
        cls.addClassCleanup(cls.other.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()
        cls.other.stop_and_check()

    def send(self, msg, gh=None, status=200):
        r = http_request((gh or self.gh).proxy_port, "POST", "/mcp", headers=headers(msg),
                         body=json.dumps(msg))
        self.assertEqual(r.status, status, r.body)
        out = json.loads(r.body)
        self.assertEqual(out["id"], msg["id"])
        return out

    def result(self, msg, gh=None):
        out = self.send(msg, gh)
        self.assertIn("result", out, out)
        return out["result"]

    def runs(self):
        r = self.result(call("test_input_required_runs"))
        return int(r["content"][0]["text"])

    def text(self, result):
        self.assertEqual(result["resultType"], "complete", result)
        return result["content"][0]["text"]

    # ------------------------------------------------------------------ tests

    def test_elicitation_resumes_the_held_call(self):
        before = self.runs()
        r1 = self.result(call("test_input_required_result_elicitation"))
        self.assertEqual(r1["resultType"], "input_required")
        self.assertEqual(list(r1["inputRequests"]), ["user_name"])
        ask = r1["inputRequests"]["user_name"]
        self.assertEqual(ask["method"], "elicitation/create")
        self.assertEqual(ask["params"]["message"], "What is your name?")
        # Our key hint is not shown to the client.
        self.assertNotIn("io.gatehouse/inputKey", json.dumps(ask))
        self.assertIsInstance(r1["requestState"], str)
        r2 = self.result(call("test_input_required_result_elicitation", 2,
                              inputResponses={"user_name": accept(name="Alice")},
                              requestState=r1["requestState"]))
        self.assertEqual(self.text(r2), "Hello, Alice!")
        # Resumed: the tool ran once.
        self.assertEqual(self.runs(), before + 1)

    def test_retry_without_its_answer_is_asked_again(self):
        r1 = self.result(call("test_input_required_result_request_state"))
        r2 = self.result(call("test_input_required_result_request_state", 2,
                              inputResponses={"other": accept(ok=True)},
                              requestState=r1["requestState"]))
        self.assertEqual(r2["resultType"], "input_required")
        self.assertEqual(list(r2["inputRequests"]), ["confirm"])
        self.assertNotEqual(r2["requestState"], r1["requestState"])
        r3 = self.result(call("test_input_required_result_request_state", 3,
                              inputResponses={"confirm": accept(ok=True)},
                              requestState=r2["requestState"]))
        self.assertEqual(self.text(r3), "Confirmed: true")

    def test_several_questions_in_one_result(self):
        r1 = self.result(call("test_input_required_result_multiple_inputs"))
        self.assertEqual(r1["resultType"], "input_required")
        reqs = r1["inputRequests"]
        self.assertEqual(sorted(reqs), ["client_roots", "greeting", "user_name"])
        self.assertEqual(reqs["greeting"]["method"], "sampling/createMessage")
        self.assertEqual(reqs["greeting"]["params"]["maxTokens"], 50)
        self.assertEqual(reqs["client_roots"]["method"], "roots/list")
        answers = {
            "user_name": accept(name="Alice"),
            "greeting": {"role": "assistant", "content": {"type": "text", "text": "Hi!"},
                         "model": "m", "stopReason": "endTurn"},
            "client_roots": {"roots": [{"uri": "file:///a"}, {"uri": "file:///b"}]}}
        r2 = self.result(call("test_input_required_result_multiple_inputs", 2,
                              inputResponses=answers, requestState=r1["requestState"]))
        self.assertEqual(self.text(r2), "Hi! Alice (2 roots)")

    def test_another_node_reissues_and_carries_answers_across_rounds(self):
        tool = "test_input_required_result_multi_round"
        before = self.runs()
        r1 = self.result(call(tool))
        self.assertEqual(list(r1["inputRequests"]), ["step1"])
        # Round 2 on the other node: the request is sent again and step1
        # answered from the retry; step2 is asked.
        r2 = self.result(call(tool, 2, inputResponses={"step1": accept(name="Alice")},
                              requestState=r1["requestState"]), self.other)
        self.assertEqual(list(r2["inputRequests"]), ["step2"])
        # Round 3 back on the first node, which does not hold the other's
        # call: re-issued again, step1 answered from the state.
        r3 = self.result(call(tool, 3, inputResponses={"step2": accept(color="blue")},
                              requestState=r2["requestState"]))
        self.assertEqual(self.text(r3), "Alice likes blue")
        self.assertEqual(self.runs(), before + 3)

    def test_answers_without_state_reissue(self):
        r = self.result(call("test_input_required_result_elicitation",
                             inputResponses={"user_name": accept(name="Bob"),
                                             "unknown_extra": accept(x=1)}))
        self.assertEqual(self.text(r), "Hello, Bob!")
        # A state that is not the gateway's is the upstream's own: passed on,
        # not refused (this upstream ignores it and asks again, answered).
        r = self.result(call("test_input_required_result_elicitation",
                             inputResponses={"user_name": accept(name="Eve")},
                             requestState="upstream-own-state"))
        self.assertEqual(self.text(r), "Hello, Eve!")
        # A wrong key: the upstream's question comes back as an input request.
        r = self.result(call("test_input_required_result_elicitation",
                             inputResponses={"wrong_key": accept(name="Bob")}))
        self.assertEqual(list(r["inputRequests"]), ["user_name"])

    def test_prompt_and_roots(self):
        r1 = self.result(request("prompts/get", name="test_input_required_result_prompt"))
        self.assertEqual(list(r1["inputRequests"]), ["user_context"])
        r2 = self.result(request("prompts/get", 2, name="test_input_required_result_prompt",
                                 inputResponses={"user_context": accept(context="tests")},
                                 requestState=r1["requestState"]))
        self.assertEqual(r2["messages"][0]["content"]["text"], "Use this context: tests")
        r1 = self.result(call("test_input_required_result_list_roots"))
        self.assertEqual(r1["inputRequests"]["client_roots"], {"method": "roots/list",
                                                               "params": {}})
        r2 = self.result(call("test_input_required_result_list_roots", 2,
                              inputResponses={"client_roots": {"roots": [{"uri": "file:///x"}]}},
                              requestState=r1["requestState"]))
        self.assertEqual(self.text(r2), "Roots: file:///x")

    def test_tampered_or_foreign_state_is_refused(self):
        r1 = self.result(call("test_input_required_result_tampered_state"))
        out = self.send(call("test_input_required_result_tampered_state", 2,
                             inputResponses={"confirm": accept(ok=True)},
                             requestState=r1["requestState"] + "-TAMPERED"))
        self.assertEqual(out["error"]["code"], -32602)
        self.assertIn("requestState is not one this server issued", out["error"]["message"])
        # A state of one tool is no state for another.
        out = self.send(call("test_input_required_result_request_state", 3,
                             inputResponses={"confirm": accept(ok=True)},
                             requestState=r1["requestState"]))
        self.assertEqual(out["error"]["message"],
                         "params.requestState belongs to another request")
        out = self.send(call("test_input_required_result_elicitation", 4,
                             inputResponses={"user_name": "Alice"}))
        self.assertEqual(out["error"]["message"],
                         'params.inputResponses["user_name"] must be an object')
        out = self.send(call("test_input_required_result_elicitation", 5, requestState=7))
        self.assertEqual(out["error"]["message"], "params.requestState must be a string")
        # The untampered state still resumes its call.
        r2 = self.result(call("test_input_required_result_tampered_state", 6,
                              inputResponses={"confirm": accept(ok=False)},
                              requestState=r1["requestState"]))
        self.assertEqual(self.text(r2), "Confirmed: false")

    def test_undeclared_capability_is_32021(self):
        out = self.send(call("test_missing_capability", caps={}), status=400)
        self.assertEqual(out["error"]["code"], -32021)
        self.assertEqual(out["error"]["data"], {"requiredCapabilities": {"sampling": {}}})
        self.assertIn("sampling", out["error"]["message"])
        out = self.send(call("test_input_required_result_elicitation", caps={"sampling": {}}),
                        status=400)
        self.assertEqual(out["error"]["data"],
                         {"requiredCapabilities": {"elicitation": {"form": {}}}})
        # A server that reads the declared capabilities asks only for those.
        r = self.result(call("test_input_required_result_capabilities", caps={"sampling": {}}))
        self.assertEqual(list(r["inputRequests"]), ["capital_question"])
        # Nothing was left waiting: the gateway still answers calls.
        self.assertEqual(self.text(self.result(call("test_simple_text"))),
                         "This is a simple text response for testing.")

    def test_lists_never_take_input(self):
        r = self.result(request("tools/list"))
        self.assertEqual(r["resultType"], "complete")
        names = [t["name"] for t in r["tools"]]
        self.assertIn("test_input_required_result_elicitation", names)


if __name__ == "__main__":
    unittest.main()
