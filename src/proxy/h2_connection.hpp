// One downstream HTTP/2 connection: h2c with prior knowledge on the plain
// listener, or h2 negotiated by ALPN on the TLS listener. It reads and writes
// the connection's net::Stream, runs the nghttp2 server session, and serves
// every stream with an ordinary HTTP/1.1 Session over an in-memory pipe
// (net/http2/README.md says why).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "net/duplex.hpp"
#include "net/http2/bridge.hpp"
#include "net/http2/server_session.hpp"
#include "net/stream.hpp"
#include "net/tls/cert_info.hpp"

namespace gatehouse::net {
class Worker;
}

namespace gatehouse::proxy {

class Session;

// A wake-up for one waiting coroutine; a notify() before the wait is kept.
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& ex) : timer_(ex) {}
  void notify() {
    pending_ = true;
    timer_.cancel();
  }
  awaitable<void> wait() {
    if (!pending_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      co_await timer_.async_wait(use_nothrow);
    }
    pending_ = false;
  }

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

class H2Connection : public net::http2::Callbacks,
                     public std::enable_shared_from_this<H2Connection> {
 public:
  // Takes over the connection of `carrier`, the HTTP/1.1 session that
  // accepted it: after it read the h2c preface (`initial`: the preface and
  // whatever followed it), or after a TLS handshake that negotiated h2
  // (`initial` empty). The carrier is kept, not moved from: it owns the
  // stream (a TLS stream refers to its socket and cannot move), counts the
  // connection, and keeps the worker's drain waiting until the connection ends.
  static void start(std::unique_ptr<Session> carrier, std::string initial);

  H2Connection(std::unique_ptr<Session> carrier, const net::http2::Settings& settings);
  ~H2Connection() override;

  // Graceful shutdown of this thread's (this worker's) HTTP/2 connections:
  // GOAWAY now, close once their open streams are done.
  static void drain_worker();

  void on_request(net::http2::Request& r) override;
  void on_request_data(int32_t id, std::string_view data) override;
  void on_request_end(int32_t id) override;
  void on_request_trailers(int32_t id, std::vector<net::http2::Field>& trailers) override;
  void on_stream_close(int32_t id, uint32_t error_code) override;
  void on_send_ready(int32_t id) override;

 private:
  struct StreamState;
  static awaitable<void> read_loop(std::shared_ptr<H2Connection> self, std::string initial);
  static awaitable<void> write_loop(std::shared_ptr<H2Connection> self);
  static awaitable<void> request_pump(std::shared_ptr<H2Connection> self,
                                      std::shared_ptr<StreamState> st);
  static awaitable<void> response_pump(std::shared_ptr<H2Connection> self,
                                       std::shared_ptr<StreamState> st);
  void close_all();
  void begin_drain();

  // Gracefully ending: close_notify on TLS, bounded by kTlsShutdownMs.
  static awaitable<void> shutdown_tls(std::shared_ptr<H2Connection> self);

  std::unique_ptr<Session> carrier_;
  net::Worker& worker_;
  net::Stream& stream_;  // the carrier's
  std::string client_ip_;
  std::shared_ptr<const net::tls::ConnectionInfo> tls_;  // null on h2c
  net::http2::ServerSession session_;
  std::unordered_map<int32_t, std::shared_ptr<StreamState>> streams_;
  Signal writer_wake_;
  net::Deadline read_deadline_, write_deadline_;
  bool read_done_ = false;
  bool closed_ = false;
  bool goaway_on_drain_ = false;
};

}  // namespace gatehouse::proxy
