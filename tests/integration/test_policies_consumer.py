#!/usr/bin/env python3
"""Policies attached to a consumer: they run on every route once that consumer
is identified, after authentication; a route (or global) policy of the same
name steps aside for the consumer's own; and policies that run before a
consumer is known cannot be attached to one."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, run_check, to_yaml  # noqa: E402
from upstream import Upstream  # noqa: E402

ALICE = {"apikey": "alice-key"}
BOB = {"apikey": "bob-key"}
CAROL = {"apikey": "carol-key"}
DAVE = {"apikey": "dave-key"}
DAY = {"window": "1d", "by": "consumer"}  # no window boundary inside the test


def config(address):
    return {
        "upstreams": [{"name": "svc", "targets": [{"address": address, "weight": 1}]}],
        "consumers": [
            # alice: 2 requests a day, on every route, whatever the route says.
            {"name": "alice", "credentials": [{"type": "key-auth", "key": "alice-key"}],
             "policies": [{"name": "rate-limit", "config": dict(DAY, requests=2)}]},
            {"name": "bob", "credentials": [{"type": "key-auth", "key": "bob-key"}]},
            # carol: an ACL of her own that denies her on every route.
            {"name": "carol", "groups": ["blocked"],
             "credentials": [{"type": "key-auth", "key": "carol-key"}],
             "policies": [{"name": "acl", "config": {"deny": ["blocked"]}}]},
            # dave: only a response header of his own.
            {"name": "dave", "credentials": [{"type": "key-auth", "key": "dave-key"}],
             "policies": [{"name": "response-transformer",
                           "config": {"headers": {"set": {"X-Plan": "partner"}}}}]},
        ],
        "routes": [
            {"name": "open", "match": {"paths": ["/open"]}, "upstream": "svc",
             "policies": [{"name": "key-auth"}]},
            {"name": "metered", "match": {"paths": ["/metered"]}, "upstream": "svc",
             "policies": [{"name": "key-auth"},
                          {"name": "rate-limit", "config": dict(DAY, requests=100)}]},
        ],
    }


class ConsumerPolicies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream("C")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(config(cls.up.address))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def get(self, path, headers):
        return self.gh.request("GET", path, headers=headers)

    def test_consumer_limit_applies_across_routes_and_overrides_the_route_limit(self):
        # One budget of 2 for alice over both routes: the route's own
        # rate-limit (100) steps aside for hers.
        self.assertEqual(self.get("/open", ALICE).status, 200)
        r = self.get("/metered", ALICE)
        self.assertEqual(r.status, 200, r)
        # Her limit, not the route's, is the one announced.
        self.assertEqual(r.header("RateLimit-Limit"), "2")
        r = self.get("/open", ALICE)
        check_problem(self, r, 429)
        r = self.get("/metered", ALICE)
        check_problem(self, r, 429)
        # bob has no policies of his own: the route's limit, not alice's.
        for _ in range(5):
            self.assertEqual(self.get("/metered", BOB).status, 200)
            self.assertEqual(self.get("/open", BOB).status, 200)

    def test_consumer_response_hooks_run(self):
        for path in ("/open", "/metered"):
            r = self.get(path, DAVE)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("X-Plan"), "partner")
            # dave has no limit of his own: the route's applies on /metered.
            self.assertEqual(r.header("RateLimit-Limit"), None if path == "/open" else "100")
        r = self.get("/open", BOB)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("X-Plan"))

    def test_consumer_acl_denies_on_every_route(self):
        for path in ("/open", "/metered"):
            check_problem(self, self.get(path, CAROL), 403)

    def test_anonymous_and_bad_keys_never_reach_consumer_policies(self):
        check_problem(self, self.get("/open", {}), 401)
        check_problem(self, self.get("/open", {"apikey": "nope"}), 401)


class ConsumerPolicyConfig(unittest.TestCase):
    def test_pre_auth_policy_on_a_consumer_is_a_config_error(self):
        cfg = config("127.0.0.1:1")
        cfg["consumers"][1]["policies"] = [{"name": "key-auth"}]
        code, out, err, _ = run_check(to_yaml(cfg))
        self.assertNotEqual(code, 0)
        out = out + err
        self.assertIn("consumers[1].policies[0].name", out)
        self.assertIn("cannot be attached to a consumer", out)


if __name__ == "__main__":
    unittest.main()
