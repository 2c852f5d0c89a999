"""A small raw HTTP/2 client (stdlib only) for tests that must send frames no
well-behaved client would: floods, smuggling-shaped headers, oversized header
blocks. HPACK is encoded without Huffman or indexing (literal fields only) and
decoded just enough to read :status and names/values of responses from the
gateway (its encoder uses the dynamic table and Huffman, so responses are read
with a minimal decoder that handles both)."""

import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM, ENHANCE_YOUR_CALM = 0x0, 0x1, 0x7, 0xb


def frame(ftype, flags, stream, payload=b""):
    n = len(payload)
    return struct.pack(">BHBBI", n >> 16, n & 0xFFFF, ftype, flags, stream & 0x7FFFFFFF) + payload


def hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = [first_byte | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """Literal header field without indexing, new name (RFC 7541 6.2.2)."""
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_block(method="GET", path="/", authority="localhost", extra=()):
    b = hpack_literal(":method", method) + hpack_literal(":scheme", "http")
    b += hpack_literal(":authority", authority) + hpack_literal(":path", path)
    for n, v in extra:
        b += hpack_literal(n, v)
    return b


class Frame:
    def __init__(self, ftype, flags, stream, payload):
        self.type, self.flags, self.stream, self.payload = ftype, flags, stream, payload

    def error_code(self):
        off = 4 if self.type == GOAWAY else 0
        return struct.unpack(">I", self.payload[off:off + 4])[0]

    def __repr__(self):
        return "Frame(type=%d flags=%d stream=%d len=%d)" % (self.type, self.flags, self.stream,
                                                             len(self.payload))


class RawH2:
    """`tls`: an ssl.SSLContext to speak h2 over TLS (ALPN h2 is offered) with
    `server_hostname` as SNI; without it, h2c with prior knowledge."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, tls=None, server_hostname=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            tls.set_alpn_protocols(["h2"])
            self.sock = tls.wrap_socket(self.sock, server_hostname=server_hostname)
            self.alpn = self.sock.selected_alpn_protocol()
        self.buf = b""
        self.closed = False

    def close(self):
        self.sock.close()

    def start(self, settings=b""):
        self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def read_frame(self):
        """The next frame, or None when the connection closed."""
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk
        n = int.from_bytes(self.buf[:3], "big")
        ftype, flags, stream = self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0]
        payload = self.buf[9:9 + n]
        self.buf = self.buf[9 + n:]
        f = Frame(ftype, flags, stream & 0x7FFFFFFF, payload)
        if f.type == SETTINGS and not f.flags & ACK:
            self.send(frame(SETTINGS, ACK, 0))
        return f

    def frames_until(self, pred, limit=10000):
        """Reads frames until pred(frame) is true (returns it) or the connection ends (None)."""
        for _ in range(limit):
            f = self.read_frame()
            if f is None or pred(f):
                return f
        return None

    def all_frames(self, deadline=5.0):
        """Every frame until the server closes the connection (or the deadline)."""
        out = []
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            f = self.read_frame()
            if f is None:
                break
            out.append(f)
        return out


def first_status(block):
    """:status from a response header block: the gateway's HPACK encoder sends it
    as an indexed static entry (8-14) or a literal with indexed name 8."""
    b = block[0]
    static = {8: "200", 9: "204", 10: "206", 11: "304", 12: "400", 13: "404", 14: "500"}
    if b & 0x80:
        return static.get(b & 0x7F)
    # literal with incremental indexing (6-bit) or without indexing (4-bit), name index 8
    idx = b & 0x3F if b & 0x40 else b & 0x0F
    if idx != 8:
        return None
    ln = block[1]
    if ln & 0x80:  # Huffman: digits only in statuses; decode the 3-digit code table-free
        return _huffman_digits(block[2:2 + (ln & 0x7F)])
    return block[2:2 + ln].decode()


_HUFF_DIGITS = {"00000": "0", "00001": "1", "00010": "2", "011001": "3", "011010": "4",
                "011011": "5", "011100": "6", "011101": "7", "011110": "8", "011111": "9"}


def _huffman_digits(data):
    bits = "".join(format(x, "08b") for x in data)
    out, cur = "", ""
    for bit in bits:
        cur += bit
        if cur in _HUFF_DIGITS:
            out += _HUFF_DIGITS[cur]
            cur = ""
            if len(out) == 3:
                break
    return out
