"""A plain HTTP/2 upstream (h2c prior knowledge, or h2 over TLS) on the
`h2` package (Debian python3-h2), one thread per connection. Paths:

  /trailers      "hello" then trailers x-checksum: abc
  /big?n=N       N bytes of "x" (past every flow-control window)
  /goaway-once   the first such request on the peer gets GOAWAY (last
                 stream id 0: not processed) and the connection closed
  /refuse-once   the first such request gets RST_STREAM REFUSED_STREAM
  /mute          the JSON answer below, then the connection reads on but
                 answers nothing more (no PING ACKs): a peer that hung
  anything else  200 JSON: method, path, authority, scheme, headers,
                 body length, request trailers, connection number

`connections` counts accepted connections, `open` the ones still open,
`pings` the PINGs received (h2 ACKs them), `muted_closed` the muted
connections the gateway closed.
Like grpc_peer, it needs Debian's python3 (reexec_with_system_grpc)."""

import json
import socket
import ssl
import threading


class H2Peer:
    def __init__(self, tls_cert=None, tls_key=None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.ctx = None
        if tls_cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(tls_cert, tls_key)
            self.ctx.set_alpn_protocols(["h2"])
        self.lock = threading.Lock()
        self.connections = 0
        self.open = 0
        self.pings = 0
        self.muted_closed = 0
        self.alpn = []
        self.once = set()
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

    def _first(self, key):
        with self.lock:
            if key in self.once:
                return False
            self.once.add(key)
            return True

    def _serve(self, c):
        import h2.config
        import h2.connection
        import h2.events
        import h2.errors
        with self.lock:
            self.connections += 1
            self.open += 1
            number = self.connections
        try:
            if self.ctx:
                c = self.ctx.wrap_socket(c, server_side=True)
                with self.lock:
                    self.alpn.append(c.selected_alpn_protocol())
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            c.sendall(conn.data_to_send())
            reqs = {}
            while True:
                data = c.recv(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        reqs[ev.stream_id] = {"headers": ev.headers, "body": 0, "trailers": []}
                    elif isinstance(ev, h2.events.DataReceived):
                        reqs[ev.stream_id]["body"] += len(ev.data)
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.TrailersReceived):
                        reqs[ev.stream_id]["trailers"] = ev.headers
                    elif isinstance(ev, h2.events.PingReceived):
                        with self.lock:
                            self.pings += 1
                    elif isinstance(ev, h2.events.StreamEnded):
                        r = reqs.pop(ev.stream_id)
                        if not self._respond(c, conn, ev.stream_id, r, number):
                            return
                        if r.get("mute"):
                            c.sendall(conn.data_to_send())
                            while c.recv(65536):
                                pass  # read, answer nothing
                            with self.lock:
                                self.muted_closed += 1
                            return
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        c.sendall(conn.data_to_send())
                        return
                c.sendall(conn.data_to_send())
        except (OSError, ssl.SSLError):
            return
        finally:
            with self.lock:
                self.open -= 1
            c.close()

    def _send_body(self, c, conn, sid, body):
        import h2.events
        while body:
            window = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
            if window <= 0:
                c.sendall(conn.data_to_send())
                data = c.recv(65536)
                if not data:
                    return False
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.DataReceived):
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                continue
            conn.send_data(sid, body[:window])
            body = body[window:]
            c.sendall(conn.data_to_send())
        return True

    def _respond(self, c, conn, sid, r, number):
        import h2.errors
        h = {k.decode(): v.decode() for k, v in r["headers"]}
        path = h.get(":path", "")
        if path == "/mute":
            r["mute"] = True
        if path == "/goaway-once" and self._first("goaway"):
            conn.close_connection(error_code=0, last_stream_id=0)
            c.sendall(conn.data_to_send())
            return False
        if path == "/refuse-once" and self._first("refuse"):
            conn.reset_stream(sid, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)
            return True
        if path == "/trailers":
            conn.send_headers(sid, [(":status", "200"), ("content-type", "text/plain")])
            conn.send_data(sid, b"hello")
            conn.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
            return True
        if path.startswith("/big?n="):
            n = int(path.split("=", 1)[1])
            conn.send_headers(sid, [(":status", "200"), ("content-length", str(n))])
            if not self._send_body(c, conn, sid, b"x" * n):
                return False
            conn.end_stream(sid)
            return True
        body = json.dumps({
            "method": h.get(":method"), "path": path, "authority": h.get(":authority"),
            "scheme": h.get(":scheme"),
            "headers": {k: v for k, v in h.items() if not k.startswith(":")},
            "header_names": [k.decode() for k, _ in r["headers"]],
            "body_len": r["body"],
            "trailers": {k.decode(): v.decode() for k, v in r["trailers"]},
            "connection": number,
        }).encode()
        conn.send_headers(sid, [(":status", "200"), ("content-type", "application/json"),
                                ("content-length", str(len(body)))])
        if not self._send_body(c, conn, sid, body):
            return False
        conn.end_stream(sid)
        return True
