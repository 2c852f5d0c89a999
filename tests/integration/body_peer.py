"""A small raw-socket HTTP/1.1 peer for the body-transform, stream-timeout
and cache tests: it shows the exact request body it got and frames its
answers on demand (Content-Length, chunked with extensions and trailers,
close-delimited)."""

import gzip
import json
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

DOC = {"id": 1, "secret": "s3cr3t", "price": 19.99,
       "user": {"mail": "bob@example.com"}, "items": [{"id": 1, "internal": "x"}]}
DOC_TEXT = json.dumps(DOC)


class Peer:
    """HTTP/1.1 on raw sockets. POST /echo answers {"body": <request body as
    text>, "headers": [[k, v]...]}; GET /doc?mode=cl|chunked|close|gzip|text|
    bad|big answers DOC framed that way; GET /sse?n=N&gap_ms=G&hold_ms=H sends
    N events G ms apart, waits H ms, then ends the chunked body; GET /cached?cc=
    &vary=&cookie=1&pad=N&chunked=1 answers {"served": <how many /cached requests
    it served>, "lang": <Accept-Language>} with those response headers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stopped = False
        self.served = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.sock.close()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:]]
                hmap = {k.lower(): v for k, v in headers}
                body = b""
                if "content-length" in hmap:
                    n = int(hmap["content-length"])
                    while len(buf) < n:
                        buf += c.recv(65536)
                    body, buf = buf[:n], buf[n:]
                elif hmap.get("transfer-encoding", "").lower() == "chunked":
                    raise AssertionError("the gateway sent a chunked body")
                if not self._answer(c, method, target, headers, body):
                    return
        except OSError:
            pass
        finally:
            c.close()

    @staticmethod
    def _send(c, status, headers, body=b"", framing="cl"):
        h = "HTTP/1.1 %d X\r\n" % status + "".join("%s: %s\r\n" % kv for kv in headers)
        if framing == "cl":
            c.sendall((h + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body)
        elif framing == "chunked":
            out = (h + "Transfer-Encoding: chunked\r\n\r\n").encode()
            for i in range(0, len(body), 7):  # small chunks: every boundary case
                piece = body[i:i + 7]
                out += b"%x;ext=1\r\n%s\r\n" % (len(piece), piece)
            c.sendall(out + b"0\r\nX-Trailer: t\r\n\r\n")
        else:  # close-delimited
            c.sendall((h + "Connection: close\r\n\r\n").encode() + body)
            return False
        return True

    def _answer(self, c, method, target, headers, body):
        u = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        jt = [("Content-Type", "application/json")]
        if u.path == "/echo":
            out = json.dumps({"body": body.decode("utf-8", "replace"),
                              "headers": headers}).encode()
            return self._send(c, 200, jt, out)
        if u.path == "/doc":
            mode = q.get("mode", "cl")
            if mode == "gzip":
                return self._send(c, 200, jt + [("Content-Encoding", "gzip")],
                                  gzip.compress(DOC_TEXT.encode()))
            if mode == "text":
                return self._send(c, 200, [("Content-Type", "text/plain")], DOC_TEXT.encode())
            if mode == "bad":
                return self._send(c, 200, jt, b'{"secret": ')
            if mode == "big":
                big = dict(DOC, pad="p" * 5000)
                return self._send(c, 200, jt + [("ETag", '"v1"')], json.dumps(big).encode())
            return self._send(c, 200, jt + [("ETag", '"v1"')], DOC_TEXT.encode(), mode)
        if u.path == "/sse":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(int(q.get("n", "3"))):
                ev = b"data: %d\n\n" % i
                c.sendall(b"%x\r\n%s\r\n" % (len(ev), ev))
                time.sleep(int(q.get("gap_ms", "50")) / 1000)
            time.sleep(int(q.get("hold_ms", "0")) / 1000)
            c.sendall(b"0\r\n\r\n")
            return True
        if u.path == "/cached":
            with self.lock:
                self.served += 1
                n = self.served
            lang = next((v for k, v in headers if k.lower() == "accept-language"), "")
            h = list(jt)
            if "cc" in q:
                h.append(("Cache-Control", q["cc"]))
            if "vary" in q:
                h.append(("Vary", q["vary"]))
            if q.get("cookie"):
                h.append(("Set-Cookie", "s=1"))
            out = json.dumps({"served": n, "lang": lang,
                              "pad": "p" * int(q.get("pad", "0"))}).encode()
            return self._send(c, 200, h, out, "chunked" if q.get("chunked") else "cl")
        return self._send(c, 404, jt, b"{}")
