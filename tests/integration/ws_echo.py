#!/usr/bin/env python3
"""A WebSocket echo peer (RFC 6455) on raw sockets, stdlib only.

  GET /ws          101, then echoes every text/binary frame (unmasked) and
                   answers close with close. Refuses (400) an upgrade without
                   Connection: Upgrade, Upgrade: websocket and a key.
  GET /ws-hello    101 and a text frame "hello" in the same write, then echo.
  GET /ws-refuse   403 with a small body (keep-alive), the upgrade refused.
  GET /ws-badaccept 101 with a wrong Sec-WebSocket-Accept.
  A Sec-WebSocket-Protocol offer gets its first protocol selected. A text
  message "big N" is answered with a binary frame of N bytes; the close
  codes received are kept in `closes`.

Importable: WsEcho (thread in this process), client helpers make_frame(),
read_frame(sock_file), accept_key(key).
"""

import base64
import hashlib
import os
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def make_frame(opcode, payload, mask):
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _read_exact(f, n):
    data = f.read(n)
    if data is None or len(data) < n:
        raise EOFError("connection closed mid-frame")
    return data


def read_frame(f):
    """-> (opcode, payload); raises EOFError when the stream ends."""
    b0, b1 = _read_exact(f, 2)
    opcode = b0 & 0x0F
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(f, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(f, 8))[0]
    key = _read_exact(f, 4) if b1 & 0x80 else None
    payload = _read_exact(f, n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return opcode, payload


class WsEcho:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.upgrades = 0
        self.closes = []
        self.last_headers = {}
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers = {}
                while True:
                    h = f.readline().decode()
                    if h in ("\r\n", "\n", ""):
                        break
                    k, v = h.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
                self.last_headers = headers
                if path == "/ws-refuse":
                    body = b"no upgrade for you\n"
                    c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(body), body))
                    continue
                ok = ("upgrade" in headers.get("connection", "").lower()
                      and headers.get("upgrade", "").lower() == "websocket"
                      and "sec-websocket-key" in headers)
                if not ok:
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    continue
                self.upgrades += 1
                accept = accept_key(headers["sec-websocket-key"])
                if path == "/ws-badaccept":
                    accept = accept_key("not the key")
                extra = ""
                if "sec-websocket-protocol" in headers:
                    extra = "Sec-WebSocket-Protocol: %s\r\n" % (
                        headers["sec-websocket-protocol"].split(",")[0].strip())
                resp = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n"
                        % (accept, extra)).encode()
                if path == "/ws-hello":
                    resp += make_frame(1, b"hello", mask=False)
                c.sendall(resp)
                self._echo(c, f)
                return
        except (OSError, EOFError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _echo(self, c, f):
        while True:
            opcode, payload = read_frame(f)
            if opcode == 8:  # close: answer and end
                if len(payload) >= 2:
                    self.closes.append(struct.unpack("!H", payload[:2])[0])
                c.sendall(make_frame(8, payload[:2], mask=False))
                return
            if opcode == 9:  # ping
                c.sendall(make_frame(10, payload, mask=False))
                continue
            if opcode == 1 and payload.startswith(b"big "):
                c.sendall(make_frame(2, b"b" * int(payload[4:]), mask=False))
                continue
            c.sendall(make_frame(opcode, payload, mask=False))
