#!/usr/bin/env python3
"""grpc_transcode on routes made through the admin API (store mode, no
config file): an http2 upstream and a transcoding route created with
POST /api/v1/{upstreams,routes} serve REST clients from the grpcio peer
(transcode_peer.py) without a restart; a PATCH of the route's print options
takes effect; descriptor problems are 400 problem+json naming the field
inside the route (grpc_transcode.descriptor, .services[0],
.mapping[0].get) with the loader's codes, and change nothing."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_grpc_transcode as base  # noqa: E402  (re-executes with the system grpc first)
from harness import Gatehouse, wait_until  # noqa: E402
from transcode_peer import ShelfPeer  # noqa: E402

TOKEN = "it-admin-token-transcode-0123456789"


class TestTranscodeThroughAdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = ShelfPeer(base.DESCRIPTOR)
        cls.addClassCleanup(cls.peer.stop)
        cls.gh = Gatehouse(None, workers=2, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        cls.addClassCleanup(cls.gh.stop)

    def api(self, method, path, body=None):
        return self.gh.api(method, path, body, TOKEN)

    def problem(self, resp, code, field):
        self.assertEqual(resp.status, 400, resp)
        self.assertTrue(resp.header("content-type", "").startswith("application/problem+json"))
        doc = resp.json()
        if code:
            self.assertEqual(doc["code"], code, doc)
        self.assertEqual(doc["field"], field, doc)
        return doc

    def ensure_upstream(self):
        if self.api("GET", "/api/v1/upstreams/shelf").status == 200:
            return
        r = self.api("POST", "/api/v1/upstreams",
                     {"name": "shelf", "protocol": "http2",
                      "targets": [{"address": self.peer.address}]})
        self.assertEqual(r.status, 201, r)

    def proxied(self, path):
        try:
            r = self.gh.request("GET", path, timeout=5)
        except OSError:
            return None
        return r

    def test_01_route_created_through_the_api_transcodes(self):
        self.ensure_upstream()
        r = self.api("POST", "/api/v1/routes",
                     {"name": "shelf-rest", "match": {"paths": ["/v1/"]}, "upstream": "shelf",
                      "grpc_transcode": {"descriptor": base.DESCRIPTOR,
                                         "services": ["gh.test.v1.Shelf"],
                                         "mapping": [{"method": "gh.test.v1.Shelf/Plain",
                                                      "get": "/v1/plain/{id}"}]}})
        self.assertEqual(r.status, 201, r)
        route = r.json()
        self.assertEqual(route["grpc_transcode"]["descriptor"], base.DESCRIPTOR)

        def ready():
            got = self.proxied("/v1/shelves/s1/items/i1")
            return got is not None and got.status == 200
        self.assertTrue(wait_until(ready, timeout=10), "the new route did not transcode")
        got = self.proxied("/v1/shelves/s1/items/i1")
        self.assertEqual(got.header("content-type"), "application/json")
        self.assertEqual(json.loads(got.body),
                         {"id": "i1", "shelf": "s1", "displayName": "item-i1"})
        got = self.proxied("/v1/plain/9")
        self.assertEqual(json.loads(got.body), {"id": "plain-9"})
        got = self.proxied("/v1/raw/a.csv")
        self.assertEqual((got.status, got.header("content-type")), (200, "text/csv"))
        # Print options changed by PATCH reach the data plane.
        r = self.api("PATCH", "/api/v1/routes/shelf-rest",
                     {"grpc_transcode": {"descriptor": base.DESCRIPTOR,
                                         "print": {"preserve_proto_field_names": True}}})
        self.assertEqual(r.status, 200, r)

        def snake():
            got = self.proxied("/v1/shelves/s1/items/i2")
            return got is not None and got.status == 200 and \
                "display_name" in json.loads(got.body)
        self.assertTrue(wait_until(snake, timeout=10), "the PATCH did not take effect")

    def test_02_descriptor_errors_name_the_field(self):
        self.ensure_upstream()
        r = self.api("POST", "/api/v1/upstreams",
                     {"name": "plain", "targets": [{"address": "127.0.0.1:9"}]})
        self.assertEqual(r.status, 201, r)
        before = self.api("GET", "/api/v1/status").json()["revision"]

        def post(tc, upstream="shelf"):
            return self.api("POST", "/api/v1/routes",
                            {"name": "bad-tc", "match": {"paths": ["/bad/"]},
                             "upstream": upstream, "grpc_transcode": tc})
        doc = self.problem(post({"descriptor": "/nonexistent/shelf.pb"}), "file_not_found",
                           "grpc_transcode.descriptor")
        self.assertIn("/nonexistent/shelf.pb", doc["detail"])
        doc = self.problem(post({"descriptor": base.DESCRIPTOR,
                                 "services": ["gh.test.v1.Nope"]}),
                           "invalid_descriptor", "grpc_transcode.services[0]")
        self.assertIn("gh.test.v1.Shelf", doc["detail"])  # what the set has
        self.problem(post({"descriptor": base.DESCRIPTOR,
                           "mapping": [{"method": "gh.test.v1.Shelf/Plain", "get": "/x/{"}]}),
                     "invalid_descriptor", "grpc_transcode.mapping[0].get")
        self.problem(post({"descriptor": base.DESCRIPTOR,
                           "mapping": [{"method": "gh.test.v1.Shelf/Nope", "get": "/x"}]}),
                     "invalid_descriptor", "grpc_transcode.mapping[0].method")
        self.problem(post({"descriptor": base.DESCRIPTOR, "stream": "xml"}), None,
                     "grpc_transcode.stream")
        # An HTTP/1.1 upstream cannot carry gRPC.
        self.problem(post({"descriptor": base.DESCRIPTOR}, upstream="plain"), "invalid_value",
                     "grpc_transcode")
        self.assertEqual(self.api("GET", "/api/v1/routes/bad-tc").status, 404)
        self.assertEqual(self.api("GET", "/api/v1/status").json()["revision"], before)


def tearDownModule():
    base.tearDownModule()


if __name__ == "__main__":
    unittest.main()
