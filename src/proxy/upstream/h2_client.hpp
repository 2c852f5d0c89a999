// Upstream HTTP/2 (nghttp2 client session). One H2ClientConn multiplexes
// the requests of one worker to one target; H2Pools holds a worker's
// connections per target (README.md, "Upstream HTTP/2").
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/asio.hpp"
#include "proxy/upstream/pool.hpp"

namespace gatehouse::proxy {

struct H2Field {
  std::string name;
  std::string value;
};

// Wakes one waiting coroutine, with an optional deadline; a notify() before
// the wait is kept.
class Wake {
 public:
  explicit Wake(const asio::any_io_executor& ex) : timer_(ex) {}
  void notify() {
    pending_ = true;
    timer_.cancel();
  }
  // Returns false when `at_ms` (steady clock, 0 = none) passed first.
  awaitable<bool> wait(int64_t at_ms);

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

// One request/response on an upstream HTTP/2 connection. Owned (shared) by
// the forwarding coroutine and the connection while the stream is open.
struct H2Stream {
  explicit H2Stream(const asio::any_io_executor& ex) : tx_wake(ex), rx_wake(ex) {}
  int32_t id = -1;
  // Request body: bytes waiting for DATA frames (sent as the peer's window allows).
  std::string tx;
  size_t tx_off = 0;
  bool tx_end = false;
  std::vector<H2Field> tx_trailers;
  bool tx_deferred = false;
  // Response.
  int status = 0;
  std::vector<H2Field> headers;
  std::vector<H2Field> trailers;
  bool head_ready = false;
  bool collecting_trailers = false;
  bool head_bad = false;
  std::string rx;            // DATA not yet taken by the forwarder
  bool rx_end = false;       // END_STREAM seen
  bool closed = false;       // the stream is gone (ended, reset or connection lost)
  uint32_t error_code = 0;   // RST_STREAM / GOAWAY code when closed abnormally
  bool refused = false;      // never processed by the peer: safe to retry
  bool abandoned = false;    // the forwarder left: DATA for it is dropped
  size_t header_bytes = 0;   // of the header block being received
  Wake tx_wake, rx_wake;
  size_t tx_queued() const { return tx.size() - tx_off; }
};

class H2ClientConn : public std::enable_shared_from_this<H2ClientConn> {
 public:
  // `conn` is connected (and TLS-handshaken with ALPN h2 when TLS).
  // `ping_interval_ms` > 0: a PING after that long without a frame from
  // the peer, and the connection closed when its ACK takes longer than
  // `ping_timeout_ms` (upstreams[].http2, docs/http2.md).
  H2ClientConn(std::unique_ptr<UpstreamConn> conn, net::DeadlineList& deadlines,
               int64_t idle_timeout_ms, metrics::Gauge* active_gauge,
               int64_t ping_interval_ms = 0, int64_t ping_timeout_ms = 0);
  ~H2ClientConn();
  H2ClientConn(const H2ClientConn&) = delete;
  H2ClientConn& operator=(const H2ClientConn&) = delete;

  // Sends the preface and SETTINGS and starts the read, write and idle
  // loops; false when nghttp2 could not be set up.
  bool start();
  // Room for one more stream: open, no GOAWAY, below the peer's
  // SETTINGS_MAX_CONCURRENT_STREAMS.
  bool can_open() const;
  bool usable() const { return !closed_ && !goaway_ && !retiring_; }
  // Opens a stream. `body` false sends END_STREAM with the headers. Returns
  // false when the session refused it (the caller tries another connection).
  bool open(const std::shared_ptr<H2Stream>& s, const std::vector<H2Field>& fields, bool body);
  // More request body (or its end) was queued on `s`.
  void resume(H2Stream& s);
  // `n` response bytes were passed on: the peer may send that much more.
  void consume(H2Stream& s, size_t n);
  // The forwarder leaves `s`: RST_STREAM CANCEL if still open, and the
  // window its unread bytes hold is given back.
  void abandon(H2Stream& s);
  // No new streams; closes once the open ones are done (reload, drain).
  void retire();
  void close();
  const std::string& peer() const { return conn_->peer; }
  UpstreamConn& conn() { return *conn_; }
  size_t active() const { return streams_.size(); }
  // The peer's SETTINGS arrived (its first frame, RFC 9113 3.4), and whether
  // they allow extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 3).
  bool settings_received() const { return settings_received_; }
  bool connect_protocol() const;

 private:
  static awaitable<void> read_loop(std::shared_ptr<H2ClientConn> self);
  static awaitable<void> write_loop(std::shared_ptr<H2ClientConn> self);
  static awaitable<void> idle_loop(std::shared_ptr<H2ClientConn> self);
  static awaitable<void> ping_loop(std::shared_ptr<H2ClientConn> self);
  void stream_gone(H2Stream& s, uint32_t code, bool refused);
  void fail_all();

  // nghttp2 callbacks.
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame*, void*);
  static int on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t,
                       const uint8_t*, size_t, uint8_t, void*);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame*, void*);
  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
  static int on_stream_close(nghttp2_session*, int32_t, uint32_t, void*);
  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*,
                           nghttp2_data_source*, void*);

  std::unique_ptr<UpstreamConn> conn_;
  net::DeadlineList& deadlines_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::shared_ptr<H2Stream>> streams_;
  Wake writer_wake_;
  asio::steady_timer idle_timer_;
  int64_t idle_timeout_ms_;
  int64_t idle_since_ms_ = 0;
  metrics::Gauge* active_gauge_;
  asio::steady_timer ping_timer_;
  int64_t ping_interval_ms_;
  int64_t ping_timeout_ms_;
  int64_t last_rx_ms_;
  int64_t ping_sent_ms_ = 0;
  bool ping_outstanding_ = false;
  bool closed_ = false;
  bool settings_received_ = false;
  bool goaway_ = false;
  bool retiring_ = false;
  int32_t goaway_last_id_ = INT32_MAX;
  size_t orphan_bytes_ = 0;  // DATA for abandoned streams, given back after each read
};

// A worker's HTTP/2 connections to one upstream, per target. Lives in
// net::WorkerUpstream (created on first use); closing it closes them all.
class H2Pools {
 public:
  explicit H2Pools(size_t targets) : targets_(targets) {}
  ~H2Pools();
  // A connection to `target` with room for one more stream, or null.
  std::shared_ptr<H2ClientConn> find(int target);
  void add(int target, std::shared_ptr<H2ClientConn> c);
  size_t connections(int target) const;

 private:
  std::vector<std::vector<std::shared_ptr<H2ClientConn>>> targets_;
};

}  // namespace gatehouse::proxy
