// WebSocket tunnels (RFC 6455 4): once the upstream answers 101 to a
// forwarded upgrade, the exchange relays bytes both ways, bounded by the
// route's idle timeout (no bytes either way), and the connection leaves
// keep-alive for good. The client side is an HTTP/1.1 connection or an
// HTTP/2 stream's pipe (an RFC 8441 extended CONNECT, proxy/h2_connection):
// both arrive here alike.
//
// Frame headers are read as the bytes pass (net/websocket/frame.hpp), never
// the payloads: a frame or message over the route's limits closes the
// tunnel with 1009, an invalid frame with 1002 (to its sender), the other
// side getting 1001 (docs/proxy.md#websocket).
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "net/websocket/frame.hpp"
#include "net/websocket/handshake.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/upstream/pool.hpp"
#include "proxy/websocket_tunnel.hpp"

namespace gatehouse::proxy {

namespace {

// Bytes of an oversized frame a refused sender may still push at us, read
// and dropped after our Close so the socket closes with FIN, not RST (an
// RST could destroy the Close before the sender reads it).
constexpr size_t kLingerBytes = 4 * 1024 * 1024;
constexpr int64_t kLingerMs = 1'000;

// One direction of the tunnel.
struct Way {
  Way(net::Stream& f, net::Deadline& fd, net::Stream& t, net::Deadline& td,
      net::websocket::FrameScanner sc, uint64_t& b)
      : from(f), from_d(fd), to(t), to_d(td), scanner(sc), bytes(b) {}
  net::Stream& from;
  net::Deadline& from_d;
  net::Stream& to;
  net::Deadline& to_d;
  net::websocket::FrameScanner scanner;
  uint64_t& bytes;
  bool writing = false;  // a write did not finish: `to` may have half a frame
  bool aborted = false;  // `from` was reset (TCP RST, RST_STREAM)
  uint16_t close = 0;    // a refused frame: the code for its sender
  const char* why = "";
  std::string carry;  // bytes read before the pump started, not passed yet
};

// Moves bytes from `from` to `to` until either fails or reaches EOF, or a
// frame is refused. Every read re-arms both connections' deadlines: the idle
// timeout counts silence on the whole tunnel, so a one-way stream keeps the
// quiet direction alive. Bytes of an unfinished frame header stay in the
// buffer until the rest comes, so a refused frame's header never goes on.
// The first way to end stops the other (`done`, then cancel: the pipe of an
// HTTP/2 stream takes no per-operation cancellation, so `||` would wait).
awaitable<void> pump(net::Worker& worker, Way& w, bool& done, int64_t idle_ms) {
  ReadBuffer b(worker);
  if (!w.carry.empty()) {
    b.prepare(net::Worker::kIoBufferSize);
    std::memcpy(b.writable().data(), w.carry.data(), w.carry.size());
    b.commit(w.carry.size());
  }
  while (!done) {
    b.prepare(net::Worker::kIoBufferSize);
    int64_t at = steady_ms() + idle_ms;
    w.from_d.arm(worker.deadlines(), &w.from.socket(), at);
    w.to_d.arm(worker.deadlines(), &w.to.socket(), at);
    auto [ec, n] = co_await w.from.async_read_some(b.writable(), use_nothrow);
    if (done) break;
    if (ec || n == 0) {
      w.aborted = ec == asio::error::connection_reset;
      break;
    }
    b.commit(n);
    auto r = w.scanner.scan(b.view());
    if (r.pass > 0) {
      w.writing = true;
      auto [wec, wn] =
          co_await asio::async_write(w.to, asio::buffer(b.view().data(), r.pass), use_nothrow);
      if (wec) break;
      w.writing = false;
      w.bytes += r.pass;
      b.consume(r.pass);
    }
    if (r.close) {
      w.close = r.close;
      w.why = r.why;
      break;
    }
  }
  if (!done) {
    done = true;
    w.from.cancel();
    w.to.cancel();
  }
}

// Reads and drops what a refused sender still sends, until it closes, the
// budget is spent or kLingerMs passed.
awaitable<void> linger(net::Worker& worker, net::Stream& s, net::Deadline& d) {
  ReadBuffer b(worker);
  size_t left = kLingerBytes;
  d.arm(worker.deadlines(), &s.socket(), steady_ms() + kLingerMs);
  while (left > 0 && s.has_socket()) {
    b.prepare(net::Worker::kIoBufferSize);
    auto [ec, n] = co_await s.async_read_some(b.writable(), use_nothrow);
    if (ec || n == 0) break;
    left -= std::min(left, n);
    b.consume(n);
  }
  d.disarm();
}

bool has_header(const http1::ResponseHead& h, std::string_view name) {
  for (const auto& f : h.headers)
    if (iequals(f.name, name) && !f.value.empty()) return true;
  return false;
}

}  // namespace

int64_t tunnel_idle_ms(const Exchange& ex, int64_t fallback_ms) {
  const int64_t configured = ex.match.route->websocket.idle_timeout_ms;
  if (configured > 0) return configured;
  return fallback_ms > 0 ? fallback_ms : 60'000;
}

std::string upgrade_response_head(Exchange& ex, http1::ResponseHead head, std::string_view extra) {
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response(ex.pctx, head.status, head.headers);
  });
  for (auto& h : ex.pctx.response_headers) head.headers.push_back(std::move(h));
  ex.pctx.response_headers.clear();
  std::string out =
      build_downstream_head(head, ex.head->version_minor, 0, false, ex.request_id, false);
  out.insert(out.size() - 2, "Connection: Upgrade\r\nUpgrade: websocket\r\n" + std::string(extra));
  return out;
}

void note_refused_frame(Exchange& ex, uint16_t close_code, std::string_view why, bool from_client) {
  ex.error =
      close_code == net::websocket::kCloseTooBig ? "websocket_too_big" : "websocket_protocol_error";
  log::warn(
      "websocket frame refused, tunnel closed",
      {log::f("request_id", ex.request_id), log::f("reason", std::string(why)),
       log::f("from", from_client ? "client" : "upstream"), log::n("close_code", close_code)});
}

awaitable<bool> Session::relay_upgraded(Exchange& ex, UpstreamConn& conn, ReadBuffer& ubuf,
                                        const http1::ResponseHead& resp,
                                        metrics::UpstreamShard& ustats, int64_t idle_ms) {
  using namespace asio::experimental::awaitable_operators;
  const config::RouteWebSocketConfig& wcfg = ex.match.route->websocket;
  idle_ms = tunnel_idle_ms(ex, idle_ms);

  // RFC 6455 4.1: the accept must answer the key we forwarded; anything
  // else is a server that did not take the upgrade as a WebSocket one.
  const std::string* key = ex.head->find("sec-websocket-key");
  const std::string* accept = nullptr;
  for (const auto& f : resp.headers)
    if (iequals(f.name, "sec-websocket-accept")) accept = &f.value;
  if (!key || !accept || *accept != net::websocket::accept_for(*key)) {
    conn.stream.close();
    ustats.pool_active.add(-1);
    ustats.failures.inc();
    co_return co_await send_error(&ex, 502, "upstream_bad_handshake",
                                  "upstream answered 101 without the Sec-WebSocket-Accept that "
                                  "matches the key sent",
                                  true);
  }

  ex.status = 101;
  closing_ = true;  // whatever happens, this connection carries no further request
  std::string dhead = upgrade_response_head(ex, resp, {});

  // An extension (permessage-deflate) may use the RSV bits; without one
  // they must be zero.
  const bool extensions = has_header(resp, "sec-websocket-extensions");
  const net::websocket::FrameLimits limits{wcfg.max_frame_size, wcfg.max_message_size};
  Way up{stream_,
         deadline_,
         conn.stream,
         conn.deadline,
         net::websocket::FrameScanner(true, extensions, limits),
         ex.bytes_in};
  Way down{conn.stream,
           conn.deadline,
           stream_,
           deadline_,
           net::websocket::FrameScanner(false, extensions, limits),
           ex.bytes_out};

  // Bytes that came with the 101 (the server may speak first) and bytes the
  // client sent after its request head are scanned and go across before the
  // relay starts.
  ubuf.consume(std::min(resp.head_bytes, ubuf.size()));
  auto early_down = down.scanner.scan(ubuf.view());
  bool ok = co_await write_all(stream_, deadline_, dhead, ubuf.view().substr(0, early_down.pass),
                               idle_ms);
  ex.bytes_out += early_down.pass;
  ubuf.consume(early_down.pass);
  if (early_down.close) {
    down.close = early_down.close;
    down.why = early_down.why;
  }
  if (ok && !down.close && !buf_.empty()) {
    auto early_up = up.scanner.scan(buf_.view());
    ok = co_await write_all(conn.stream, conn.deadline, buf_.view().substr(0, early_up.pass), {},
                            idle_ms);
    ex.bytes_in += early_up.pass;
    buf_.consume(early_up.pass);
    if (early_up.close) {
      up.close = early_up.close;
      up.why = early_up.why;
    }
  }
  // What is left of either buffer is an unfinished frame header: the pumps
  // start with it.
  up.carry = buf_.view();
  buf_.consume(buf_.size());
  down.carry = ubuf.view();
  ubuf.consume(ubuf.size());
  if (ok && !up.close && !down.close) {
    // The first direction to end (close, error, idle, refusal) stops the other.
    bool done = false;
    co_await (pump(worker_, up, done, idle_ms) && pump(worker_, down, done, idle_ms));
  }
  deadline_.disarm();
  conn.deadline.disarm();

  Way* refused = up.close ? &up : down.close ? &down : nullptr;
  if (refused) {
    Way& back = refused == &up ? down : up;  // the way that writes to the sender
    const bool sender_is_client = refused == &up;
    note_refused_frame(ex, refused->close, refused->why, sender_is_client);
    // A Close only where the bytes already sent end at a frame's end;
    // otherwise it would land inside a frame, and the close alone says it.
    // Frames to the upstream are masked: the gateway is its client.
    auto mask = net::websocket::new_mask_key();
    if (!back.writing && back.scanner.at_boundary()) {
      std::string f = net::websocket::close_frame(refused->close, refused->why,
                                                  sender_is_client ? nullptr : &mask);
      co_await write_all(refused->from, refused->from_d, f, {}, kLingerMs);
    }
    if (!refused->writing && refused->scanner.at_boundary()) {
      std::string f = net::websocket::close_frame(net::websocket::kCloseGoingAway,
                                                  "the other side broke the rules",
                                                  sender_is_client ? &mask : nullptr);
      co_await write_all(refused->to, refused->to_d, f, {}, kLingerMs);
    }
    co_await linger(worker_, refused->from, refused->from_d);
  }
  // An abort on one side is an abort on the other (RFC 8441 6: RST_STREAM
  // and a TCP RST stand for each other).
  if (up.aborted)
    conn.stream.reset();
  else
    conn.stream.close();
  if (down.aborted) stream_.reset();
  ustats.pool_active.add(-1);
  co_return false;
}

}  // namespace gatehouse::proxy
