// The server side of one HTTP/2 connection, over nghttp2: bytes in, frames
// out, requests up to the owner one stream at a time, responses down. No I/O
// here (the connection driver reads and writes the socket), which is what
// lets the unit tests and the fuzz target drive it with plain byte strings.
//
// Flow control follows consumption: nghttp2's automatic WINDOW_UPDATE is off,
// and a request body's bytes re-open the client's window only when the owner
// says they moved on (consume()), so a slow upstream holds the client back
// instead of letting it fill our memory.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct nghttp2_session;

namespace gatehouse::net::http2 {

struct Settings {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_window_size = 65'535;  // per stream (SETTINGS_INITIAL_WINDOW_SIZE)
  uint32_t connection_window_size = 1 << 20;
  uint32_t max_header_list_size = 64 * 1024;  // advertised; larger blocks get 431
  // Flood defences (see docs/http2.md). Counted in fixed windows of
  // flood_window_ms; past a limit the connection ends with GOAWAY
  // ENHANCE_YOUR_CALM.
  int64_t flood_window_ms = 10'000;
  uint32_t max_resets_per_window = 200;            // client RST_STREAM (CVE-2023-44487)
  uint32_t max_control_frames_per_window = 1'000;  // PING, SETTINGS, PRIORITY, empty DATA
  uint32_t max_continuations = 8;                  // CONTINUATION frames after one HEADERS
  uint32_t max_settings_entries = 32;              // entries in one SETTINGS frame
  // Unsent PING/SETTINGS ACKs (client not reading). Above the control-frame
  // limit on purpose: a PING flood must meet our own check first, which
  // answers GOAWAY ENHANCE_YOUR_CALM; nghttp2's cap refuses the frame before
  // any callback and ends the connection without a word.
  uint32_t max_outbound_ack = 2'000;
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 3): WebSocket over HTTP/2.
  bool enable_connect_protocol = true;
  // Response bytes queued per stream above which on_send_ready waits to fire.
  size_t stream_send_low_water = 64 * 1024;
};

struct Field {
  std::string name;  // lower-case
  std::string value;
};

// A validated request head. Everything in it is safe to write into an
// HTTP/1.1 request: no CR, LF or NUL anywhere, no connection-specific
// fields, names are lower-case tokens.
struct Request {
  int32_t stream_id = 0;
  std::string method, scheme, authority, path;
  // Extended CONNECT (RFC 8441 4): the :protocol, "websocket" (the only one
  // let through). Empty for every other request.
  std::string protocol;
  std::vector<Field> headers;  // regular fields in order; cookie crumbs joined
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool end_stream = false;  // END_STREAM came with HEADERS: no body
  bool te_trailers = false;  // the client sent "te: trailers" (it accepts response trailers)
};

class Callbacks {
 public:
  virtual ~Callbacks() = default;
  virtual void on_request(Request& r) = 0;
  // A request body chunk. Its bytes count against the client's window until
  // the owner calls consume(id, n).
  virtual void on_request_data(int32_t id, std::string_view data) = 0;
  virtual void on_request_end(int32_t id) = 0;
  // The request's trailer section (validated, forbidden fields dropped),
  // just before on_request_end.
  virtual void on_request_trailers(int32_t /*id*/, std::vector<Field>& /*trailers*/) {}
  // The stream is gone (finished or reset); no more calls for it, and
  // response calls for it are ignored.
  virtual void on_stream_close(int32_t id, uint32_t error_code) = 0;
  // The stream's queued response bytes fell below the low-water mark.
  virtual void on_send_ready(int32_t /*id*/) {}
};

struct SessionStats {
  uint64_t requests = 0;
  uint64_t client_resets = 0;
  uint64_t refused_too_large = 0;   // 431s
  uint64_t rejected_malformed = 0;  // RST_STREAM PROTOCOL_ERROR from our checks
  uint32_t goaway_sent = 0;         // error code of the GOAWAY we sent (0: none/NO_ERROR)
  bool flood_detected = false;
};

class ServerSession {
 public:
  ServerSession(const Settings& s, Callbacks& cb);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // False when nghttp2 could not be set up (out of memory).
  bool ok() const { return session_ != nullptr; }
  // Feeds bytes from the client. False on a connection error: flush
  // pending output (it may hold a GOAWAY) and close.
  bool receive(std::string_view bytes);
  // Appends frames ready to go to the client to `out`.
  bool collect_output(std::string& out);
  // Both false: the connection is finished (GOAWAY exchanged, nothing left).
  bool want_read() const;
  bool want_write() const;
  size_t open_streams() const { return streams_.size(); }

  // Response side. Headers are lower-case names; connection-specific fields
  // are dropped here. end_stream: no body follows.
  void submit_response(int32_t id, int status, const std::vector<Field>& headers, bool end_stream);
  void send_data(int32_t id, std::string_view data);
  // Ends the response after the queued data, with trailers when non-empty.
  void end_response(int32_t id, std::vector<Field> trailers = {});
  size_t queued(int32_t id) const;
  void reset_stream(int32_t id, uint32_t error_code);
  void consume(int32_t id, size_t n);
  // Graceful shutdown: GOAWAY with the last stream we took; open streams finish.
  void shutdown();
  void terminate(uint32_t error_code);

  const SessionStats& stats() const { return stats_; }

 private:
  struct Stream;
  friend struct Glue;
  Stream* find(int32_t id) const;
  bool drain(std::string& out);
  void count_control_frame();
  void flood(const char* what);
  void reject(Stream& s, const char* why);
  // Answers a stream itself (431, 501) with a problem+json body.
  void respond_error(Stream& s, int status, std::string_view code, std::string_view detail);
  void finish_head(Stream& s, bool end_stream);

  Settings settings_;
  Callbacks& cb_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
  SessionStats stats_;
  std::string pending_;  // frames serialised by receive(), not collected yet
  int64_t window_start_ms_ = 0;
  uint32_t window_resets_ = 0;
  uint32_t window_control_ = 0;
};

// True when `name` may not appear in an HTTP/2 request that is turned into
// HTTP/1.1 (RFC 9113 8.2.2): connection, keep-alive, proxy-connection,
// transfer-encoding, upgrade. (te is allowed with the value "trailers" only.)
bool is_connection_specific(std::string_view name);

}  // namespace gatehouse::net::http2
