// Opening a connection to an HTTP/2 upstream for forward_h2.cpp: TCP to the
// target's resolved endpoints, TLS with ALPN h2 (required: HTTP/2 over TLS
// is only what the peer agreed to), then the nghttp2 client session.
#include <openssl/ssl.h>

#include <tuple>

#include "common/clock.hpp"
#include "net/tls/client.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/forward_h2_call.hpp"
#include "proxy/forward_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream/h2_client.hpp"

namespace gatehouse::proxy {

awaitable<std::shared_ptr<H2ClientConn>> H2Forward::connect(Session& s, Exchange& ex, Call& c,
                                                            int target, int64_t deadline_ms) {
  net::WorkerUpstream& wu = *c.wu;
  UpstreamShared& us = *wu.shared;
  const config::UpstreamConfig& ucfg = us.cfg;
  metrics::UpstreamShard& ustats = *wu.stats;
  const auto& tcfg = ucfg.targets[static_cast<size_t>(target)];
  CounterGuard pending = CounterGuard::enter(us.pending);
  auto eps = us.addresses[static_cast<size_t>(target)]->endpoints.load();
  auto conn = std::make_unique<UpstreamConn>(s.worker_.ioc().get_executor());
  conn->target = target;
  boost::system::error_code cec = asio::error::host_not_found;
  for (const auto& ep : *eps) {
    conn->stream.socket() = tcp::socket(s.worker_.ioc());
    conn->deadline.reset_fired();
    conn->deadline.arm(s.worker_.deadlines(), &conn->stream.socket(), deadline_ms);
    auto [ec] = co_await conn->stream.socket().async_connect(ep, use_nothrow);
    cec = ec;
    if (!ec || conn->deadline.fired()) break;
  }
  conn->deadline.disarm();
  pending.release();
  auto fail = [&](bool timed_out, std::string code, std::string detail) {
    ustats.failures.inc();
    if (timed_out) ustats.timeouts.inc();
    record_outcome(us, target, true, false, steady_ms());
    wu.balancer->on_finish(target, std::chrono::microseconds(steady_us() - c.attempt_start_us),
                           false);
    c.last_status = timed_out ? 504 : 502;
    c.last_code = timed_out ? "upstream_connect_timeout" : std::move(code);
    c.last_detail = std::move(detail);
    ex.upstream_target = tcfg.address;
  };
  if (cec || conn->deadline.fired()) {
    bool timed_out = conn->deadline.fired();
    fail(timed_out, "upstream_connect_failed",
         "connecting to " + tcfg.address +
             " failed: " + (timed_out ? std::string("timed out") : cec.message()));
    co_return nullptr;
  }
  us.connections.fetch_add(1, std::memory_order_relaxed);
  conn->live_counter = &us.connections;
  boost::system::error_code ec;
  conn->stream.socket().set_option(tcp::no_delay(true), ec);
  if (us.tls) {
    // ALPN h2 is required: HTTP/2 over TLS is only what the peer agreed to.
    auto& tls = conn->stream.start_tls(*us.tls);
    const std::string& name = ucfg.tls.sni.empty() ? tcfg.host : ucfg.tls.sni;
    static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
    boost::system::error_code hec = asio::error::invalid_argument;
    if (net::tls::prepare_client_ssl(tls.native_handle(), name, ucfg.tls.verify) &&
        SSL_set_alpn_protos(tls.native_handle(), kAlpn, sizeof(kAlpn)) == 0) {
      conn->deadline.arm(s.worker_.deadlines(), &conn->stream.socket(), deadline_ms);
      std::tie(hec) = co_await tls.async_handshake(asio::ssl::stream_base::client, use_nothrow);
      conn->deadline.disarm();
    }
    if (hec) {
      bool timed_out = conn->deadline.fired();
      fail(timed_out, "upstream_tls_failed",
           "TLS to " + tcfg.address + " (" + name +
               ") failed: " + (timed_out ? std::string("timed out") : hec.message()));
      co_return nullptr;
    }
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(tls.native_handle(), &proto, &len);
    if (len != 2 || proto[0] != 'h' || proto[1] != '2') {
      fail(false, "upstream_tls_failed",
           "upstream " + tcfg.address + " did not agree to HTTP/2 (ALPN h2)");
      co_return nullptr;
    }
  }
  ex.connect_us = steady_us() - c.attempt_start_us;
  ustats.connect_latency.observe_us(static_cast<uint64_t>(ex.connect_us));
  auto rep = conn->stream.socket().remote_endpoint(ec);
  conn->peer = ec ? tcfg.address : rep.address().to_string() + ":" + std::to_string(rep.port());
  auto h2 = std::make_shared<H2ClientConn>(std::move(conn), s.worker_.deadlines(),
                                           ucfg.pool.idle_timeout_ms, nullptr,
                                           ucfg.http2.ping_interval_ms, ucfg.http2.ping_timeout_ms);
  if (!h2->start()) {
    fail(false, "upstream_connect_failed", "HTTP/2 session setup failed");
    co_return nullptr;
  }
  co_return h2;
}

}  // namespace gatehouse::proxy
