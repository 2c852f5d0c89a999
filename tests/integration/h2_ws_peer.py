#!/usr/bin/env python3
"""An HTTP/2 upstream (h2c prior knowledge) that takes RFC 8441 extended
CONNECT for WebSocket, on the `h2` package (Debian python3-h2). Each
CONNECT with :protocol websocket gets 200 (the first offered subprotocol
selected) and then a WebSocket echo on the stream: every data frame back
unmasked, "big N" answered with N bytes, a Close answered with a Close and
END_STREAM. `connect_protocol=False` leaves SETTINGS_ENABLE_CONNECT_PROTOCOL
out, as an upstream without RFC 8441 would. Other requests get 404.
`requests` keeps each CONNECT's header fields; `closes` the close codes
received."""

import socket
import struct
import threading

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from ws_echo import make_frame


class H2WsPeer:
    def __init__(self, connect_protocol=True):
        self.connect_protocol = connect_protocol
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.requests = []
        self.closes = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        values = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100}
        if self.connect_protocol:
            values[h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL] = 1
        conn.local_settings = h2.settings.Settings(client=False, initial_values=values)
        conn.initiate_connection()
        c.sendall(conn.data_to_send())
        bufs = {}
        pending = {}  # stream -> bytes waiting for window
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        h = dict(ev.headers)
                        if h.get(":method") == "CONNECT" and h.get(":protocol") == "websocket":
                            self.requests.append(h)
                            resp = [(":status", "200")]
                            if "sec-websocket-protocol" in h:
                                resp.append(("sec-websocket-protocol",
                                             h["sec-websocket-protocol"].split(",")[0].strip()))
                            conn.send_headers(ev.stream_id, resp)
                            bufs[ev.stream_id] = bytearray()
                        else:
                            conn.send_headers(ev.stream_id, [(":status", "404")], end_stream=True)
                    elif isinstance(ev, h2.events.DataReceived):
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                        if ev.stream_id in bufs:
                            bufs[ev.stream_id].extend(ev.data)
                            self._frames(conn, ev.stream_id, bufs[ev.stream_id], pending)
                    elif isinstance(ev, h2.events.StreamEnded):
                        if ev.stream_id in bufs:
                            del bufs[ev.stream_id]
                            pending.setdefault(ev.stream_id, [bytearray(), False])[1] = True
                    elif isinstance(ev, h2.events.StreamReset):
                        bufs.pop(ev.stream_id, None)
                        pending.pop(ev.stream_id, None)
                self._flush(conn, pending)
                out = conn.data_to_send()
                if out:
                    c.sendall(out)
        except (OSError, h2.exceptions.H2Error):
            pass
        finally:
            c.close()

    def _frames(self, conn, sid, buf, pending):
        while len(buf) >= 2:
            n, off = buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, off = struct.unpack("!H", bytes(buf[2:4]))[0], 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, off = struct.unpack("!Q", bytes(buf[2:10]))[0], 10
            key = None
            if buf[1] & 0x80:
                key = bytes(buf[off:off + 4])
                off += 4
            if len(buf) < off + n:
                return
            op = buf[0] & 0x0F
            payload = bytes(buf[off:off + n])
            del buf[:off + n]
            if key:
                payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            out = pending.setdefault(sid, [bytearray(), False])
            if op == 8:
                if len(payload) >= 2:
                    self.closes.append(struct.unpack("!H", payload[:2])[0])
                out[0].extend(make_frame(8, payload[:2], mask=False))
                out[1] = True
                return
            if op == 1 and payload.startswith(b"big "):
                out[0].extend(make_frame(2, b"b" * int(payload[4:]), mask=False))
            else:
                out[0].extend(make_frame(op, payload, mask=False))

    def _flush(self, conn, pending):
        for sid in list(pending):
            data, end = pending[sid]
            try:
                while data:
                    n = min(len(data), conn.local_flow_control_window(sid),
                            conn.max_outbound_frame_size)
                    if n <= 0:
                        break
                    conn.send_data(sid, bytes(data[:n]))
                    del data[:n]
                if not data and end:
                    conn.end_stream(sid)
                    del pending[sid]
            except h2.exceptions.StreamClosedError:
                del pending[sid]
