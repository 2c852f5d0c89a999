#!/usr/bin/env python3
"""Transcoding beyond JSON (`grpc_transcode:`, docs/grpc.md): gRPC response
metadata reaching the JSON client as grpc-gateway sends it
(grpc-metadata-<key> from the upstream's headers, grpc-trailer-<key> from
its trailers: HTTP trailers when the client sent TE: trailers, header
fields otherwise; grpc-status/grpc-message never leaked as fields), and
google.api.HttpBody: raw request bodies with their Content-Type (the whole
message or the body field, beside path and query fields), raw answers with
the HttpBody's content type (the whole response or its response_body
field), server streaming of HttpBody chunks as they come, client streaming
of a large body in pieces, and the route's max_body as a precise 413.
The peer is transcode_peer.py (grpcio), the clients http.client, a raw
socket (trailers), curl over h2c and nghttp (HTTP/2 trailers)."""

import base64
import http.client
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_grpc_transcode as base  # noqa: E402  (re-executes with the system grpc first)


def b64(raw):
    """Base64 as gRPC sends -bin values (unpadded)."""
    return base64.b64encode(raw).decode().rstrip("=")


class TestTranscodeMetadata(base.TranscodeCase):
    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r, r.read()
        finally:
            c.close()

    def assert_no_grpc_fields(self, names):
        for n in names:
            n = n.lower()
            self.assertFalse(n.startswith("grpc-") and not n.startswith(("grpc-metadata-",
                                                                          "grpc-trailer-")), n)
            self.assertNotIn(n, ("grpc-metadata-content-type", "grpc-trailer-grpc-status",
                                 "grpc-trailer-grpc-message", "grpc-metadata-grpc-status"))

    def test_unary_headers_and_trailers_as_fields(self):
        r, body = self.get("/v1/items/meta")
        self.assertEqual(r.status, 200, body)
        self.assertEqual(json.loads(body)["id"], "meta")
        self.assertEqual(r.getheader("grpc-metadata-x-served-by"), "peer")
        self.assertEqual(r.getheader("grpc-metadata-x-blob-bin").rstrip("="),
                         b64(b"\x00\x01\xfe"))
        # No TE: trailers: the trailing metadata comes as header fields.
        self.assertEqual(r.getheader("grpc-trailer-x-cost"), "7")
        self.assertEqual(r.getheader("grpc-trailer-x-trail-bin").rstrip("="), b64(b"\xff\x00"))
        self.assertIsNone(r.getheader("grpc-status"))
        self.assertIsNone(r.getheader("grpc-message"))
        self.assert_no_grpc_fields([k for k, _ in r.getheaders()])

    def test_unary_trailers_as_http_trailers_when_asked(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/v1/items/meta", headers={"TE": "trailers"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.framing, "chunked")
        self.assertEqual(json.loads(r.body)["id"], "meta")
        self.assertEqual(r.header("grpc-metadata-x-served-by"), "peer")
        self.assertIsNone(r.header("grpc-trailer-x-cost"))
        trailers = {k.lower(): v for k, v in r.trailers}
        self.assertEqual(trailers.get("grpc-trailer-x-cost"), "7")
        self.assertIn("grpc-trailer-x-trail-bin", trailers)
        self.assertNotIn("grpc-status", trailers)
        announced = r.header("trailer", "").lower()
        self.assertIn("grpc-trailer-x-cost", announced)

    def test_plain_call_has_no_metadata_fields(self):
        r, _ = self.get("/v1/items/plainmeta")
        self.assertEqual(r.status, 200)
        names = [k.lower() for k, _ in r.getheaders()]
        self.assertFalse([n for n in names if n.startswith("grpc-")], names)

    def test_error_trailers_only_metadata(self):
        r, body = self.get("/v1/fail/5?message=meta")
        self.assertEqual(r.status, 404, body)
        self.assertEqual(json.loads(body), {"code": 5, "message": "meta", "details": []})
        # A trailers-only answer: its metadata is trailing metadata.
        self.assertEqual(r.getheader("grpc-trailer-x-why"), "because")
        self.assertIsNone(r.getheader("grpc-metadata-x-why"))
        self.assertIsNone(r.getheader("grpc-status"))
        self.assertIsNone(r.getheader("grpc-trailer-grpc-status-details-bin"))
        self.assert_no_grpc_fields([k for k, _ in r.getheaders()])

    def test_error_details_not_leaked_as_fields(self):
        r, body = self.get("/v1/fail/9?message=x&details=true")
        self.assertEqual(r.status, 400)
        self.assertEqual(len(json.loads(body)["details"]), 1)
        self.assert_no_grpc_fields([k for k, _ in r.getheaders()])

    def test_streaming_headers_then_trailers(self):
        with self.gh.raw() as c:
            r = c.request("GET", "/v1/shelves/meta/watch?count=2", headers={"TE": "trailers"})
        self.assertEqual(r.status, 200)
        self.assertEqual([i["id"] for i in json.loads(r.body)], ["w-0", "w-1"])
        self.assertEqual(r.header("grpc-metadata-x-served-by"), "peer")
        trailers = {k.lower(): v for k, v in r.trailers}
        self.assertEqual(trailers.get("grpc-trailer-x-cost"), "7")
        # Without TE: trailers the stream's trailing metadata is dropped
        # (the head went before it existed).
        r, body = self.get("/v1/shelves/meta/watch?count=1")
        self.assertEqual(r.getheader("grpc-metadata-x-served-by"), "peer")
        self.assertIsNone(r.getheader("grpc-trailer-x-cost"))

    def test_http2_client_gets_trailers(self):
        # Over HTTP/2 the trailers are a HEADERS frame after the DATA.
        p = subprocess.run(["nghttp", "-v", "-H", "te: trailers",
                            "http://127.0.0.1:%d/v1/items/meta" % self.gh.proxy_port],
                           capture_output=True, timeout=20)
        out = p.stdout.decode("latin-1")
        self.assertIn("grpc-metadata-x-served-by: peer", out)
        data_at = out.find("recv DATA")
        trailer_at = out.find("grpc-trailer-x-cost: 7")
        self.assertGreater(data_at, 0, out)
        self.assertGreater(trailer_at, data_at, out)
        self.assertNotIn("grpc-status", out.replace("grpc-trailer-", ""), out)

    def test_request_headers_become_metadata(self):
        self.get("/v1/items/md", headers={"x-tenant": "t1", "x-blob-bin": b64(b"\x01\x02")})
        md = self.peer.metadata["GetItem"]
        self.assertEqual(md.get("x-tenant"), "t1")
        self.assertEqual(md.get("x-blob-bin"), b"\x01\x02")


class TestTranscodeHttpBody(base.TranscodeCase):
    def call(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.getheader("content-type"), r.read()
        finally:
            c.close()

    def test_download_raw_answer(self):
        status, ctype, body = self.call("GET", "/v1/raw/reports/q1.csv")
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "text/csv")
        self.assertEqual(body, b"file:reports/q1.csv\x00\xff")
        status, ctype, body = self.call("GET", "/v1/raw/blob")
        self.assertEqual(ctype, "application/x-test")
        # An HttpBody with no content type: application/octet-stream.
        status, ctype, body = self.call("GET", "/v1/raw/empty")
        self.assertEqual((status, ctype, body), (200, "application/octet-stream", b""))

    def test_download_error_is_json(self):
        status, ctype, body = self.call("GET", "/v1/raw/missing")
        self.assertEqual(status, 404)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body)["code"], 5)

    def test_upload_body_field_beside_path_and_query(self):
        data = bytes(range(256)) * 3
        status, ctype, body = self.call("POST", "/v1/shelves/s9/files?name=pic%201", data,
                                        {"content-type": "image/png"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"id": "pic 1", "shelf": "s9",
                                            "displayName": "image/png", "count": "768"})
        req = self.peer.calls["Upload"]
        self.assertEqual(req.file.data, data)
        self.assertEqual(req.file.content_type, "image/png")

    def test_upload_rejects_unknown_query(self):
        status, ctype, body = self.call("POST", "/v1/shelves/s/files?nosuch=1", b"x",
                                        {"content-type": "text/plain"})
        self.assertEqual(status, 400)
        self.assertEqual(ctype, "application/problem+json")
        self.assertEqual(json.loads(body)["field"], "nosuch")

    def test_raw_echo_large_binary(self):
        data = os.urandom(1024 * 1024 + 7)
        status, ctype, body = self.call("POST", "/v1/raw-echo", data,
                                        {"content-type": "application/vnd.test+bin"})
        self.assertEqual(status, 200)
        self.assertEqual(ctype, "application/vnd.test+bin")
        self.assertEqual(body, data)
        # Not JSON at all, and not parsed as such.
        status, ctype, body = self.call("POST", "/v1/raw-echo", b'{"id": ',
                                        {"content-type": "text/plain"})
        self.assertEqual((status, ctype, body), (200, "text/plain", b'{"id": '))

    def test_body_over_max_body_is_413(self):
        # The declared length is enough: the answer comes before the body
        # (a client writing it all would see the connection closed under it).
        with self.gh.raw() as c:
            c.send("POST /v1/raw-echo HTTP/1.1\r\nHost: t\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\n\r\n" % (4 * 1024 * 1024 + 1))
            c.send(b"x" * 65536)
            r = c.read_response()
        self.assertEqual(r.status, 413)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        doc = r.json()
        self.assertEqual(doc["code"], "body_too_large")
        self.assertIn("grpc_transcode.max_body", doc["detail"])
        self.assertIn(str(4 * 1024 * 1024), doc["detail"])

    def test_response_body_field(self):
        status, ctype, body = self.call("GET", "/v1/attachments/a7")
        self.assertEqual((status, ctype, body), (200, "application/pdf", b"%PDF-a7"))

    def test_streamed_chunks_arrive_as_sent(self):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("GET", "/v1/shelves/s/raw-stream?count=4")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("content-type"), "text/plain")
            self.assertEqual(r.getheader("transfer-encoding"), "chunked")
            first = r.read1(65536)
            self.assertEqual(first, b"chunk-0\n")  # raw bytes, no JSON around them
            rest = first + r.read()
            self.assertEqual(rest, b"".join(b"chunk-%d\n" % i for i in range(4)))
        finally:
            c.close()

    def test_stream_error_cuts_the_body(self):
        c = http.client.HTTPConnection("127.0.0.1", self.gh.proxy_port, timeout=20)
        try:
            c.request("GET", "/v1/shelves/s/raw-stream?count=4&fail_after=2")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            with self.assertRaises(http.client.IncompleteRead) as cm:
                r.read()
            self.assertEqual(cm.exception.partial, b"chunk-0\nchunk-1\n")
        finally:
            c.close()

    def test_empty_stream(self):
        status, ctype, body = self.call("GET", "/v1/shelves/s/raw-stream?count=0")
        self.assertEqual((status, ctype, body), (200, "application/octet-stream", b""))

    def test_client_streaming_in_pieces(self):
        data = os.urandom(2 * 1024 * 1024 + 512 * 1024)
        status, _, body = self.call("POST", "/v1/upload-stream", data,
                                    {"content-type": "video/mp4"})
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        self.assertEqual(doc["displayName"], "video/mp4")
        self.assertEqual(doc["count"], str(len(data)))
        self.assertEqual(doc["tags"], ["3"])  # 1 MiB messages
        self.assertEqual(b"".join(p.data for p in self.peer.calls["UploadStream"]), data)

    def test_http2_client(self):
        p = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-D", "-",
                            "--data-binary", "@-", "-H", "content-type: application/x-raw",
                            "http://127.0.0.1:%d/v1/raw-echo" % self.gh.proxy_port],
                           input=b"\x00raw\xffbytes", capture_output=True, timeout=20)
        head, _, body = p.stdout.partition(b"\r\n\r\n")
        self.assertIn(b"HTTP/2 200", head)
        self.assertIn(b"content-type: application/x-raw", head.lower())
        self.assertEqual(body, b"\x00raw\xffbytes")


def tearDownModule():
    base.tearDownModule()


if __name__ == "__main__":
    unittest.main()
