#!/usr/bin/env python3
"""A fake AWS Bedrock Runtime on loopback (stdlib only) for the AI gateway tests.

Answers POST /model/{modelId}/converse (JSON) and /model/{modelId}/converse-stream
(`application/vnd.amazon.eventstream`, framed here with Python's zlib CRC32, so
the gateway's decoder is checked against a second implementation). Every
request's SigV4 signature is verified independently of the gateway's signer,
from the AWS specification: canonical request (each path segment URI-encoded
again, sorted query, the signed headers trimmed and lower-cased, SHA-256 of the
body), string to sign, HMAC chain of the secret; a bad or missing signature is
answered 403 like AWS does. Requests are recorded with `sig_ok` and the access
key and session token they were signed with (`akid`, `token`); `add_key` makes
more key sets valid (credential rotation tests). `gate` (an Event) holds every
call until set, so a test can have many in flight at once.

InvokeModel (POST /model/{modelId}/invoke) answers the embeddings models:
Amazon Titan Text Embeddings (`{"inputText", "dimensions"?, "normalize"?}` ->
`{"embedding", "inputTextTokenCount"}`) and Cohere Embed (`{"texts",
"input_type"}` -> `{"embeddings", "id", "response_type", "texts"}`), with
request shapes checked like Bedrock's ValidationException does. Vectors are
`fake_vector(text, n)`: deterministic and exact in float32.
"""

import hashlib
import hmac
import json
import struct
import threading
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL = {"name": "get_weather", "args": {"city": "Paris"}}


# -- event stream framing (prelude, headers, payload, CRC32s)

def es_message(headers, payload):
    hb = b""
    for name, value in headers:
        n = name.encode()
        v = value.encode()
        hb += struct.pack(">B", len(n)) + n + b"\x07" + struct.pack(">H", len(v)) + v
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


def es_event(event_type, obj):
    return es_message([(":event-type", event_type), (":content-type", "application/json"),
                       (":message-type", "event")], json.dumps(obj).encode())


def es_exception(exc_type, message):
    return es_message([(":exception-type", exc_type), (":content-type", "application/json"),
                       (":message-type", "exception")],
                      json.dumps({"message": message}).encode())


# -- SigV4 verification, written from the spec (not from the gateway's code)

def _enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_check(method, raw_path, headers, body, secret, region, service="bedrock",
                session_token=None):
    """Returns None when the signature is right, else why not."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no AWS4-HMAC-SHA256 authorization"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    akid, date, reg, svc, term = fields["Credential"].split("/")
    amz_date = headers.get("x-amz-date", "")
    if (reg, svc, term) != (region, service, "aws4_request") or amz_date[:8] != date:
        return "bad credential scope %s" % fields["Credential"]
    signed = fields["SignedHeaders"].split(";")
    if signed != sorted(signed) or "host" not in signed or "x-amz-date" not in signed:
        return "host and x-amz-date must be signed, sorted: %s" % signed
    if session_token is not None:
        if headers.get("x-amz-security-token") != session_token or \
                "x-amz-security-token" not in signed:
            return "session token missing or unsigned"
    path, _, query = raw_path.partition("?")
    curi = "/".join(_enc(seg) for seg in path.split("/"))
    pairs = sorted((_enc(urllib.parse.unquote(k)), _enc(urllib.parse.unquote(v)))
                   for k, _, v in (q.partition("=") for q in query.split("&") if q))
    cquery = "&".join("%s=%s" % kv for kv in pairs)
    cheaders = "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    payload = hashlib.sha256(body).hexdigest()
    if headers.get("x-amz-content-sha256", payload) != payload:
        return "x-amz-content-sha256 does not match the body"
    creq = "\n".join([method, curi, cquery, cheaders, ";".join(signed), payload])
    scope = "/".join([date, region, service, "aws4_request"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, fields.get("Signature", "")):
        return "signature mismatch; canonical request was:\n" + creq
    return None


def fake_vector(text, n):
    """A deterministic vector for `text`, each value k/128 (exact in float32)."""
    out = []
    seed = text.encode()
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out.extend((b - 128) / 128.0 for b in seed)
    return out[:n]


def fake_token_count(text):
    return len(text.split())


class _Cut(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        akid = ""
        auth = headers.get("authorization", "")
        if "Credential=" in auth:
            akid = auth.split("Credential=", 1)[1].split("/", 1)[0]
        with fake.lock:
            secret, token = fake.keys.get(akid, (None, None))
        if secret is None:
            why = "unknown access key %r" % akid
        else:
            why = sigv4_check("POST", self.path, headers, raw, secret, fake.region,
                              session_token=token)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        rec = {"path": self.path, "headers": headers, "body": body, "sig_ok": why is None,
               "sig_error": why, "akid": akid, "token": headers.get("x-amz-security-token")}
        with fake.lock:
            fake.requests.append(rec)
        if why is not None:
            return self._error(403, "InvalidSignatureException", "The request signature we "
                               "calculated does not match the signature you provided. " + why)
        with fake.lock:
            fake.arrived += 1
        if fake.gate is not None:
            fake.gate.wait(60)  # held until the test lets every caller in flight go
        if fake.fail_status:
            return self._error(fake.fail_status,
                               "ThrottlingException" if fake.fail_status == 429 else
                               "InternalServerException", "fake bedrock error")
        parts = self.path.split("/")
        if len(parts) != 4 or parts[1] != "model" or parts[3] not in ("converse",
                                                                      "converse-stream", "invoke"):
            return self._error(404, "ResourceNotFoundException", "unknown path " + self.path)
        model = urllib.parse.unquote(parts[2])
        if parts[3] == "invoke":
            return self._invoke(model, body)
        self._frames = 0
        try:
            if parts[3] == "converse":
                return self._converse(model, body)
            return self._stream(model, body)
        except _Cut:
            self.close_connection = True

    def _json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, etype, message):
        return self._json(status, {"message": message},
                          [("x-amzn-ErrorType", etype + ":http://internal.amazon.com/coral/")])

    def _usage(self):
        return {"inputTokens": 13, "outputTokens": 5, "totalTokens": 18,
                "cacheReadInputTokens": 3, "cacheWriteInputTokens": 2}

    def _converse(self, model, req):
        fake = self.server.fake
        if req.get("toolConfig"):
            content = [{"text": "Let me check."},
                       {"toolUse": {"toolUseId": "tooluse_fake1", "name": TOOL["name"],
                                    "input": TOOL["args"]}}]
            stop = "tool_use"
        else:
            content = [{"text": fake.reply}]
            stop = "end_turn"
        return self._json(200, {"output": {"message": {"role": "assistant", "content": content}},
                                "stopReason": stop, "usage": self._usage(),
                                "metrics": {"latencyMs": 42}})

    def _invoke(self, model, req):
        if not isinstance(req, dict):
            return self._error(400, "ValidationException", "Malformed input request")
        if "titan-embed-text" in model:
            text = req.get("inputText")
            allowed = {"inputText", "dimensions", "normalize", "embeddingTypes"}
            if not isinstance(text, str) or set(req) - allowed:
                return self._error(400, "ValidationException",
                                   "Malformed input request: extraneous or missing keys")
            dims = req.get("dimensions", 1024)
            if dims not in (256, 512, 1024):
                return self._error(400, "ValidationException", "dimensions must be 256, 512 or 1024")
            vec = fake_vector(text, dims)
            return self._json(200, {"embedding": vec, "inputTextTokenCount": fake_token_count(text),
                                    "embeddingsByType": {"float": vec}})
        if "cohere.embed" in model:
            texts = req.get("texts")
            if (not isinstance(texts, list) or not 0 < len(texts) <= 96 or
                    not isinstance(req.get("input_type"), str)):
                return self._error(400, "ValidationException",
                                   "texts (1..96) and input_type are required")
            return self._json(200, {"embeddings": [fake_vector(t, 1024) for t in texts],
                                    "id": "emb-fake-1", "response_type": "embeddings_floats",
                                    "texts": texts})
        return self._error(400, "ValidationException", "model %s is not an embeddings model" % model)

    def _frame(self, data):
        cut = self.server.fake.cut_after
        if cut and self._frames >= cut:
            raise _Cut()
        self._frames += 1
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _stream(self, model, req):
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._frame(es_event("messageStart", {"role": "assistant"}))
        if fake.stream_exception:
            self._frame(es_exception(fake.stream_exception, "fake mid-stream failure"))
            self.wfile.write(b"0\r\n\r\n")
            return
        words = fake.reply.split(" ")
        for i, w in enumerate(words):
            self._frame(es_event("contentBlockDelta", {
                "contentBlockIndex": 0, "delta": {"text": w + ("" if i + 1 == len(words) else " ")}}))
        self._frame(es_event("contentBlockStop", {"contentBlockIndex": 0}))
        stop = "end_turn"
        if req.get("toolConfig"):
            stop = "tool_use"
            self._frame(es_event("contentBlockStart", {"contentBlockIndex": 1, "start": {
                "toolUse": {"toolUseId": "tooluse_fake1", "name": TOOL["name"]}}}))
            args = json.dumps(TOOL["args"])
            for piece in (args[:5], args[5:]):
                self._frame(es_event("contentBlockDelta", {
                    "contentBlockIndex": 1, "delta": {"toolUse": {"input": piece}}}))
            self._frame(es_event("contentBlockStop", {"contentBlockIndex": 1}))
        self._frame(es_event("messageStop", {"stopReason": stop}))
        self._frame(es_event("metadata", {"usage": self._usage(), "metrics": {"latencyMs": 42}}))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class FakeBedrock:
    def __init__(self, access_key="AKIDFAKEEXAMPLE", secret_key="fake/secret+key",
                 region="us-west-2", session_token=None, reply=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.session_token = session_token
        self.reply = reply or "Hello from the fake bedrock provider"
        self.fail_status = 0
        self.cut_after = 0
        self.stream_exception = ""
        self.gate = None  # a threading.Event: calls wait on it (concurrency tests)
        self.arrived = 0  # calls that reached the fake (signature checked)
        self.requests = []
        self.lock = threading.Lock()
        self.keys = {access_key: (secret_key, session_token)}
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_key(self, access_key, secret_key, session_token=None):
        """Makes another key set valid (session_token None: the token is not checked)."""
        with self.lock:
            self.keys[access_key] = (secret_key, session_token)

    def take(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
