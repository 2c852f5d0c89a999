#!/usr/bin/env python3
"""Open N keep-alive connections, use each once, then hold them all idle.

    idle_conns.py HOST PORT N [PATH]

Each connection sends one `GET PATH HTTP/1.1` and reads the whole response
(Content-Length or chunked), so the server sees a *used* keep-alive
connection, the kind a real client pool leaves behind. Connections are opened
in batches (BATCH env, default 100) so listen backlogs never overflow. When
all N are established and answered, prints "ready N" on stdout and sleeps
until SIGTERM/SIGINT, then closes everything. Exit status 1 if any
connection failed.
"""
import os
import resource
import signal
import socket
import sys
import time


def read_response(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if len(status) < 2 or not status[1].startswith(b"2"):
        raise ConnectionError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if b"content-length" in headers:
        want = int(headers[b"content-length"])
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside the body")
            body += chunk
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside the chunked body")
            body += chunk
    if headers.get(b"connection", b"").lower() == b"close":
        raise ConnectionError("server does not keep the connection alive")


def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/small"
    batch = int(os.environ.get("BATCH", "100"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(n + 64, soft)), hard))

    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: idle-conns\r\n\r\n".encode()
    socks = []
    started = time.monotonic()
    while len(socks) < n:
        group = []
        for _ in range(min(batch, n - len(socks))):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect((host, port))
            group.append(s)
        for s in group:
            s.sendall(request)
        for s in group:
            read_response(s)
        socks.extend(group)
    elapsed = time.monotonic() - started
    print(f"ready {len(socks)} ({elapsed:.1f}s)", flush=True)

    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop:
        time.sleep(0.2)
    for s in socks:
        s.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report and fail: a half-open set measures nothing
        print(f"error {e}", flush=True)
        sys.exit(1)
