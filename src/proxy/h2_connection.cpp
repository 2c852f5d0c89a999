#include "proxy/h2_connection.hpp"

#include <nghttp2/nghttp2.h>

#include <array>
#include <unordered_set>
#include <vector>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "net/websocket/handshake.hpp"
#include "net/worker.hpp"
#include "proxy/session.hpp"

namespace gatehouse::proxy {

namespace {
// Each stream's pipe to its Session holds at most this much per direction.
constexpr size_t kPipeCapacity = 64 * 1024;
// Response bytes queued for the client per stream before the stream stops
// reading its Session (which then stops reading its upstream).
constexpr size_t kSendHighWater = 256 * 1024;
// How long a TLS connection waits for the client's close_notify at the end.
constexpr int64_t kTlsShutdownMs = 1'000;
// This worker thread's live connections, for drain (one thread per worker,
// so thread_local is per worker and needs no lock).
thread_local std::unordered_set<H2Connection*> tl_live;
}  // namespace

struct H2Connection::StreamState {
  explicit StreamState(const asio::any_io_executor& ex) : req_wake(ex), send_ready(ex) {}
  int32_t id = 0;
  net::DuplexEnd end;  // ours; the Session holds the other
  std::string method;
  net::http2::BodyFraming framing = net::http2::BodyFraming::kNone;
  std::string req_out;        // framed request bytes for the pipe
  std::vector<net::http2::Field> req_trailers;
  size_t req_unconsumed = 0;  // DATA bytes in req_out, not yet given back to the window
  bool req_ended = false;
  bool req_broken = false;  // the Session stopped reading: drop the rest
  bool h2_closed = false;
  bool tunnel = false;  // an extended CONNECT (RFC 8441): WebSocket bytes both ways
  Signal req_wake, send_ready;
};

void H2Connection::start(std::unique_ptr<Session> carrier, std::string initial) {
  net::Worker& worker = carrier->worker();
  carrier->hand_over();
  const auto& c = worker.snapshot()->config.server.http2;
  net::http2::Settings s;
  s.max_concurrent_streams = static_cast<uint32_t>(c.max_concurrent_streams);
  s.initial_window_size = static_cast<uint32_t>(c.initial_window_size);
  s.max_header_list_size = static_cast<uint32_t>(c.max_header_list_size);
  // The connection window covers a few streams' worth, so one stream's slow
  // consumer does not stall the others.
  s.connection_window_size = static_cast<uint32_t>(
      std::min<uint64_t>(0x7fffffff, std::max<uint64_t>(1 << 20, 4 * c.initial_window_size)));
  auto conn = std::make_shared<H2Connection>(std::move(carrier), s);
  if (!conn->session_.ok()) return;
  auto& ioc = worker.ioc();
  asio::co_spawn(ioc, read_loop(conn, std::move(initial)), asio::detached);
  asio::co_spawn(ioc, write_loop(conn), asio::detached);
}

H2Connection::H2Connection(std::unique_ptr<Session> carrier, const net::http2::Settings& settings)
    : carrier_(std::move(carrier)),
      worker_(carrier_->worker()),
      stream_(carrier_->stream()),
      client_ip_(carrier_->client_ip()),
      tls_(carrier_->tls_info()),
      session_(settings, *this),
      writer_wake_(worker_.ioc().get_executor()) {
  tl_live.insert(this);
}

void H2Connection::drain_worker() {
  std::vector<H2Connection*> live(tl_live.begin(), tl_live.end());
  for (auto* c : live) c->begin_drain();
}

void H2Connection::begin_drain() {
  if (!goaway_on_drain_) {
    goaway_on_drain_ = true;
    session_.shutdown();
  }
  if (streams_.empty()) read_done_ = true;  // the writer flushes the GOAWAY, then closes
  writer_wake_.notify();
}

H2Connection::~H2Connection() {
  tl_live.erase(this);
  read_deadline_.unlink();
  write_deadline_.unlink();
}

awaitable<void> H2Connection::read_loop(std::shared_ptr<H2Connection> self, std::string initial) {
  H2Connection& c = *self;
  bool ok = c.session_.receive(initial);
  c.writer_wake_.notify();
  std::array<char, 16 * 1024> buf;
  while (ok && !c.closed_) {
    // An idle connection (no open stream) ends after the keep-alive timeout.
    const int64_t idle = c.worker_.snapshot()->config.server.http.client_idle_timeout_ms;
    if (c.streams_.empty()) {
      c.read_deadline_.arm(c.worker_.deadlines(), &c.stream_.socket(), steady_ms() + idle);
    } else {
      c.read_deadline_.disarm();
    }
    auto [ec, n] = co_await c.stream_.async_read_some(asio::buffer(buf), use_nothrow);
    if (ec || n == 0 || c.closed_) break;
    ok = c.session_.receive(std::string_view(buf.data(), n));
    if (ok && c.worker_.draining()) c.begin_drain();
    c.writer_wake_.notify();
  }
  c.read_done_ = true;
  c.writer_wake_.notify();
}

awaitable<void> H2Connection::write_loop(std::shared_ptr<H2Connection> self) {
  H2Connection& c = *self;
  std::string out;
  for (;;) {
    out.clear();
    c.session_.collect_output(out);
    if (out.empty()) {
      if (c.read_done_ || (!c.session_.want_read() && !c.session_.want_write())) break;
      co_await c.writer_wake_.wait();
      continue;
    }
    const int64_t idle = c.worker_.snapshot()->config.server.http.client_idle_timeout_ms;
    c.write_deadline_.arm(c.worker_.deadlines(), &c.stream_.socket(), steady_ms() + idle);
    auto [ec, n] = co_await asio::async_write(c.stream_, asio::buffer(out), use_nothrow);
    c.write_deadline_.disarm();
    if (ec) {
      c.close_all();
      co_return;
    }
  }
  if (c.tls_ && !c.closed_) co_await shutdown_tls(self);
  c.close_all();
}

awaitable<void> H2Connection::shutdown_tls(std::shared_ptr<H2Connection> self) {
  // close_notify after the last frame, so the client can tell our close from
  // a truncation (OpenSSL 3 clients report a bare EOF as an error). A client
  // that never answers costs at most a second: the deadline closes the socket.
  H2Connection& c = *self;
  c.write_deadline_.arm(c.worker_.deadlines(), &c.stream_.socket(), steady_ms() + kTlsShutdownMs);
  co_await c.stream_.tls()->async_shutdown(use_nothrow);
  c.write_deadline_.disarm();
}

void H2Connection::close_all() {
  if (closed_) return;
  closed_ = true;
  stream_.close();
  for (auto& [id, st] : streams_) {
    st->h2_closed = true;
    st->end.close();
    st->req_wake.notify();
    st->send_ready.notify();
  }
  streams_.clear();
}

void H2Connection::on_request(net::http2::Request& r) {
  auto ex = worker_.ioc().get_executor();
  auto st = std::make_shared<StreamState>(ex);
  auto [ours, theirs] = net::make_duplex(ex, kPipeCapacity);
  st->id = r.stream_id;
  st->end = std::move(ours);
  st->method = r.method;
  st->framing = net::http2::framing_for(r);
  st->tunnel = st->framing == net::http2::BodyFraming::kTunnel;
  // The upstream's Sec-WebSocket-Accept is checked against this key by the
  // pipeline, as for an HTTP/1.1 client's own key.
  st->req_out =
      net::http2::request_head_to_http1(r, st->tunnel ? net::websocket::new_key() : std::string());
  st->req_ended = r.end_stream;
  streams_[r.stream_id] = st;
  Session::start(std::make_unique<Session>(worker_, std::move(theirs), client_ip_, tls_));
  auto self = shared_from_this();
  asio::co_spawn(worker_.ioc(), request_pump(self, st), asio::detached);
  asio::co_spawn(worker_.ioc(), response_pump(self, st), asio::detached);
}

void H2Connection::on_request_data(int32_t id, std::string_view data) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second->req_broken) {
    session_.consume(id, data.size());
    return;
  }
  StreamState& st = *it->second;
  net::http2::append_body(st.req_out, st.framing, data);
  st.req_unconsumed += data.size();
  st.req_wake.notify();
}

void H2Connection::on_request_end(int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  StreamState& st = *it->second;
  net::http2::append_body_end(st.req_out, st.framing, st.req_trailers);
  st.req_ended = true;
  st.req_wake.notify();
}

void H2Connection::on_request_trailers(int32_t id, std::vector<net::http2::Field>& trailers) {
  auto it = streams_.find(id);
  if (it != streams_.end()) it->second->req_trailers = std::move(trailers);
}

void H2Connection::on_stream_close(int32_t id, uint32_t error_code) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  auto st = it->second;
  streams_.erase(it);
  st->h2_closed = true;
  // The Session sees its pipe end: a reset stream stops its work upstream too
  // (a tunnel's upstream connection gets a TCP RST for it, RFC 8441 6).
  if (error_code != 0)
    st->end.reset();
  else
    st->end.close();
  st->req_wake.notify();
  st->send_ready.notify();
  if (goaway_on_drain_ && streams_.empty()) {
    read_done_ = true;
    writer_wake_.notify();
  }
}

void H2Connection::on_send_ready(int32_t id) {
  auto it = streams_.find(id);
  if (it != streams_.end()) it->second->send_ready.notify();
}

awaitable<void> H2Connection::request_pump(std::shared_ptr<H2Connection> self,
                                           std::shared_ptr<StreamState> st) {
  H2Connection& c = *self;
  for (;;) {
    if (st->h2_closed || c.closed_) co_return;
    if (st->req_out.empty()) {
      if (st->req_ended) {
        st->end.shutdown_send();  // the Session reads EOF once it is done
        co_return;
      }
      co_await st->req_wake.wait();
      continue;
    }
    std::string chunk = std::move(st->req_out);
    st->req_out.clear();
    size_t raw = st->req_unconsumed;
    st->req_unconsumed = 0;
    auto [ec, n] = co_await asio::async_write(st->end, asio::buffer(chunk), use_nothrow);
    if (c.closed_) co_return;
    // The bytes moved on (or will never be read): the client may send more.
    c.session_.consume(st->id, raw);
    c.writer_wake_.notify();
    if (ec) {
      st->req_broken = true;
      c.session_.consume(st->id, st->req_unconsumed);
      st->req_unconsumed = 0;
      st->req_out.clear();
      co_return;
    }
  }
}

awaitable<void> H2Connection::response_pump(std::shared_ptr<H2Connection> self,
                                            std::shared_ptr<StreamState> st) {
  H2Connection& c = *self;
  net::http2::ResponseReader reader(st->method, st->tunnel);
  std::string buf;
  std::array<char, 16 * 1024> tmp;
  bool head_sent = false;
  for (;;) {
    while (!st->h2_closed && !c.closed_ && c.session_.queued(st->id) >= kSendHighWater)
      co_await st->send_ready.wait();
    if (st->h2_closed || c.closed_) co_return;
    auto [ec, n] = co_await st->end.async_read_some(asio::buffer(tmp), use_nothrow);
    if (st->h2_closed || c.closed_) co_return;
    if (ec) {
      // The Session closed its end: fine after a complete response (or one
      // that runs until close), a reset otherwise.
      // A tunnel whose upstream aborted is aborted too (RFC 8441 6: a TCP
      // RST is RST_STREAM CANCEL); an orderly close is END_STREAM.
      if (head_sent && ec == asio::error::connection_reset && reader.tunnel_open()) {
        c.session_.reset_stream(st->id, NGHTTP2_CANCEL);
      } else if (head_sent && reader.on_eof()) {
        c.session_.end_response(st->id, reader.trailers());
      } else {
        c.session_.reset_stream(st->id, NGHTTP2_INTERNAL_ERROR);
      }
      c.writer_wake_.notify();
      co_return;
    }
    buf.append(tmp.data(), n);
    auto o = reader.feed(buf);
    if (o.error) {
      c.session_.reset_stream(st->id, NGHTTP2_INTERNAL_ERROR);
      st->end.close();
      c.writer_wake_.notify();
      co_return;
    }
    if (o.head_ready) {
      // A chunked response with trailers but no data still needs its DATA
      // path: the trailers go after it as a HEADERS frame.
      bool no_body = o.done && o.data.empty() && reader.trailers().empty();
      // The upgrade's 101 is the extended CONNECT's 200 (RFC 8441 5).
      int status = reader.tunnel_open() ? 200 : reader.head().status;
      c.session_.submit_response(st->id, status, reader.fields(), no_body);
      head_sent = true;
      if (no_body) {  // ended with the HEADERS frame
        if (st->tunnel) {
          st->req_broken = true;
          st->end.close();
        }
        c.writer_wake_.notify();
        co_return;
      }
    }
    for (auto d : o.data) c.session_.send_data(st->id, d);
    if (o.done) c.session_.end_response(st->id, reader.trailers());
    buf.erase(0, o.consumed);
    c.writer_wake_.notify();
    if (o.done) {
      // An upgrade the upstream refused: its answer is complete, and the
      // client's further DATA are nobody's (discarded, window given back).
      if (st->tunnel) {
        st->req_broken = true;
        st->end.close();
      }
      co_return;
    }
  }
}

}  // namespace gatehouse::proxy
