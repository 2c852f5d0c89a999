#include "proxy/upstream/h2_client.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"

namespace gatehouse::proxy {

namespace {
// Response bytes the peer may send per stream / per connection before we
// pass them on (flow control follows consumption, as downstream).
constexpr uint32_t kStreamWindow = 256 * 1024;
constexpr int32_t kConnectionWindow = 4 * 1024 * 1024;
// A response head larger than this (HPACK-decoded, name + value + 32) resets
// the stream: nothing that big is forwarded into an HTTP/1.1 head.
constexpr size_t kMaxHeaderBytes = 256 * 1024;
// Frames serialised per socket write.
constexpr size_t kWriteChunk = 64 * 1024;
// A peer that does not read our frames for this long loses the connection.
constexpr int64_t kWriteTimeoutMs = 60'000;
// Stream ids are 31 bits; a connection close to the end stops taking streams.
constexpr int32_t kLastUsableStreamId = 0x7fff0000;

H2Stream* stream_of(nghttp2_session* session, int32_t id) {
  return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session, id));
}
}  // namespace

awaitable<bool> Wake::wait(int64_t at_ms) {
  if (!pending_) {
    if (at_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(0, at_ms - steady_ms())));
    } else {
      timer_.expires_at(asio::steady_timer::time_point::max());
    }
    co_await timer_.async_wait(use_nothrow);
  }
  bool woken = pending_;
  pending_ = false;
  co_return woken;
}

H2ClientConn::H2ClientConn(std::unique_ptr<UpstreamConn> conn, net::DeadlineList& deadlines,
                           int64_t idle_timeout_ms, metrics::Gauge* active_gauge,
                           int64_t ping_interval_ms, int64_t ping_timeout_ms)
    : conn_(std::move(conn)),
      deadlines_(deadlines),
      writer_wake_(conn_->stream.get_executor()),
      idle_timer_(conn_->stream.get_executor()),
      idle_timeout_ms_(std::max<int64_t>(idle_timeout_ms, 1)),
      idle_since_ms_(steady_ms()),
      active_gauge_(active_gauge),
      ping_timer_(conn_->stream.get_executor()),
      ping_interval_ms_(std::max<int64_t>(ping_interval_ms, 0)),
      ping_timeout_ms_(std::max<int64_t>(ping_timeout_ms, 1)),
      last_rx_ms_(steady_ms()) {
  if (active_gauge_) active_gauge_->add(1);
}

H2ClientConn::~H2ClientConn() {
  if (session_) nghttp2_session_del(session_);
  conn_->deadline.unlink();
  if (active_gauge_) active_gauge_->add(-1);
}

bool H2ClientConn::start() {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // WINDOW_UPDATE only once the bytes moved on (consume()), so a slow client
  // slows the upstream instead of filling our memory.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  int rv = nghttp2_session_client_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) {
    session_ = nullptr;
    return false;
  }
  std::array<nghttp2_settings_entry, 2> iv{{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  auto self = shared_from_this();
  auto ex = conn_->stream.get_executor();
  asio::co_spawn(ex, read_loop(self), asio::detached);
  asio::co_spawn(ex, write_loop(self), asio::detached);
  asio::co_spawn(ex, idle_loop(self), asio::detached);
  if (ping_interval_ms_ > 0) asio::co_spawn(ex, ping_loop(self), asio::detached);
  return true;
}

bool H2ClientConn::can_open() const {
  if (closed_ || goaway_ || retiring_ || !session_) return false;
  if (nghttp2_session_get_next_stream_id(session_) > static_cast<uint32_t>(kLastUsableStreamId))
    return false;
  // Before the peer's SETTINGS arrive nghttp2 assumes 100.
  uint32_t max = nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return streams_.size() < max;
}

bool H2ClientConn::open(const std::shared_ptr<H2Stream>& s, const std::vector<H2Field>& fields,
                        bool body) {
  if (!can_open()) return false;
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& f : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())), f.name.size(),
                   f.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider dp{};
  dp.source.ptr = s.get();
  dp.read_callback = read_body;
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      body ? &dp : nullptr, s.get());
  if (id < 0) return false;
  s->id = id;
  streams_[id] = s;
  writer_wake_.notify();
  return true;
}

void H2ClientConn::resume(H2Stream& s) {
  if (closed_ || s.closed || !s.tx_deferred) return;
  s.tx_deferred = false;
  nghttp2_session_resume_data(session_, s.id);
  writer_wake_.notify();
}

void H2ClientConn::consume(H2Stream& s, size_t n) {
  if (closed_ || n == 0) return;
  if (s.closed) {
    nghttp2_session_consume_connection(session_, n);
  } else {
    nghttp2_session_consume(session_, s.id, n);
  }
  writer_wake_.notify();
}

void H2ClientConn::abandon(H2Stream& s) {
  if (s.abandoned) return;
  s.abandoned = true;
  consume(s, s.rx.size());
  s.rx.clear();
  if (!s.closed && !closed_) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
    writer_wake_.notify();
  }
}

bool H2ClientConn::connect_protocol() const {
  return session_ && nghttp2_session_get_remote_settings(
                         session_, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1;
}

void H2ClientConn::retire() {
  retiring_ = true;
  if (streams_.empty()) close();
  writer_wake_.notify();
}

void H2ClientConn::close() {
  if (closed_) return;
  closed_ = true;
  conn_->stream.close();
  fail_all();
  writer_wake_.notify();
  idle_timer_.cancel();
  ping_timer_.cancel();
}

void H2ClientConn::fail_all() {
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, s] : streams) stream_gone(*s, NGHTTP2_INTERNAL_ERROR, goaway_ && id > goaway_last_id_);
}

void H2ClientConn::stream_gone(H2Stream& s, uint32_t code, bool refused) {
  if (s.closed) return;
  s.closed = true;
  s.error_code = code;
  s.refused = refused;
  s.rx_wake.notify();
  s.tx_wake.notify();
}

awaitable<void> H2ClientConn::read_loop(std::shared_ptr<H2ClientConn> self) {
  H2ClientConn& c = *self;
  std::array<uint8_t, 16 * 1024> buf;
  while (!c.closed_) {
    auto [ec, n] = co_await c.conn_->stream.async_read_some(asio::buffer(buf), use_nothrow);
    if (ec || n == 0 || c.closed_) break;
    c.last_rx_ms_ = steady_ms();
    ssize_t rv = nghttp2_session_mem_recv(c.session_, buf.data(), n);
    if (rv < 0) break;
    if (c.orphan_bytes_) {
      size_t o = c.orphan_bytes_;
      c.orphan_bytes_ = 0;
      nghttp2_session_consume_connection(c.session_, o);
    }
    c.writer_wake_.notify();
  }
  c.close();
}

awaitable<void> H2ClientConn::write_loop(std::shared_ptr<H2ClientConn> self) {
  H2ClientConn& c = *self;
  std::string out;
  while (!c.closed_) {
    out.clear();
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(c.session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      if (out.size() >= kWriteChunk) break;
    }
    if (out.empty()) {
      if (!nghttp2_session_want_read(c.session_) && !nghttp2_session_want_write(c.session_)) break;
      if (c.retiring_ && c.streams_.empty()) break;
      co_await c.writer_wake_.wait(0);
      continue;
    }
    c.conn_->deadline.arm(c.deadlines_, &c.conn_->stream.socket(), steady_ms() + kWriteTimeoutMs);
    auto [ec, n] = co_await asio::async_write(c.conn_->stream, asio::buffer(out), use_nothrow);
    c.conn_->deadline.disarm();
    if (ec) break;
  }
  c.close();
}

awaitable<void> H2ClientConn::ping_loop(std::shared_ptr<H2ClientConn> self) {
  // Keep-alive: after ping_interval with no frame from the peer, a PING;
  // no ACK within ping_timeout means the peer (or a middlebox between) is
  // gone, so the connection is closed before a call is lost on it. Streams
  // still open on it fail as on any lost connection (retried when safe).
  H2ClientConn& c = *self;
  while (!c.closed_) {
    const int64_t now = steady_ms();
    const int64_t due = c.ping_outstanding_ ? c.ping_sent_ms_ + c.ping_timeout_ms_
                                            : c.last_rx_ms_ + c.ping_interval_ms_;
    if (now < due) {
      c.ping_timer_.expires_after(std::chrono::milliseconds(due - now));
      co_await c.ping_timer_.async_wait(use_nothrow);
      continue;
    }
    if (c.ping_outstanding_) {
      log::warn("upstream HTTP/2 PING unanswered, connection closed",
                {log::f("peer", c.peer()), log::n("timeout_ms", c.ping_timeout_ms_)});
      c.close();
      break;
    }
    if (nghttp2_submit_ping(c.session_, NGHTTP2_FLAG_NONE, nullptr) != 0) break;
    c.ping_outstanding_ = true;
    c.ping_sent_ms_ = now;
    c.writer_wake_.notify();
  }
}

awaitable<void> H2ClientConn::idle_loop(std::shared_ptr<H2ClientConn> self) {
  // A connection without streams for the pool's idle timeout is closed
  // (checked at that period, so it lives between one and two timeouts).
  H2ClientConn& c = *self;
  while (!c.closed_) {
    c.idle_timer_.expires_after(std::chrono::milliseconds(c.idle_timeout_ms_));
    co_await c.idle_timer_.async_wait(use_nothrow);
    if (c.closed_) break;
    if (c.streams_.empty() && steady_ms() - c.idle_since_ms_ >= c.idle_timeout_ms_) {
      c.goaway_ = true;  // no new streams; tell the peer why we go
      nghttp2_submit_goaway(c.session_, NGHTTP2_FLAG_NONE,
                            nghttp2_session_get_last_proc_stream_id(c.session_), NGHTTP2_NO_ERROR,
                            nullptr, 0);
      c.retiring_ = true;
      c.writer_wake_.notify();
      break;
    }
  }
}

int H2ClientConn::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  H2Stream* s = stream_of(session, frame->hd.stream_id);
  if (!s) return 0;
  if (s->head_ready) {
    s->collecting_trailers = true;
    s->trailers.clear();
  } else {
    s->status = 0;
    s->headers.clear();
  }
  s->header_bytes = 0;
  return 0;
}

int H2ClientConn::on_header(nghttp2_session* session, const nghttp2_frame* frame,
                            const uint8_t* name, size_t namelen, const uint8_t* value,
                            size_t valuelen, uint8_t, void*) {
  H2Stream* s = stream_of(session, frame->hd.stream_id);
  if (!s) return 0;
  s->header_bytes += namelen + valuelen + 32;
  if (s->header_bytes > kMaxHeaderBytes) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  // nghttp2's messaging checks already refused CR, LF and NUL, upper-case
  // names and connection-specific fields (RFC 9113 8.2).
  if (s->collecting_trailers) {
    if (!n.empty() && n[0] == ':') return 0;
    s->trailers.push_back({std::string(n), std::string(v)});
    return 0;
  }
  if (n == ":status") {
    int st = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), st);
    s->status = ec == std::errc() && p == v.data() + v.size() ? st : 0;
    return 0;
  }
  if (!n.empty() && n[0] == ':') return 0;
  s->headers.push_back({std::string(n), std::string(v)});
  return 0;
}

int H2ClientConn::on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto& c = *static_cast<H2ClientConn*>(user);
  switch (frame->hd.type) {
    case NGHTTP2_PING:
      if (frame->hd.flags & NGHTTP2_FLAG_ACK) c.ping_outstanding_ = false;
      return 0;
    case NGHTTP2_SETTINGS:
      if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) c.settings_received_ = true;
      return 0;
    case NGHTTP2_GOAWAY:
      // Streams above last_stream_id were never processed; nghttp2 closes
      // them (on_stream_close marks them refused).
      c.goaway_ = true;
      c.goaway_last_id_ = frame->goaway.last_stream_id;
      return 0;
    case NGHTTP2_HEADERS: {
      H2Stream* s = stream_of(session, frame->hd.stream_id);
      if (!s) return 0;
      if (!s->head_ready && !s->collecting_trailers) {
        if (s->status >= 100 && s->status < 200) {
          // Interim response (100, 103): not forwarded.
          s->headers.clear();
          s->status = 0;
          return 0;
        }
        s->head_ready = true;
      }
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) s->rx_end = true;
      s->rx_wake.notify();
      return 0;
    }
    case NGHTTP2_DATA: {
      H2Stream* s = stream_of(session, frame->hd.stream_id);
      if (s && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        s->rx_end = true;
        s->rx_wake.notify();
      }
      return 0;
    }
    default: return 0;
  }
}

int H2ClientConn::on_data_chunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                                size_t len, void* user) {
  auto& c = *static_cast<H2ClientConn*>(user);
  H2Stream* s = stream_of(session, id);
  if (!s || s->abandoned) {
    c.orphan_bytes_ += len;  // nobody reads it: give the window back
    return 0;
  }
  s->rx.append(reinterpret_cast<const char*>(data), len);
  s->rx_wake.notify();
  return 0;
}

int H2ClientConn::on_stream_close(nghttp2_session*, int32_t id, uint32_t code, void* user) {
  auto& c = *static_cast<H2ClientConn*>(user);
  auto it = c.streams_.find(id);
  if (it == c.streams_.end()) return 0;
  auto s = it->second;
  c.streams_.erase(it);
  bool refused = code == NGHTTP2_REFUSED_STREAM || (c.goaway_ && id > c.goaway_last_id_);
  c.stream_gone(*s, code, refused);
  if (c.streams_.empty()) {
    c.idle_since_ms_ = steady_ms();
    if (c.retiring_) c.writer_wake_.notify();
  }
  return 0;
}

ssize_t H2ClientConn::read_body(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                                uint32_t* flags, nghttp2_data_source* source, void*) {
  auto* s = static_cast<H2Stream*>(source->ptr);
  size_t n = std::min(length, s->tx_queued());
  if (n) {
    std::memcpy(buf, s->tx.data() + s->tx_off, n);
    s->tx_off += n;
    if (s->tx_off == s->tx.size()) {
      s->tx.clear();
      s->tx_off = 0;
    }
    s->tx_wake.notify();  // room for more
  }
  if (s->tx_queued() == 0 && s->tx_end) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!s->tx_trailers.empty()) {
      std::vector<nghttp2_nv> nva;
      for (const auto& f : s->tx_trailers) {
        nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(f.name.data())),
                       reinterpret_cast<uint8_t*>(const_cast<char*>(f.value.data())),
                       f.name.size(), f.value.size(), NGHTTP2_NV_FLAG_NONE});
      }
      if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    s->tx_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

H2Pools::~H2Pools() {
  // Connections with streams in flight finish them first (a reload must not
  // cut a long gRPC stream); idle ones close now.
  for (auto& conns : targets_)
    for (auto& c : conns) c->retire();
}

std::shared_ptr<H2ClientConn> H2Pools::find(int target) {
  auto& conns = targets_[static_cast<size_t>(target)];
  std::erase_if(conns, [](const std::shared_ptr<H2ClientConn>& c) { return !c->usable(); });
  for (auto& c : conns)
    if (c->can_open()) return c;
  return nullptr;
}

void H2Pools::add(int target, std::shared_ptr<H2ClientConn> c) {
  targets_[static_cast<size_t>(target)].push_back(std::move(c));
}

size_t H2Pools::connections(int target) const { return targets_[static_cast<size_t>(target)].size(); }

}  // namespace gatehouse::proxy
