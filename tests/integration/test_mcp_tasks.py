#!/usr/bin/env python3
"""The tasks extension (SEP-2663, MCP 2026-07-28) done by the gateway, raw
HTTP against tests/node/mcp_conformance_server.mjs (an SDK server that knows
nothing of tasks; its tools say execution.taskSupport): a declaring client's
call becomes a task once it can proceed (a question the tool asks at once is
answered first with an InputRequiredResult, and the retry becomes the task),
runs upstream in the background and is polled with tasks/get; a later
question goes through tasks/update; tasks/cancel cancels it upstream
(notifications/cancelled); task ids are bound to the route and consumer;
-32021 for a client without the extension; the access log names the task
methods."""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, http_request  # noqa: E402
from test_mcp import HAVE_SDK  # noqa: E402
from test_mcp_conformance import ConformanceFixture  # noqa: E402

V = "2026-07-28"
EXT = "io.modelcontextprotocol/tasks"
ALICE, BOB = "alice-tasks-key", "bob-tasks-key"

CONFIG = """\
mcp:
  servers:
    - {{name: fixture, url: "http://127.0.0.1:{port}/mcp"}}
routes:
  - name: tasks
    match: {{paths: ["/mcp"]}}
    mcp: {{servers: [fixture], prefix: never}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
  - name: other
    match: {{paths: ["/other"]}}
    mcp: {{servers: [fixture], prefix: never}}
    policies: [{{name: key-auth, config: {{key_names: [x-api-key]}}}}]
consumers:
  - {{name: alice, credentials: [{{type: key-auth, key: "{alice}"}}]}}
  - {{name: bob, credentials: [{{type: key-auth, key: "{bob}"}}]}}
"""


class Fixture(ConformanceFixture):
    """The conformance fixture, keeping what it prints after its port (a
    line per call it saw cancelled)."""

    def __init__(self):
        super().__init__()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def cancelled(self):
        return [json.loads(x)["cancelled"] for x in list(self.lines) if "cancelled" in x]


def body(method, rid=1, tasks=True, caps=None, **params):
    caps = dict(caps or {})
    if tasks:
        caps["extensions"] = {EXT: {}}
    params["_meta"] = {"io.modelcontextprotocol/protocolVersion": V,
                       "io.modelcontextprotocol/clientCapabilities": caps}
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class McpTasks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = Fixture()
        cls.addClassCleanup(cls.fixture.stop)
        cls.gh = Gatehouse(CONFIG.format(port=cls.fixture.port, alice=ALICE, bob=BOB))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def send(self, msg, key=ALICE, path="/mcp", name=None):
        p = msg["params"]
        h = {"content-type": "application/json", "accept": "application/json, text/event-stream",
             "mcp-protocol-version": V, "mcp-method": msg["method"], "x-api-key": key}
        n = name if name is not None else p.get("name", p.get("taskId"))
        if n is not None:
            h["mcp-name"] = n
        return http_request(self.gh.proxy_port, "POST", path, headers=h, body=json.dumps(msg))

    def rpc(self, msg, status=200, **kw):
        r = self.send(msg, **kw)
        self.assertEqual(r.status, status, r.body)
        return json.loads(r.body)

    def call(self, tool, key=ALICE, path="/mcp", tasks=True, **args):
        return self.rpc(body("tools/call", name=tool, arguments=args, tasks=tasks),
                        key=key, path=path)

    def get(self, task_id, **kw):
        return self.rpc(body("tasks/get", taskId=task_id), **kw)

    def wait(self, task_id, **kw):
        deadline = time.time() + 15
        while time.time() < deadline:
            t = self.get(task_id, **kw)["result"]
            if t["status"] in ("completed", "failed", "cancelled"):
                return t
            time.sleep(0.1)
        self.fail("task %s did not finish" % task_id)

    # -------------------------------------------------------------- tests

    def test_discover_advertises_the_extension(self):
        caps = self.rpc(body("server/discover"))["result"]["capabilities"]
        self.assertEqual(caps["extensions"], {EXT: {}})
        self.assertNotIn("tasks", caps)

    def test_call_becomes_a_task_and_completes(self):
        started = time.time()
        created = self.call("slow_compute", seconds=1, label="t1")["result"]
        self.assertLess(time.time() - started, 0.9)  # answered before the upstream did
        self.assertEqual(created["resultType"], "task")
        self.assertEqual(created["status"], "working")
        self.assertEqual(len(created["taskId"]), 22)
        self.assertIsInstance(created["ttlMs"], int)
        self.assertIsInstance(created["pollIntervalMs"], int)
        for k in ("result", "error", "ttl", "pollInterval", "task", "requestState"):
            self.assertNotIn(k, created)
        tid = created["taskId"]
        working = self.get(tid)["result"]  # at once: durably created
        self.assertEqual(working["status"], "working")
        self.assertEqual(working["resultType"], "complete")
        self.assertNotIn("result", working)
        done = self.wait(tid)
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["result"]["content"][0]["text"], "computed t1 after 1s")
        self.assertGreaterEqual(done["lastUpdatedAt"], done["createdAt"])

    def test_tool_error_completes_and_protocol_error_fails(self):
        tid = self.call("failing_job")["result"]["taskId"]
        t = self.wait(tid)
        self.assertEqual(t["status"], "completed")
        self.assertTrue(t["result"]["isError"])
        tid = self.call("protocol_error_job")["result"]["taskId"]
        t = self.wait(tid)
        self.assertEqual(t["status"], "failed")
        self.assertEqual(t["error"]["code"], -32603)
        self.assertIn("protocol_error_job broke down", t["error"]["message"])
        self.assertNotIn("result", t)

    def test_sync_tools_and_clients_without_the_extension(self):
        r = self.call("greet", name="Ann")["result"]
        self.assertEqual(r["resultType"], "complete")
        self.assertEqual(r["content"][0]["text"], "Hello, Ann!")
        # A 2025-11-25 task hint neither fails nor makes a sync tool a task.
        r = self.rpc(body("tools/call", name="greet", arguments={"name": "B"},
                          task={"ttl": 60000}))["result"]
        self.assertNotIn("taskId", r)
        # Optional tools run synchronously for a client without the extension.
        r = self.call("slow_compute", tasks=False, seconds=0, label="sync")["result"]
        self.assertEqual(r["content"][0]["text"], "computed sync after 0s")
        # A task-required tool and the task methods need the extension.
        r = self.rpc(body("tools/call", name="failing_job", arguments={}, tasks=False),
                     status=400)
        self.assertEqual(r["error"]["code"], -32021)
        self.assertIn(EXT, r["error"]["data"]["requiredCapabilities"]["extensions"])
        for m in ("tasks/get", "tasks/cancel"):
            r = self.rpc(body(m, taskId="x", tasks=False), status=400)
            self.assertEqual(r["error"]["code"], -32021, m)
        r = self.rpc(body("tasks/update", taskId="x", inputResponses={}, tasks=False), status=400)
        self.assertEqual(r["error"]["code"], -32021)

    def test_removed_v1_methods_and_bad_params(self):
        for m in ("tasks/result", "tasks/list"):
            r = self.rpc(body(m, taskId="x"), status=404, name="x" if m == "tasks/result" else "")
            self.assertEqual(r["error"]["code"], -32601, m)
        r = self.rpc(body("tasks/get", taskId="no-such-task"))
        self.assertEqual(r["error"]["code"], -32602)
        self.assertIn("not found", r["error"]["message"])
        r = self.rpc(body("tasks/get"), name="")
        self.assertEqual(r["error"]["code"], -32602)
        self.assertIn("params.taskId", r["error"]["message"])
        tid = self.call("slow_compute", seconds=0)["result"]["taskId"]
        r = self.rpc(body("tasks/update", taskId=tid))
        self.assertIn("params.inputResponses", r["error"]["message"])
        # Keys never asked for are ignored (acknowledged).
        r = self.rpc(body("tasks/update", taskId=tid, inputResponses={"k": {}}))["result"]
        self.assertEqual(r, {"resultType": "complete"})
        # Mcp-Name must name the task.
        r = self.rpc(body("tasks/get", taskId=tid), status=400, name="another")
        self.assertEqual(r["error"]["code"], -32020)

    def test_ids_are_bound_to_route_and_consumer(self):
        tid = self.call("slow_compute", seconds=0)["result"]["taskId"]
        self.wait(tid)
        for kw in ({"key": BOB}, {"path": "/other"}):
            r = self.get(tid, **kw)
            self.assertEqual(r["error"]["code"], -32602, kw)
            r = self.rpc(body("tasks/cancel", taskId=tid), **kw)
            self.assertEqual(r["error"]["code"], -32602, kw)
        self.assertEqual(self.get(tid)["result"]["status"], "completed")

    def test_cancel_reaches_the_upstream(self):
        tid = self.call("slow_compute", seconds=60, label="long")["result"]["taskId"]
        time.sleep(0.3)
        ack = self.rpc(body("tasks/cancel", taskId=tid))["result"]
        self.assertEqual(ack, {"resultType": "complete"})
        t = self.get(tid)["result"]
        self.assertEqual(t["status"], "cancelled")
        self.assertNotIn("result", t)
        # Idempotent on a terminal task.
        self.assertEqual(self.rpc(body("tasks/cancel", taskId=tid))["result"],
                         {"resultType": "complete"})
        # The fixture's slow_compute stopped: it is aborted only by the
        # notifications/cancelled the gateway sent for the upstream call.
        deadline = time.time() + 5
        while time.time() < deadline and not self.fixture.cancelled():
            time.sleep(0.05)
        self.assertTrue(any(c.startswith("gh-task-") for c in self.fixture.cancelled()),
                        self.fixture.lines)

    def wait_status(self, tid, status):
        deadline = time.time() + 10
        while time.time() < deadline:
            t = self.get(tid)["result"]
            if t["status"] == status:
                return t
            time.sleep(0.05)
        self.fail("task %s never was %s: %s" % (tid, status, t))

    def test_input_required_and_partial_updates(self):
        caps = {"elicitation": {}}
        r = self.rpc(body("tools/call", name="multi_input", arguments={}, caps=caps))["result"]
        tid = r["taskId"]
        deadline = time.time() + 10
        while time.time() < deadline:
            t = self.get(tid)["result"]
            if len(t.get("inputRequests", {})) == 2:
                break
            time.sleep(0.05)
        self.assertEqual(t["status"], "input_required")
        k1, k2 = sorted(t["inputRequests"])
        self.assertEqual(t["inputRequests"][k1]["method"], "elicitation/create")
        self.assertIn(t["inputRequests"][k1]["params"]["message"], ("First?", "Second?"))
        ack = self.rpc(body("tasks/update", taskId=tid, inputResponses={
            k1: {"action": "accept", "content": {"name": "one"}}, "input-99": {}}))["result"]
        self.assertEqual(ack, {"resultType": "complete"})
        t = self.get(tid)["result"]
        self.assertEqual(t["status"], "input_required")
        self.assertEqual(list(t["inputRequests"]), [k2])
        self.rpc(body("tasks/update", taskId=tid, inputResponses={
            k2: {"action": "accept", "content": {"name": "two"}}}))
        done = self.wait(tid)
        self.assertEqual(done["status"], "completed")
        text = done["result"]["content"][0]["text"]
        self.assertIn('"name":"one"', text)
        self.assertIn('"name":"two"', text)

    def test_input_the_client_cannot_give_is_refused_upstream(self):
        # No elicitation capability declared: the upstream is not told of
        # one, its elicitInput fails, and the tool says so.
        tid = self.call("confirm_delete", filename="f.txt")["result"]["taskId"]
        t = self.wait(tid)
        self.assertEqual(t["status"], "completed")
        self.assertIn("confirm_delete f.txt: error", t["result"]["content"][0]["text"])

    def test_cancel_while_input_required(self):
        r = self.rpc(body("tools/call", name="confirm_delete", arguments={"filename": "g"},
                          caps={"elicitation": {}}))["result"]
        self.wait_status(r["taskId"], "input_required")
        self.rpc(body("tasks/cancel", taskId=r["taskId"]))
        t = self.get(r["taskId"])["result"]
        self.assertEqual(t["status"], "cancelled")
        self.assertNotIn("inputRequests", t)

    def test_a_question_asked_at_once_comes_before_the_task(self):
        # SEP-2663 with SEP-2322: round 1 is an InputRequiredResult (no task
        # yet), the retry carrying the answer becomes the task, whose result
        # has the answer.
        caps = {"elicitation": {}}
        r = self.rpc(body("tools/call", name="test_tool_with_task", arguments={},
                          caps=caps))["result"]
        self.assertEqual(r["resultType"], "input_required")
        self.assertNotIn("taskId", r)
        self.assertEqual(list(r["inputRequests"]), ["user_name"])
        self.assertEqual(r["inputRequests"]["user_name"]["method"], "elicitation/create")
        self.assertTrue(r["requestState"].startswith("gh-mrtr."))
        created = self.rpc(body(
            "tools/call", name="test_tool_with_task", arguments={}, caps=caps,
            inputResponses={"user_name": {"action": "accept", "content": {"name": "Alice"}}},
            requestState=r["requestState"]))["result"]
        self.assertEqual(created["resultType"], "task")
        for k in ("requestState", "inputRequests", "result"):
            self.assertNotIn(k, created)
        done = self.wait(created["taskId"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual(done["result"]["content"][0]["text"], "Hello, Alice! (from a task)")
        # The same call from a client that cannot answer: -32021 before any
        # task exists, naming the capability.
        r = self.rpc(body("tools/call", name="test_tool_with_task", arguments={}), status=400)
        self.assertEqual(r["error"]["code"], -32021)
        self.assertEqual(r["error"]["data"]["requiredCapabilities"], {"elicitation": {"form": {}}})

    def test_input_before_the_task_and_during_it(self):
        caps = {"elicitation": {}}
        r = self.rpc(body("tools/call", name="plan_trip", arguments={}, caps=caps))["result"]
        self.assertEqual(list(r["inputRequests"]), ["destination"])
        created = self.rpc(body(
            "tools/call", name="plan_trip", arguments={}, caps=caps,
            inputResponses={"destination": {"action": "accept", "content": {"city": "Oslo"}}},
            requestState=r["requestState"]))["result"]
        self.assertEqual(created["resultType"], "task")
        self.assertEqual(created["status"], "working")  # the tool works before it asks again
        tid = created["taskId"]
        t = self.wait_status(tid, "input_required")
        [(key, req)] = t["inputRequests"].items()
        self.assertEqual(req["params"]["message"], "Book Oslo?")
        self.assertNotEqual(key, "destination")  # task keys are the task's own
        self.rpc(body("tasks/update", taskId=tid, inputResponses={
            key: {"action": "accept", "content": {"confirm": True}}}))
        done = self.wait(tid)
        self.assertEqual(done["result"]["content"][0]["text"],
                         'plan_trip Oslo: accept {"confirm":true}')

    def test_a_call_that_answers_at_once_is_a_finished_task(self):
        created = self.call("slow_compute", seconds=0, label="now")["result"]
        self.assertEqual(created["resultType"], "task")
        self.assertEqual(created["status"], "completed")
        self.assertNotIn("result", created)
        t = self.get(created["taskId"])["result"]
        self.assertEqual(t["result"]["content"][0]["text"], "computed now after 0s")

    def test_access_log_names_task_methods(self):
        tid = self.call("slow_compute", seconds=0, label="logged")["result"]["taskId"]
        self.get(tid)
        rec = self.gh.wait_access(lambda r: r.get("mcp", {}).get("method") == "tasks/get" and
                                  r["mcp"].get("name") == tid)
        self.assertIsNotNone(rec)
        self.assertEqual(rec["consumer"], "alice")
        rec = self.gh.wait_access(lambda r: r.get("mcp", {}).get("method") == "tools/call" and
                                  r["mcp"].get("name") == "slow_compute")
        self.assertEqual(rec["mcp"]["server"], "fixture")


if __name__ == "__main__":
    unittest.main()
