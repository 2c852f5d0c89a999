// WebSocket over HTTP/1.1 (RFC 6455 4): once the upstream answers 101 to a
// forwarded upgrade, the exchange is a byte relay in both directions. The
// frames are the endpoints' business; we only move bytes, bounded by the
// route's idle timeout (no bytes either way), and the connection leaves
// keep-alive for good.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "common/clock.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/upstream/pool.hpp"

namespace gatehouse::proxy {

namespace {

// Moves bytes from `from` to `to` until either fails or reaches EOF. Every
// read re-arms both connections' deadlines: the idle timeout counts silence
// on the whole tunnel, so a one-way stream keeps the quiet direction alive.
awaitable<void> pump(net::Worker& worker, net::Stream& from, net::Deadline& from_d, net::Stream& to,
                     net::Deadline& to_d, int64_t idle_ms, uint64_t& bytes) {
  ReadBuffer b(worker);
  for (;;) {
    b.prepare(net::Worker::kIoBufferSize);
    int64_t at = steady_ms() + idle_ms;
    from_d.arm(worker.deadlines(), &from.socket(), at);
    to_d.arm(worker.deadlines(), &to.socket(), at);
    auto [ec, n] = co_await from.async_read_some(b.writable(), use_nothrow);
    if (ec || n == 0) co_return;
    b.commit(n);
    auto [wec, wn] =
        co_await asio::async_write(to, asio::buffer(b.view().data(), b.size()), use_nothrow);
    if (wec) co_return;
    bytes += n;
    b.consume(n);
  }
}

}  // namespace

awaitable<bool> Session::relay_upgraded(Exchange& ex, UpstreamConn& conn, ReadBuffer& ubuf,
                                        const http1::ResponseHead& resp,
                                        metrics::UpstreamShard& ustats, int64_t idle_ms) {
  using namespace asio::experimental::awaitable_operators;
  ex.status = 101;
  closing_ = true;  // whatever happens, this connection carries no further request
  if (idle_ms <= 0) idle_ms = 60'000;
  http1::ResponseHead head = resp;
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response(ex.pctx, head.status, head.headers);
  });
  for (auto& h : ex.pctx.response_headers) head.headers.push_back(std::move(h));
  ex.pctx.response_headers.clear();
  std::string dhead =
      build_downstream_head(head, ex.head->version_minor, 0, false, ex.request_id, false);
  // Connection and Upgrade are hop-by-hop everywhere else; on this 101 they
  // are the answer itself.
  dhead.insert(dhead.size() - 2, "Connection: Upgrade\r\nUpgrade: websocket\r\n");

  // Bytes that came with the 101 (the server may speak first) and bytes the
  // client sent after its request head go across before the relay starts.
  std::string_view early_down = ubuf.view().substr(std::min(resp.head_bytes, ubuf.size()));
  bool ok = co_await write_all(stream_, deadline_, dhead, early_down, idle_ms);
  ex.bytes_out += early_down.size();
  ubuf.consume(ubuf.size());
  if (ok && !buf_.empty()) {
    ok = co_await write_all(conn.stream, conn.deadline, buf_.view(), {}, idle_ms);
    ex.bytes_in += buf_.size();
    buf_.consume(buf_.size());
  }
  if (ok) {
    // The first direction to end (close, error, idle) cancels the other.
    co_await (pump(worker_, stream_, deadline_, conn.stream, conn.deadline, idle_ms, ex.bytes_in) ||
              pump(worker_, conn.stream, conn.deadline, stream_, deadline_, idle_ms, ex.bytes_out));
  }
  deadline_.disarm();
  conn.deadline.disarm();
  conn.stream.close();
  ustats.pool_active.add(-1);
  co_return false;
}

}  // namespace gatehouse::proxy
