#!/usr/bin/env python3
"""Fake AWS credential endpoints on loopback (stdlib only) for the Bedrock
credential chain tests.

`FakeImds` is EC2 instance metadata v2: PUT /latest/api/token (needs
X-aws-ec2-metadata-token-ttl-seconds, answers a session token), then
GET /latest/meta-data/iam/security-credentials/ (the role name) and
/latest/meta-data/iam/security-credentials/ROLE (the credentials JSON), both
refused with 401 without the token, as IMDSv2 does.

`FakeContainer` is the ECS/EKS container credentials endpoint: GET on its path
answers the credentials JSON, 403 unless Authorization matches `auth_token`
(when set).

Both serve `creds` (set with `serve(...)`), answer `fail_status` instead when
set, and record every request (method, path, headers)."""

import datetime
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def expiring_in(seconds):
    return iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self):
        fake = self.server.fake
        headers = {k.lower(): v for k, v in self.headers.items()}
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with fake.lock:
            fake.requests.append({"method": self.command, "path": self.path, "headers": headers})
        return headers

    def do_PUT(self):
        self.server.fake.handle(self, "PUT", self._record())

    def do_GET(self):
        self.server.fake.handle(self, "GET", self._record())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class _Fake:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.fail_status = 0
        self.creds = None
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, akid, secret, token, expires_in_s):
        with self.lock:
            self.creds = {"AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
                          "Expiration": expiring_in(expires_in_s)}

    def take(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def count(self, method, path):
        with self.lock:
            return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)

    def _creds_body(self, extra):
        with self.lock:
            body = dict(self.creds or {})
        body.update(extra)
        return json.dumps(body)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeImds(_Fake):
    def __init__(self, role="gatehouse-role"):
        super().__init__()
        self.role = role
        self.tokens = set()

    def handle(self, h, method, headers):
        if self.fail_status:
            return h._send(self.fail_status, "fake imds failure")
        if method == "PUT":
            if h.path != "/latest/api/token":
                return h._send(404, "not found")
            if not headers.get("x-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                return h._send(400, "missing ttl")
            tok = "imds-" + uuid.uuid4().hex
            with self.lock:
                self.tokens.add(tok)
            return h._send(200, tok)
        with self.lock:
            ok = headers.get("x-aws-ec2-metadata-token") in self.tokens
        if not ok:
            return h._send(401, "")
        if h.path == CREDS_PATH:
            return h._send(200, self.role)
        if h.path == CREDS_PATH + self.role:
            return h._send(200, self._creds_body({"Code": "Success", "Type": "AWS-HMAC",
                                                  "LastUpdated": expiring_in(0)}),
                           "application/json")
        return h._send(404, "not found")


class FakeContainer(_Fake):
    def __init__(self, path="/v1/credentials", auth_token=None):
        super().__init__()
        self.path = path
        self.auth_token = auth_token
        self.url = self.base_url + path

    def handle(self, h, method, headers):
        if method != "GET" or h.path != self.path:
            return h._send(404, "not found")
        if self.auth_token is not None and headers.get("authorization") != self.auth_token:
            return h._send(403, json.dumps({"code": "AccessDenied", "message": "bad token"}),
                           "application/json")
        if self.fail_status:
            return h._send(self.fail_status, "fake container failure")
        return h._send(200, self._creds_body({"RoleArn": "arn:aws:iam::123456789012:role/task"}),
                       "application/json")
