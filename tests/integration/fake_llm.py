#!/usr/bin/env python3
"""Fake LLM providers on loopback (stdlib only) for the AI gateway tests.

FakeLLM("openai") answers POST .../v1/chat/completions in OpenAI Chat format,
FakeLLM("anthropic") answers POST .../v1/messages in Anthropic Messages format,
FakeLLM("gemini") answers POST .../models/{model}:generateContent and
:streamGenerateContent?alt=sse in Gemini's format, FakeLLM("azure") answers
Azure OpenAI's /openai/v1/ and /openai/deployments/{d}/ paths in OpenAI's,
FakeLLM("ollama") answers POST /api/chat in Ollama's (NDJSON streams),
all streaming (SSE, chunked) and not. Every request is recorded (path,
lower-case headers, JSON body) so tests can assert on the translation and on
which credentials reached the provider. `fail_status` makes every request fail
with that status and a provider-shaped error body (`fail_headers` added to it,
e.g. Retry-After; `fail_count` > 0 fails only that many requests). `tls=(certfile, keyfile)`
serves HTTPS; `connections` counts accepted connections (keep-alive reuse);
`drop_after_response` closes each connection after its response without
announcing it (a provider's idle keep-alive timeout in miniature). `delay`
(seconds) holds every answer back that long before its head (a slow first
token); `delay_count` > 0 delays only that many requests. `gate` (a
threading.Event) holds every request until it is set (concurrency tests).
"""

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL = {"name": "get_weather", "args": {"city": "Paris"}}


class _Cut(Exception):
    """Raised to drop the connection mid-stream (cut_after frames)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def do_POST(self):
        fake = self.server.fake
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        rec = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "raw": raw}
        with fake.lock:
            fake.requests.append(rec)
            fake.inflight += 1
            fake.max_inflight = max(fake.max_inflight, fake.inflight)
            delay = fake.delay if fake.delay_count != 0 else 0
            if fake.delay_count > 0:
                fake.delay_count -= 1
        try:
            if delay:
                time.sleep(delay)
            gate = fake.gate
            if gate is not None:
                gate.wait(60)
            return self._answer(fake, body)
        finally:
            with fake.lock:
                fake.inflight -= 1

    def _answer(self, fake, body):
        if fake.fail_status:
            with fake.lock:
                fail = fake.fail_count != 0
                if fake.fail_count > 0:
                    fake.fail_count -= 1
            if fail:
                return self._error(fake.fail_status)
        self._frames = 0
        try:
            if fake.kind == "gemini":
                return self._gemini(body)
            if fake.kind == "ollama":
                if self.path != "/api/chat":
                    return self._error(404)
                return self._ollama(body)
            if fake.kind == "azure":
                path = self.path.split("?")[0]
                if path.endswith("/embeddings"):
                    return self._embeddings(body)
                if not path.endswith("/chat/completions"):
                    return self._error(404)
                return self._openai(body)
            if fake.kind == "openai" and self.path.endswith("/v1/embeddings"):
                return self._embeddings(body)
            if fake.kind == "openai":
                if not self.path.endswith("/v1/chat/completions"):
                    return self._error(404)
                return self._openai(body)
            if not self.path.endswith("/v1/messages"):
                return self._error(404)
            return self._anthropic(body)
        except _Cut:
            self.close_connection = True  # the socket closes with no terminal chunk
        finally:
            if fake.drop_after_response:
                self.close_connection = True

    # -- plumbing

    def _json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, text):
        cut = self.server.fake.cut_after
        if cut and self._frames >= cut:
            raise _Cut()
        self._frames += 1
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _error(self, status):
        fake = self.server.fake
        msg = "fake %s error %d" % (fake.kind, status)
        hdrs = list(fake.fail_headers.items())
        if fake.kind in ("openai", "azure"):
            etype = "rate_limit_error" if status == 429 else (
                "invalid_request_error" if status < 500 else "server_error")
            return self._json(status, {"error": {"message": msg, "type": etype, "param": None,
                                                 "code": "fake_%d" % status}}, hdrs)
        if fake.kind == "ollama":
            return self._json(status, {"error": msg}, hdrs)
        if fake.kind == "gemini":
            gstatus = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                       429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
            return self._json(status, {"error": {"code": status, "message": msg,
                                                 "status": gstatus}}, hdrs)
        etype = {400: "invalid_request_error", 401: "authentication_error",
                 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return self._json(status, {"type": "error", "error": {"type": etype, "message": msg}},
                          hdrs)

    # -- OpenAI Chat

    def _embeddings(self, req):
        inputs = req["input"] if isinstance(req["input"], list) else [req["input"]]
        table = self.server.fake.embedding_table
        if table is not None and any(t not in table for t in inputs):
            return self._json(400, {"error": {"message": "no vector for this text",
                                              "type": "invalid_request_error"}})
        data = [{"object": "embedding", "index": i,
                 "embedding": table[t] if table is not None else [0.25, -0.5, float(len(t))]}
                for i, t in enumerate(inputs)]
        return self._json(200, {"object": "list", "data": data, "model": req["model"] + "-served",
                                "usage": {"prompt_tokens": 7 * len(inputs),
                                          "total_tokens": 7 * len(inputs)}})

    def _openai(self, req):
        fake = self.server.fake
        text = fake.reply
        tools = bool(req.get("tools"))
        usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18,
                 "prompt_tokens_details": {"cached_tokens": 2},
                 "completion_tokens_details": {"reasoning_tokens": 0}}
        if not req.get("stream"):
            msg = {"role": "assistant", "content": None if tools else text}
            if tools:
                msg["tool_calls"] = [{"id": "call_fake1", "type": "function",
                                      "function": {"name": TOOL["name"],
                                                   "arguments": json.dumps(fake.tool_args)}}]
            return self._json(200, {
                "id": "chatcmpl-fake1", "object": "chat.completion", "created": 1700000000,
                "model": req.get("model"),
                "choices": [{"index": 0, "message": msg,
                             "finish_reason": "tool_calls" if tools else "stop"}],
                "system_fingerprint": "fp_fake", "usage": usage})
        self._start_sse()

        def chunk(delta, finish=None, **extra):
            obj = {"id": "chatcmpl-fake1", "object": "chat.completion.chunk",
                   "created": 1700000000, "model": req.get("model"),
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            obj.update(extra)
            self._chunk("data: %s\n\n" % json.dumps(obj))

        chunk({"role": "assistant", "content": ""})
        if tools:
            args = json.dumps(fake.tool_args)
            chunk({"tool_calls": [{"index": 0, "id": "call_fake1", "type": "function",
                                   "function": {"name": TOOL["name"], "arguments": ""}}]})
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[:6]}}]})
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[6:]}}]})
            chunk({}, "tool_calls")
        else:
            for piece in text.split(" "):
                chunk({"content": piece + " "} if piece != text.split(" ")[-1]
                      else {"content": piece})
            chunk({}, "stop")
        if (req.get("stream_options") or {}).get("include_usage"):
            self._chunk("data: %s\n\n" % json.dumps({
                "id": "chatcmpl-fake1", "object": "chat.completion.chunk",
                "created": 1700000000, "model": req.get("model"), "choices": [],
                "usage": usage}))
        self._chunk("data: [DONE]\n\n")
        self._end()

    # -- Google Gemini

    def _gemini(self, req):
        fake = self.server.fake
        path, _, query = self.path.partition("?")
        if ":" not in path or "/models/" not in path:
            return self._error(404)
        model, method = path.rsplit("/models/", 1)[1].split(":", 1)
        stream = method == "streamGenerateContent"
        if method not in ("generateContent", "streamGenerateContent") or \
                (stream and query != "alt=sse"):
            return self._error(404)
        decls = [d for t in (req.get("tools") or []) for d in t.get("functionDeclarations", [])]
        usage = {"promptTokenCount": 21, "candidatesTokenCount": 6, "totalTokenCount": 31,
                 "cachedContentTokenCount": 5, "thoughtsTokenCount": 4}

        def chunk(parts, finish=None, usage_now=None):
            cand = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                cand["finishReason"] = finish
            obj = {"candidates": [cand], "modelVersion": model + "-001",
                   "responseId": "gemfake1"}
            if usage_now:
                obj["usageMetadata"] = usage_now
            return obj

        call = [{"functionCall": {"name": TOOL["name"], "args": TOOL["args"]}}]
        if not stream:
            parts = call if decls else [{"text": fake.reply}]
            return self._json(200, chunk(parts, "STOP", usage))
        self._start_sse()
        if decls:
            self._chunk("data: %s\r\n\r\n" % json.dumps(chunk(call, "STOP", usage)))
        else:
            words = fake.reply.split(" ")
            for i, w in enumerate(words):
                last = i + 1 == len(words)
                part = [{"text": w + ("" if last else " ")}]
                partial = dict(usage, candidatesTokenCount=i + 1)
                self._chunk("data: %s\r\n\r\n" % json.dumps(
                    chunk(part, "STOP" if last else None, usage if last else partial)))
        self._end()

    # -- Ollama

    def _ollama(self, req):
        fake = self.server.fake
        tools = bool(req.get("tools"))
        counts = {"prompt_eval_count": 17, "eval_count": 8, "total_duration": 1000,
                  "eval_duration": 500}

        def obj(message, done, **extra):
            o = {"model": req.get("model"), "created_at": "2025-06-01T10:00:00Z",
                 "message": dict({"role": "assistant", "content": ""}, **message), "done": done}
            o.update(extra)
            return o

        calls = [{"function": {"name": TOOL["name"], "arguments": TOOL["args"]}}]
        if req.get("stream") is False:
            msg = {"tool_calls": calls} if tools else {"content": fake.reply}
            return self._json(200, obj(msg, True, done_reason="stop", **counts))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if tools:
            self._chunk(json.dumps(obj({"tool_calls": calls}, False)) + "\n")
        else:
            words = fake.reply.split(" ")
            for i, w in enumerate(words):
                self._chunk(json.dumps(obj(
                    {"content": w + (" " if i + 1 < len(words) else "")}, False)) + "\n")
        self._chunk(json.dumps(obj({}, True, done_reason="stop", **counts)) + "\n")
        self._end()

    # -- Anthropic Messages

    def _anthropic(self, req):
        fake = self.server.fake
        text = fake.reply
        tools = bool(req.get("tools"))
        usage = {"input_tokens": 13, "output_tokens": 9, "cache_read_input_tokens": 3,
                 "cache_creation_input_tokens": 0}
        if not req.get("stream"):
            content = ([{"type": "tool_use", "id": "toolu_fake1", "name": TOOL["name"],
                         "input": fake.tool_args}] if tools else [{"type": "text", "text": text}])
            return self._json(200, {
                "id": "msg_fake1", "type": "message", "role": "assistant",
                "model": req.get("model"), "content": content,
                "stop_reason": "tool_use" if tools else "end_turn", "stop_sequence": None,
                "usage": usage})
        self._start_sse()

        def ev(name, obj):
            obj = dict(obj, type=name)
            self._chunk("event: %s\ndata: %s\n\n" % (name, json.dumps(obj)))

        ev("message_start", {"message": {
            "id": "msg_fake1", "type": "message", "role": "assistant", "model": req.get("model"),
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": dict(usage, output_tokens=1)}})
        if tools:
            ev("content_block_start", {"index": 0, "content_block": {
                "type": "tool_use", "id": "toolu_fake1", "name": TOOL["name"], "input": {}}})
            args = json.dumps(fake.tool_args)
            ev("content_block_delta", {"index": 0, "delta": {"type": "input_json_delta",
                                                             "partial_json": args[:6]}})
            ev("ping", {})
            ev("content_block_delta", {"index": 0, "delta": {"type": "input_json_delta",
                                                             "partial_json": args[6:]}})
        else:
            ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            words = text.split(" ")
            for i, w in enumerate(words):
                ev("content_block_delta", {"index": 0, "delta": {
                    "type": "text_delta", "text": w + (" " if i + 1 < len(words) else "")}})
                if i == 0:
                    ev("ping", {})
        ev("content_block_stop", {"index": 0})
        ev("message_delta", {"delta": {"stop_reason": "tool_use" if tools else "end_turn",
                                       "stop_sequence": None},
                             "usage": {"output_tokens": usage["output_tokens"]}})
        ev("message_stop", {})
        self._end()


class _Server(ThreadingHTTPServer):
    def process_request(self, request, client_address):
        with self.fake.lock:
            self.fake.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # refused handshakes are part of the tests


class FakeLLM:
    def __init__(self, kind, reply=None, tls=None):
        assert kind in ("openai", "anthropic", "gemini", "azure", "ollama")
        self.kind = kind
        self.reply = reply or "Hello from the fake %s provider" % kind
        self.fail_status = 0
        self.fail_headers = {}
        self.fail_count = -1  # < 0: every request fails while fail_status is set
        self.cut_after = 0  # streams: drop the connection after this many frames
        self.drop_after_response = False
        self.delay = 0.0
        self.gate = None
        self.delay_count = -1  # < 0: every request is delayed while delay is set
        self.inflight = 0
        self.max_inflight = 0
        # text -> vector: the embeddings answered (tests choose similarities);
        # a text not in the table gets a 400. None: a vector from the length.
        self.embedding_table = None
        self.tool_args = TOOL["args"]  # the arguments of the tool call answered (OpenAI, Anthropic)
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            # The handshake runs in the handler's thread, not in accept().
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
            self.base_url = "https://localhost:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take(self):
        """The requests recorded so far, clearing the record."""
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
