#!/usr/bin/env python3
"""HTTP/JSON to gRPC transcoding (`grpc_transcode:` on a route): a REST
client (urllib/http.client, curl over h2c) -> gatehouse -> grpcio server
(transcode_peer.py) whose service is described by a descriptor set compiled
here with protoc from tests/fixtures/transcode/shelf.proto and its
google.api.http annotations. Path variables (single, multi-segment, '**',
nested), query parameters (repeated, nested, enums by name, booleans,
int64), body "*" and body "field", response_body, additional bindings, the
explicit mapping, gRPC errors mapped to HTTP with a JSON body (and details),
server streaming as a JSON array and as NDJSON, client streaming from a
JSON array, bad JSON and unknown parameters as 400 problem+json with the
field, unknown routes 404/405, gRPC clients passing through untouched,
and config errors with file:line:column."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from grpc_peer import reexec_with_system_grpc  # noqa: E402

reexec_with_system_grpc()

import grpc  # noqa: E402

from harness import Gatehouse, run_check, simple_config  # noqa: E402
from transcode_peer import ShelfPeer, compile_shelf  # noqa: E402

TMP = tempfile.mkdtemp(prefix="gatehouse-transcode-")
DESCRIPTOR = compile_shelf(TMP)


def route(**extra):
    tc = {"descriptor": DESCRIPTOR,
          "mapping": [{"method": "gh.test.v1.Shelf/Plain", "get": "/v1/plain/{id}"}]}
    tc.update(extra)
    return [{"name": "shelf", "match": {"paths": ["/"]}, "upstream": "svc",
             "grpc_transcode": tc}]


class TranscodeCase(unittest.TestCase):
    extra = {}

    @classmethod
    def setUpClass(cls):
        cls.peer = ShelfPeer(DESCRIPTOR)
        cls.gh = Gatehouse(simple_config([cls.peer.address], routes=route(**cls.extra),
                                         upstream_extra={"protocol": "http2"}))

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop()
        cls.gh.cleanup()
        cls.peer.stop()

    def call(self, method, path, body=None, headers=None, raw=False):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            h = {"content-type": "application/json"} if body is not None else {}
            h.update(headers or {})
            data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            ctype = r.getheader("content-type") or ""
            parsed = None
            if not raw and payload and "json" in ctype and "ndjson" not in ctype:
                parsed = json.loads(payload)
            return r.status, ctype, parsed if parsed is not None else payload
        finally:
            c.close()


class TestTranscode(TranscodeCase):
    def test_get_with_path_params(self):
        status, ctype, body = self.call("GET", "/v1/shelves/s1/items/i%20one")
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(body, {"id": "i one", "shelf": "s1", "displayName": "item-i one"})

    def test_additional_binding(self):
        status, _, body = self.call("GET", "/v1/items/x7")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["id"], "x7")
        self.assertNotIn("shelf", body)  # proto3 default, not printed

    def test_query_params_repeated_nested_enum(self):
        status, _, body = self.call(
            "GET", "/v1/shelves/s2/items?page_size=1&tags=a&tags=b%20c&color=GREEN"
                   "&filter.owner=ann&filter.level=4&active=true&count=9007199254740993")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["nextPageToken"], "next")
        self.assertEqual(body["items"], [{
            "id": "0", "shelf": "s2", "tags": ["a", "b c"], "color": "GREEN",
            "meta": {"owner": "ann", "level": 4}, "active": True,
            "count": "9007199254740993"}])
        req = self.peer.calls["ListItems"]
        self.assertEqual(list(req.tags), ["a", "b c"])
        self.assertEqual(req.count, 9007199254740993)

    def test_enum_by_number(self):
        status, _, body = self.call("GET", "/v1/shelves/s/items?page_size=1&color=1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["items"][0]["color"], "RED")

    def test_response_body(self):
        status, _, body = self.call("GET", "/v1/shelves/s3/items:flat?page_size=2")
        self.assertEqual(status, 200, body)
        self.assertEqual([i["id"] for i in body], ["0", "1"])

    def test_post_body_star(self):
        item = {"id": "e1", "displayName": "Echo", "count": "5", "color": "RED",
                "tags": ["t"], "meta": {"owner": "o"}}
        status, _, body = self.call("POST", "/v1/echo", item)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, item)
        # proto field names are accepted too
        status, _, body = self.call("POST", "/v1/echo", {"display_name": "snake"})
        self.assertEqual(body, {"displayName": "snake"})

    def test_post_body_field(self):
        status, _, body = self.call("POST", "/v1/shelves/s4/items",
                                    {"id": "n1", "displayName": "New"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"id": "n1", "shelf": "s4", "displayName": "New"})
        req = self.peer.calls["CreateItem"]
        self.assertEqual(req.shelf, "s4")
        self.assertEqual(req.item.id, "n1")

    def test_patch_nested_path_fields(self):
        status, _, body = self.call("PATCH", "/v1/shelves/s5/items/i9",
                                    {"displayName": "Renamed", "shelf": "ignored"})
        self.assertEqual(status, 200, body)
        # Path variables win over the body: item.shelf is "shelves/s5".
        self.assertEqual(body, {"id": "i9", "shelf": "shelves/s5",
                                "displayName": "Renamed (updated)"})

    def test_double_star(self):
        status, _, body = self.call("GET", "/v1/files/a/b/c.txt")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["id"], "a/b/c.txt")

    def test_explicit_mapping(self):
        status, _, body = self.call("GET", "/v1/plain/42")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"id": "plain-42"})

    def test_grpc_errors_mapped(self):
        cases = {5: 404, 3: 400, 16: 401, 7: 403, 14: 503, 4: 504, 12: 501, 8: 429, 6: 409,
                 13: 500}
        for code, http_status in cases.items():
            status, ctype, body = self.call("GET", "/v1/fail/%d?message=why%%20%d" % (code, code))
            self.assertEqual(status, http_status, (code, body))
            self.assertEqual(ctype, "application/json")
            self.assertEqual(body, {"code": code, "message": "why %d" % code, "details": []})

    def test_not_found_from_service(self):
        status, _, body = self.call("GET", "/v1/items/missing")
        self.assertEqual(status, 404)
        self.assertEqual(body["code"], 5)
        self.assertEqual(body["message"], "no item missing")

    def test_error_details(self):
        status, _, body = self.call("GET", "/v1/fail/9?message=bad%20state&details=true")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["code"], 9)
        self.assertEqual(body["details"], [{"@type": "type.googleapis.com/gh.test.v1.Meta",
                                            "owner": "why", "level": 3}])

    def test_server_streaming_json_array(self):
        status, ctype, body = self.call("GET", "/v1/shelves/s6/watch?count=3")
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/json")
        self.assertEqual([i["id"] for i in body], ["w-0", "w-1", "w-2"])

    def test_server_streaming_arrives_as_sent(self):
        # The first element is readable before the stream ends (0.2 s apart).
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("GET", "/v1/shelves/s/watch?count=5")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("transfer-encoding"), "chunked")
            first = r.read1(65536)
            self.assertTrue(first.startswith(b'[{"id":"w-0"'), first)
            self.assertNotIn(b"w-4", first)
            rest = first + r.read()
            self.assertEqual([i["id"] for i in json.loads(rest)], ["w-%d" % i for i in range(5)])
        finally:
            c.close()

    def test_server_streaming_error_mid_stream(self):
        status, _, body = self.call("GET", "/v1/shelves/s/watch?count=4&fail_after=2")
        self.assertEqual(status, 200)
        self.assertEqual([i.get("id") for i in body[:2]], ["w-0", "w-1"])
        self.assertEqual(body[2], {"error": {"code": 10, "message": "stopped after 2",
                                             "details": []}})

    def test_server_streaming_empty(self):
        status, _, body = self.call("GET", "/v1/shelves/s/watch?count=0")
        self.assertEqual(status, 200)
        self.assertEqual(body, [])

    def test_client_streaming_from_array(self):
        status, _, body = self.call("POST", "/v1/collect", [{"id": "a"}, {"id": "b"}])
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"items": [{"id": "a"}, {"id": "b"}]})

    def test_bad_json_is_400_problem(self):
        status, ctype, body = self.call("POST", "/v1/echo", b'{"id": ')
        self.assertEqual(status, 400)
        self.assertEqual(ctype, "application/problem+json")
        self.assertEqual(body["code"], "invalid_json")
        status, _, body = self.call("POST", "/v1/shelves/s/items", b'{"id": 1')
        self.assertEqual(status, 400)
        self.assertEqual(body["field"], "item")
        status, _, body = self.call("POST", "/v1/echo", {"count": "many"})
        self.assertEqual(status, 400)
        self.assertEqual(body["code"], "invalid_argument")
        self.assertIn("count", body["detail"])
        status, _, body = self.call("POST", "/v1/echo", [1, 2])
        self.assertEqual(status, 400)
        # The connection stays usable after a 400 (the body was read whole).
        status, _, body = self.call("GET", "/v1/items/still")
        self.assertEqual(status, 200)

    def test_bad_query_is_400_with_field(self):
        for q, field in [("nosuch=1", "nosuch"), ("active=perhaps", "active"),
                         ("filter.nosuch=1", "filter.nosuch"), ("color=PURPLE", "")]:
            status, ctype, body = self.call("GET", "/v1/shelves/s/items?" + q)
            self.assertEqual(status, 400, (q, body))
            self.assertEqual(ctype, "application/problem+json")
            if field:
                self.assertEqual(body["field"], field, body)

    def test_unknown_route_404_and_wrong_method_405(self):
        status, ctype, body = self.call("GET", "/v2/nothing")
        self.assertEqual(status, 404)
        self.assertEqual(ctype, "application/problem+json")
        self.assertEqual(body["code"], "transcode_no_binding")
        status, _, body = self.call("DELETE", "/v1/items/x")
        self.assertEqual(status, 405)
        self.assertEqual(body["code"], "transcode_method_not_allowed")

    def test_grpc_client_passes_through(self):
        ch = grpc.insecure_channel("127.0.0.1:%d" % self.gh.proxy_port)
        try:
            req = self.peer.M["GetItemRequest"](shelf="g", id="direct")
            call = ch.unary_unary("/gh.test.v1.Shelf/GetItem",
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=self.peer.M["Item"].FromString)
            item = call(req, timeout=10)
            self.assertEqual(item.display_name, "item-direct")
        finally:
            ch.close()

    def test_upstream_sees_grpc_call(self):
        self.call("GET", "/v1/items/meta", headers={"x-custom": "v1"})
        md = self.peer.metadata["GetItem"]
        self.assertEqual(md.get("x-custom"), "v1")
        self.assertIn("x-request-id", md)

    def test_http2_client_with_curl(self):
        p = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-X", "POST",
                            "-H", "content-type: application/json",
                            "--data", '{"id":"h2"}',
                            "http://127.0.0.1:%d/v1/echo" % self.gh.proxy_port],
                           capture_output=True, timeout=20)
        self.assertEqual(json.loads(p.stdout), {"id": "h2"})

    def test_access_log_has_grpc_status(self):
        self.call("GET", "/v1/shelves/logshelf/items/missing")
        rec = self.gh.wait_access(lambda r: "logshelf" in r.get("path", ""))
        self.assertIsNotNone(rec)
        self.assertEqual(rec["status"], 404, rec)
        self.assertEqual(rec["grpc_status"], 5)


class TestTranscodeOptions(TranscodeCase):
    extra = {"print": {"always_print_primitive_fields": True,
                       "preserve_proto_field_names": True},
             "ignore_unknown_query_parameters": True, "stream": "ndjson"}

    def test_print_options(self):
        status, _, body = self.call("GET", "/v1/items/x?cachebust=1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["display_name"], "item-x")
        self.assertEqual(body["count"], "0")
        self.assertEqual(body["active"], False)
        self.assertEqual(body["color"], "COLOR_UNSPECIFIED")

    def test_ndjson_stream(self):
        status, ctype, body = self.call("GET", "/v1/shelves/s/watch?count=2")
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/x-ndjson")
        lines = [json.loads(x) for x in body.decode().splitlines()]
        self.assertEqual([x["id"] for x in lines], ["w-0", "w-1"])


class TestTranscodeConfigErrors(unittest.TestCase):
    def check(self, tc):
        cfg = ("upstreams:\n  - name: svc\n    protocol: http2\n"
               "    targets: [\"127.0.0.1:1\"]\n"
               "routes:\n  - name: r\n    match: {paths: [\"/\"]}\n    upstream: svc\n"
               "    grpc_transcode:\n" + tc)
        code, out, err, path = run_check(cfg)
        self.assertNotEqual(code, 0)
        return out + err, path

    def test_missing_file(self):
        text, path = self.check("      descriptor: nope.pb\n")
        self.assertIn(path + ":10:19", text)
        self.assertIn("grpc_transcode.descriptor", text)

    def test_unknown_service_and_method_and_template(self):
        text, path = self.check(
            "      descriptor: %s\n      services: [gh.test.v1.Nope]\n"
            "      mapping:\n"
            "        - {method: gh.test.v1.Shelf/Nope, get: /x}\n"
            "        - {method: gh.test.v1.Shelf/Plain, get: \"/x/{\"}\n" % DESCRIPTOR)
        self.assertIn(path + ":11:18", text)
        self.assertIn("no service 'gh.test.v1.Nope'", text)
        self.assertIn(path + ":13:20", text)
        self.assertIn("mapping[0].method", text)
        self.assertIn(path + ":14:",  text)
        self.assertIn("mapping[1].get", text)

    def test_not_a_descriptor_set(self):
        bad = os.path.join(TMP, "bad.pb")
        with open(bad, "wb") as f:
            f.write(b"\xff\xff not protobuf")
        text, _ = self.check("      descriptor: %s\n" % bad)
        self.assertIn("not a FileDescriptorSet", text)

    def test_http1_upstream_refused(self):
        cfg = ("upstreams:\n  - name: svc\n    targets: [\"127.0.0.1:1\"]\n"
               "routes:\n  - name: r\n    match: {paths: [\"/\"]}\n    upstream: svc\n"
               "    grpc_transcode: {descriptor: %s}\n" % DESCRIPTOR)
        code, out, err, _ = run_check(cfg)
        self.assertNotEqual(code, 0)
        self.assertIn("protocol: http2", out + err)


def tearDownModule():
    shutil.rmtree(TMP, True)


if __name__ == "__main__":
    unittest.main()
