"""Integration-test harness: run the real gatehouse binary against real peers.

Standard library only. Pieces:
  to_yaml(obj)          block-style YAML from dicts/lists/scalars
  Gatehouse             writes the config, starts `gatehouse serve` on port 0,
                        waits for both "listening" log lines, drains stderr
                        (JSON logs) and stdout (JSON access log) in threads
  RawClient             exact bytes in, properly framed responses out
  http_request          one request over http.client
  parse_metrics         Prometheus text -> samples
  Nginx                 Debian's nginx as a second real upstream
  rss_kib(pid)          VmRSS from /proc
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("GATEHOUSE_SOURCE") or os.path.dirname(os.path.dirname(HERE))


def gatehouse_bin():
    b = os.environ.get("GATEHOUSE_BIN") or os.path.join(SOURCE, "build", "gatehouse")
    if not os.path.exists(b):
        raise RuntimeError("gatehouse binary not found at %s (set GATEHOUSE_BIN)" % b)
    return os.path.abspath(b)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout=10.0, interval=0.05):
    """Polls pred() until it returns something truthy; returns that value or None."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


# ---------------------------------------------------------------------- YAML


def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))  # a YAML double-quoted scalar


def _is_scalar(v):
    return not isinstance(v, (dict, list, tuple))


def to_yaml(obj, indent=0):
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if _is_scalar(v):
                out.append("%s%s: %s" % (pad, k, _scalar(v)))
            elif not v:
                out.append("%s%s: %s" % (pad, k, "{}" if isinstance(v, dict) else "[]"))
            elif isinstance(v, (list, tuple)) and all(_is_scalar(x) for x in v):
                out.append("%s%s: [%s]" % (pad, k, ", ".join(_scalar(x) for x in v)))
            else:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 1))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            if _is_scalar(item):
                out.append("%s- %s" % (pad, _scalar(item)))
            else:
                sub = to_yaml(item, indent + 1).split("\n")
                sub[0] = pad + "- " + sub[0].lstrip()
                out.append("\n".join(sub))
    else:
        out.append(pad + _scalar(obj))
    return "\n".join(out)


def simple_config(targets, routes=None, upstream_extra=None, top_extra=None, name="svc"):
    """One upstream `name` with `targets` (addresses) and routes (default: all paths)."""
    up = {"name": name, "targets": [{"address": t, "weight": 1} for t in targets]}
    if upstream_extra:
        up.update(upstream_extra)
    if routes is None:
        routes = [{"name": "all", "match": {"paths": ["/"]}, "upstream": name}]
    cfg = {}
    if top_extra:
        cfg.update(top_extra)
    cfg["upstreams"] = [up]
    cfg["routes"] = routes
    return cfg


# ---------------------------------------------------------------- responses


class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []  # [(name, value)] in wire order
        self.body = b""
        self.body_length = 0
        self.framing = ""  # "none" | "length" | "chunked" | "close"
        self.trailers = []
        self.interim = []  # 1xx responses that preceded this one

    def header(self, name, default=None):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return default

    def headers_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %s %r body=%r>" % (self.status, self.reason, self.headers,
                                                  self.body[:300])


class ConnectionClosed(Exception):
    pass


class RawClient:
    """A client socket speaking exact bytes, reading responses with real framing."""

    def __init__(self, port, host="127.0.0.1", timeout=15.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionClosed("peer closed the connection")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = self.buf[:i]
                self.buf = self.buf[i + 2:]
                return line
            self._fill()

    def _head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = self.buf[:i]
                self.buf = self.buf[i + 4:]
                return head
            self._fill()

    def _take(self, n):
        """Up to n buffered-or-received bytes (at least 1)."""
        if not self.buf:
            self._fill()
        piece = self.buf[:n]
        self.buf = self.buf[len(piece):]
        return piece

    def read_head(self):
        head = self._head().decode("latin-1")
        lines = head.split("\r\n")
        r = Response()
        first = lines[0].split(" ", 2)
        r.version = first[0]
        r.status = int(first[1])
        r.reason = first[2] if len(first) > 2 else ""
        for line in lines[1:]:
            k, _, v = line.partition(":")
            r.headers.append((k, v.strip(" \t")))
        return r

    def read_response(self, method="GET", sink=None, interim=True):
        """Reads one response. 1xx responses are collected in .interim when
        interim=True; with interim=False the first 1xx is returned as is.
        sink(bytes) receives the body instead of .body (for huge bodies)."""
        pre = []
        while True:
            r = self.read_head()
            if 100 <= r.status < 200 and r.status != 101:
                r.framing = "none"
                if not interim:
                    return r
                pre.append(r)
                continue
            break
        r.interim = pre
        chunks = []

        def feed(b):
            r.body_length += len(b)
            if sink:
                sink(b)
            else:
                chunks.append(b)

        te = r.header("transfer-encoding")
        cl = r.header("content-length")
        if method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200:
            r.framing = "none"
        elif te is not None:
            if te.strip().lower() != "chunked":
                raise AssertionError("unexpected transfer-encoding %r" % te)
            r.framing = "chunked"
            while True:
                size = int(self._line().split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        t = self._line()
                        if not t:
                            break
                        k, _, v = t.decode("latin-1").partition(":")
                        r.trailers.append((k, v.strip()))
                    break
                left = size
                while left:
                    piece = self._take(left)
                    feed(piece)
                    left -= len(piece)
                if self._line() != b"":
                    raise AssertionError("chunk not followed by CRLF")
        elif cl is not None:
            r.framing = "length"
            left = int(cl)
            while left:
                piece = self._take(min(left, 1 << 20))
                feed(piece)
                left -= len(piece)
        else:
            r.framing = "close"
            while True:
                try:
                    feed(self._take(1 << 20))
                except ConnectionClosed:
                    break
        r.body = b"".join(chunks)
        return r

    def request(self, method, path, headers=None, body=b"", host="gatehouse.test", **kw):
        """Sends a well-formed request and reads its response."""
        self.send(build_request(method, path, headers, body, host))
        return self.read_response(method, **kw)

    def is_closed(self, timeout=5.0):
        """True when the peer closes (EOF or reset) within timeout; unread
        bytes left by the server are discarded."""
        end = time.monotonic() + timeout
        self.buf = b""
        while time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False


def build_request(method, path, headers=None, body=b"", host="gatehouse.test", version="HTTP/1.1"):
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s %s" % (method, path, version)]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    if host is not None and "host" not in names:
        lines.append("Host: " + host)
    for k, v in hdrs:
        lines.append("%s: %s" % (k, v))
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ------------------------------------------------------------- http.client


class SimpleResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name, value)]
        self.body = body

    def header(self, name, default=None):
        n = name.lower()
        for k, v in self.headers:
            if k.lower() == n:
                return v
        return default

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<SimpleResponse %s %r %r>" % (self.status, self.headers, self.body[:300])


def http_request(port, method="GET", path="/", headers=None, body=None, timeout=15.0,
                 host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return SimpleResponse(r.status, r.getheaders(), data)
    finally:
        c.close()


# ---------------------------------------------------------------- metrics

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """-> [(name, {label: value}, float)]"""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(3) or ""))
        try:
            v = float(m.group(4))
        except ValueError:
            continue
        out.append((m.group(1), labels, v))
    return out


def metric_sum(samples, name, **labels):
    """Sum of samples named `name` whose labels include `labels`; None if none."""
    total = None
    for n, lab, v in samples:
        if n != name:
            continue
        if all(lab.get(k) == str(val) for k, val in labels.items()):
            total = (total or 0.0) + v
    return total


# --------------------------------------------------------------- gatehouse


class Gatehouse:
    """One `gatehouse serve` process with its own temp dir and config file.

    config=None runs from the config store instead (no -c): SQLite in
    <tmpdir>/data unless extra_args has --store. `env` adds environment
    variables (e.g. GATEHOUSE_ADMIN_TOKEN)."""

    def __init__(self, config, workers=2, extra_args=(), start=True, tmpdir=None, env=None):
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="gatehouse-it-")
        self.store_mode = config is None
        self.env = env or {}
        self.config_path = os.path.join(self.tmpdir, "gatehouse.yaml")
        self.data_dir = os.path.join(self.tmpdir, "data")
        self.workers = workers
        self.extra_args = list(extra_args)
        self.proc = None
        self.stderr_lines = []  # raw lines
        self.logs = []  # parsed JSON log lines
        self.access = []  # parsed access log lines (stdout)
        self.stdout_raw = []  # stdout lines that were not JSON
        self._lock = threading.Lock()
        self._threads = []
        self.proxy_port = None
        self.admin_port = None
        self.proxy_tls_port = None  # with --proxy-tls-listen / listeners.proxy_tls
        if not self.store_mode:
            self.write_config(config)
        if start:
            try:
                self.start()
            except BaseException:
                self.cleanup()
                raise

    # -- config

    def write_config(self, config, atomic=True):
        text = config if isinstance(config, str) else to_yaml(config) + "\n"
        if atomic:
            tmp = self.config_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, self.config_path)
        else:
            with open(self.config_path, "w") as f:
                f.write(text)
        return text

    # -- process

    def start(self, timeout=30.0):
        source = ([] if self.store_mode else ["-c", self.config_path])
        if self.store_mode and "--store" not in self.extra_args:
            source += ["--data-dir", self.data_dir]
        cmd = [gatehouse_bin(), "serve"] + source + [
               "--proxy-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
               "--workers", str(self.workers)] + self.extra_args
        env = dict(os.environ)
        env.update(self.env)
        self.logs = []
        self.proxy_port = self.admin_port = None
        self._terminating = False  # a restarted process gets its own SIGTERM in stop()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=self.tmpdir, env=env)
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stderr, True), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, False), daemon=True),
        ]
        for t in self._threads:
            t.start()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                for rec in self.logs:
                    if rec.get("msg") == "listening":
                        port = int(str(rec.get("address", "")).rsplit(":", 1)[-1])
                        if rec.get("listener") == "proxy":
                            self.proxy_port = port
                        elif rec.get("listener") == "admin":
                            self.admin_port = port
                        elif rec.get("listener") == "proxy_tls":
                            self.proxy_tls_port = port
            if self.proxy_port and self.admin_port:
                return
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the drain threads catch the last lines
                raise RuntimeError("gatehouse exited with %s before listening; stderr:\n%s"
                                   % (self.proc.returncode, self.stderr_text()))
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("gatehouse did not log both listeners; stderr:\n" + self.stderr_text())

    def _drain(self, pipe, is_stderr):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            rec = None
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    rec = None
            except ValueError:
                pass
            with self._lock:
                if is_stderr:
                    self.stderr_lines.append(line)
                    if rec is not None:
                        self.logs.append(rec)
                elif rec is not None:
                    self.access.append(rec)
                else:
                    self.stdout_raw.append(line)
        pipe.close()

    def stderr_text(self):
        with self._lock:
            return "\n".join(self.stderr_lines[-200:])

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if sig in (signal.SIGTERM, signal.SIGINT):
            self._terminating = True
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=30.0):
        """Waits for the process to exit by itself; returns the code or None."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=30.0):
        """SIGTERM and wait; returns the exit code (kills on timeout -> None)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            # A second SIGTERM may mean "exit now": send one only.
            if not getattr(self, "_terminating", False):
                self._terminating = True
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def stop_and_check(self, testcase=None, timeout=30.0):
        """Stops with SIGTERM and asserts exit code 0."""
        rc = self.stop(timeout)
        msg = "gatehouse exit code %r (want 0); stderr tail:\n%s" % (rc, self.stderr_text())
        try:
            if testcase is not None:
                testcase.assertEqual(rc, 0, msg)
            elif rc != 0:
                raise AssertionError(msg)
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    # -- logs

    def access_records(self):
        with self._lock:
            return list(self.access)

    def wait_access(self, pred, timeout=10.0):
        """First access-log record matching pred, waiting for the flush tick."""
        def find():
            for rec in self.access_records():
                if pred(rec):
                    return rec
            return None
        return wait_until(find, timeout)

    def log_records(self):
        with self._lock:
            return list(self.logs)

    def wait_log(self, pred, timeout=10.0):
        def find():
            for rec in self.log_records():
                if pred(rec):
                    return rec
            return None
        return wait_until(find, timeout)

    # -- clients

    def raw(self, timeout=15.0):
        return RawClient(self.proxy_port, timeout=timeout)

    def request(self, method="GET", path="/", headers=None, body=None, timeout=15.0):
        return http_request(self.proxy_port, method, path, headers, body, timeout)

    def admin(self, path, method="GET", timeout=10.0):
        return http_request(self.admin_port, method, path, None, None, timeout)

    def api(self, method, path, body=None, token=None, headers=None, timeout=10.0):
        """One admin API call: JSON body in (dict/list, or str/bytes as is),
        SimpleResponse out (.json() for the body)."""
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        h.update(headers or {})
        return http_request(self.admin_port, method, path, h, body, timeout)

    def metrics(self):
        r = self.admin("/metrics")
        if r.status != 200:
            raise AssertionError("GET /metrics -> %s %r" % (r.status, r.body[:300]))
        return parse_metrics(r.body.decode())

    def metric(self, name, **labels):
        return metric_sum(self.metrics(), name, **labels)


def check_problem(tc, resp, status, code=None):
    """Asserts an RFC 7807 problem+json error from the gateway."""
    tc.assertEqual(resp.status, status, resp)
    ctype = resp.header("content-type", "")
    tc.assertTrue(ctype.startswith("application/problem+json"), "content-type %r" % ctype)
    doc = json.loads(resp.body)
    for k in ("type", "title", "status", "detail", "code", "request_id"):
        tc.assertIn(k, doc, doc)
    tc.assertEqual(doc["status"], status, doc)
    if code is not None:
        tc.assertEqual(doc["code"], code, doc)
    return doc


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_check(config_text, name="config.yaml"):
    """`gatehouse check -c FILE` -> (exit code, stdout, stderr, path)."""
    d = tempfile.mkdtemp(prefix="gatehouse-check-")
    atexit.register(shutil.rmtree, d, True)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(config_text)
    p = subprocess.run([gatehouse_bin(), "check", "-c", path], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr, path


# Debian nginx as a test peer lives in nginx_peer.py; importable from here as before.
from nginx_peer import NGINX, Nginx  # noqa: E402,F401
