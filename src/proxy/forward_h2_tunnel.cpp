// WebSocket to a `protocol: http2` upstream (RFC 8441): the client's
// HTTP/1.1 upgrade (or an RFC 8441 stream, which reaches the Session as
// one) goes up as an extended CONNECT; a 2xx answer opens the tunnel, and
// the gateway answers the client's handshake itself (101 with the accept for
// the client's key). The relay reads frame headers both ways with the same
// limits as the HTTP/1.1 tunnel (upgrade.cpp, docs/proxy.md#websocket).
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "net/websocket/frame.hpp"
#include "net/websocket/handshake.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2_call.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/websocket_tunnel.hpp"

namespace gatehouse::proxy {

namespace {

// Client bytes queued for DATA frames before the gateway stops reading the
// client (the upstream's window paces it from there).
constexpr size_t kTxHighWater = 64 * 1024;
// After the client's orderly close, how long the stream may take to end.
constexpr int64_t kCloseWaitMs = 1'000;

struct Tunnel {
  Tunnel(net::Worker& w, net::Stream& cs, net::Deadline& cd, ReadBuffer& e, H2Stream& s,
         H2ClientConn& cn, Exchange& x, int64_t i, bool extensions,
         const net::websocket::FrameLimits& l)
      : worker(w),
        client(cs),
        client_d(cd),
        early(e),
        st(s),
        conn(cn),
        ex(x),
        idle(i),
        up(true, extensions, l),
        down(false, extensions, l) {}
  net::Worker& worker;
  net::Stream& client;
  net::Deadline& client_d;
  ReadBuffer& early;  // bytes the client sent after its request head
  H2Stream& st;
  H2ClientConn& conn;
  Exchange& ex;
  int64_t idle;
  net::websocket::FrameScanner up, down;  // client's frames, upstream's frames
  int64_t last_ms = 0;                    // last byte either way
  bool done = false;                      // one way ended: the other stops
  bool client_eof = false, client_reset = false;
  bool upstream_end = false, upstream_reset = false, idled = false;
  bool down_writing = false;  // a write to the client did not finish
  uint16_t close = 0;         // a refused frame: the code for its sender
  bool refused_up = false;    // ... and the sender was the client
  const char* why = "";
};

// Client to upstream: reads the client, queues what the scanner passes as
// DATA, and waits while more than kTxHighWater is queued.
awaitable<void> pump_up(Tunnel& t) {
  H2Stream& st = t.st;
  Exchange& ex = t.ex;
  ReadBuffer b(t.worker);
  if (!t.early.empty()) {  // bytes the client sent after its request head
    auto r = t.up.scan(t.early.view());
    st.tx.append(t.early.view().substr(0, r.pass));
    ex.bytes_in += r.pass;
    t.early.consume(r.pass);
    t.conn.resume(st);
    if (r.close) {
      t.close = r.close;
      t.refused_up = true;
      t.why = r.why;
      t.done = true;
    }
    // An unfinished frame header (13 bytes at most) waits for the rest.
    b.prepare(net::Worker::kIoBufferSize);
    size_t n = std::min(t.early.size(), b.writable().size());
    std::memcpy(b.writable().data(), t.early.view().data(), n);
    b.commit(n);
    t.early.consume(t.early.size());
  }
  while (!t.done) {
    if (!b.empty()) {
      auto r = t.up.scan(b.view());
      if (r.pass) {
        st.tx.append(b.view().substr(0, r.pass));
        ex.bytes_in += r.pass;
        b.consume(r.pass);
        t.conn.resume(st);
      }
      if (r.close) {
        t.close = r.close;
        t.refused_up = true;
        t.why = r.why;
        break;
      }
    }
    while (st.tx_queued() > kTxHighWater && !st.closed && !t.done) co_await st.tx_wake.wait(0);
    if (st.closed || t.done) break;
    b.prepare(net::Worker::kIoBufferSize);
    t.client_d.arm(t.worker.deadlines(), &t.client.socket(), t.last_ms + t.idle);
    auto [ec, n] = co_await t.client.async_read_some(b.writable(), use_nothrow);
    if (t.done) break;
    if (ec || n == 0) {
      t.client_eof = true;
      t.client_reset = ec == asio::error::connection_reset;
      break;
    }
    t.last_ms = steady_ms();
    b.commit(n);
  }
  t.done = true;
  st.rx_wake.notify();  // the other way stops
}
// Upstream to client: DATA as they come, through the scanner; the
// stream's window reopens as the client takes them.
awaitable<void> pump_down(Tunnel& t) {
  H2Stream& st = t.st;
  Exchange& ex = t.ex;
  while (!t.done) {
    while (st.rx.empty() && !st.rx_end && !st.closed && !t.done) {
      if (!co_await st.rx_wake.wait(t.last_ms + t.idle) && steady_ms() >= t.last_ms + t.idle) {
        t.idled = true;
        break;
      }
    }
    if (t.idled || t.done) break;
    if (!st.rx.empty()) {
      auto r = t.down.scan(st.rx);
      if (r.pass) {
        t.down_writing = true;
        t.last_ms = steady_ms();
        t.client_d.arm(t.worker.deadlines(), &t.client.socket(), t.last_ms + t.idle);
        auto [ec, n] =
            co_await asio::async_write(t.client, asio::buffer(st.rx.data(), r.pass), use_nothrow);
        if (ec) break;
        t.down_writing = false;
        ex.bytes_out += r.pass;
        st.rx.erase(0, r.pass);
        t.conn.consume(st, r.pass);
      }
      if (r.close) {
        t.close = r.close;
        t.why = r.why;
        break;
      }
      if (r.pass) continue;
    }
    if (st.rx_end || st.closed) {
      t.upstream_end = true;
      t.upstream_reset = st.closed && !st.rx_end && st.error_code != 0;
      break;
    }
    // Only part of a frame header: wait for the rest.
    if (!co_await st.rx_wake.wait(t.last_ms + t.idle) && steady_ms() >= t.last_ms + t.idle) {
      t.idled = true;
      break;
    }
  }
  if (!t.done) {
    t.done = true;
    t.client.cancel();  // the other way stops (a pending client read)
    st.tx_wake.notify();
  }
}

}  // namespace

bool H2Forward::tunnel_fields(const Exchange& ex, std::vector<H2Field>& fields) {
  // RFC 8441 4/5: CONNECT with :protocol, the rest as RFC 6455 has it except
  // the key (the client's handshake is answered here, not upstream).
  for (auto& f : fields)
    if (f.name == ":method") f.value = "CONNECT";
  std::erase_if(fields, [](const H2Field& f) {
    return f.name == "sec-websocket-key" || f.name == "sec-websocket-version";
  });
  fields.insert(fields.begin() + 1, H2Field{":protocol", "websocket"});
  fields.push_back({"sec-websocket-version", "13"});
  return ex.head->find("sec-websocket-key") != nullptr;
}

awaitable<bool> H2Forward::tunnel(Session& s, Exchange& ex, Call& c) {
  using namespace asio::experimental::awaitable_operators;
  H2Stream& st = *c.st;
  H2ClientConn& conn = *c.conn;
  const config::RouteWebSocketConfig& wcfg = ex.match.route->websocket;
  const int64_t idle = tunnel_idle_ms(ex, c.to->idle_ms);
  ex.status = 101;
  s.closing_ = true;

  http1::ResponseHead head;
  head.status = 101;
  head.reason = "Switching Protocols";
  bool extensions = false;
  for (const auto& f : st.headers) {
    if (f.name.empty() || f.name[0] == ':' || iequals(f.name, "content-length")) continue;
    if (iequals(f.name, "sec-websocket-extensions") && !f.value.empty()) extensions = true;
    head.headers.push_back({f.name, f.value});
  }
  std::string dhead = upgrade_response_head(
      ex, std::move(head),
      "Sec-WebSocket-Accept: " + net::websocket::accept_for(*ex.head->find("sec-websocket-key")) +
          "\r\n");
  if (!co_await s.write_all(s.stream_, s.deadline_, dhead, {}, idle)) {
    conn.abandon(st);
    co_return false;
  }

  Tunnel t(s.worker_, s.stream_, s.deadline_, s.buf_, st, conn, ex, idle, extensions,
           {wcfg.max_frame_size, wcfg.max_message_size});
  t.last_ms = steady_ms();

  co_await (pump_up(t) && pump_down(t));
  s.deadline_.disarm();

  auto mask = net::websocket::new_mask_key();
  if (t.close) {
    note_refused_frame(ex, t.close, t.why, t.refused_up);
    // Closes as in upgrade.cpp: the code to the sender, 1001 to the other,
    // each only where the bytes already sent end on a frame boundary.
    std::string to_client, to_upstream;
    if (t.refused_up) {
      to_client = net::websocket::close_frame(t.close, t.why, nullptr);
      to_upstream = net::websocket::close_frame(net::websocket::kCloseGoingAway,
                                                "the other side broke the rules", &mask);
    } else {
      to_upstream = net::websocket::close_frame(t.close, t.why, &mask);
      to_client = net::websocket::close_frame(net::websocket::kCloseGoingAway,
                                              "the other side broke the rules", nullptr);
    }
    if (!st.closed && t.up.at_boundary()) {
      st.tx.append(to_upstream);
      st.tx_end = true;
      conn.resume(st);
    }
    if (!t.down_writing && t.down.at_boundary())
      co_await s.write_all(s.stream_, s.deadline_, to_client, {}, kCloseWaitMs);
  }
  if (t.client_eof && !t.client_reset && !st.closed) {
    // END_STREAM for the client's FIN (RFC 8441 6), and a moment for the
    // upstream to end its side before the stream is cancelled.
    st.tx_end = true;
    conn.resume(st);
    int64_t until = steady_ms() + kCloseWaitMs;
    while (!st.closed && !st.rx_end && steady_ms() < until) co_await st.rx_wake.wait(until);
  } else if (t.close && !st.closed) {
    int64_t until = steady_ms() + kCloseWaitMs;
    while (!st.closed && st.tx_queued() > 0 && steady_ms() < until) co_await st.tx_wake.wait(until);
  }
  conn.abandon(st);  // RST_STREAM CANCEL if still open: the client reset, or went idle
  if (t.upstream_reset) s.stream_.reset();
  co_return false;
}

}  // namespace gatehouse::proxy
