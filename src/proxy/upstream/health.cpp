#include "proxy/upstream/health.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "net/http1/parser.hpp"
#include "net/resolve.hpp"
#include "net/stream.hpp"
#include "net/tls/client.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace {

struct ProbeResult {
  int status = 0;      // 0: no response
  std::string reason;  // why there was none (for the log), "" with a response
};

// Why a TLS handshake failed: the certificate check's own words when it was
// the certificate ("certificate has expired", "hostname mismatch"), else
// OpenSSL's.
std::string handshake_reason(SSL* ssl, const boost::system::error_code& ec) {
  long v = SSL_get_verify_result(ssl);
  if (v != X509_V_OK)
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
  return ec.message();
}

// One probe: connect, TLS handshake when the upstream speaks TLS (the same
// context, SNI and expected name as its traffic, so a target whose
// certificate would fail requests fails its probes too), GET path, read the
// status line.
awaitable<ProbeResult> probe(asio::io_context& ioc, const EndpointList& eps,
                             const std::string& host, const config::ActiveHealthConfig& cfg,
                             asio::ssl::context* tls, const std::string& tls_name,
                             bool tls_verify) {
  ProbeResult out;
  if (eps.empty()) {
    out.reason = "no address resolved";
    co_return out;
  }
  net::Stream stream(tcp::socket{ioc});
  tcp::socket& sock = stream.socket();
  asio::steady_timer timer(ioc, std::chrono::milliseconds(cfg.timeout_ms));
  bool timed_out = false;
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      boost::system::error_code ignored;
      sock.close(ignored);
    }
  });
  auto fail = [&](std::string why) {
    timer.cancel();
    boost::system::error_code ignored;
    sock.close(ignored);
    out.reason = timed_out ? "timed out" : std::move(why);
    return out;
  };
  auto [cec] = co_await sock.async_connect(eps.front(), use_nothrow);
  if (cec || timed_out) co_return fail("connect failed: " + cec.message());
  if (tls) {
    auto& ssl = stream.start_tls(*tls);
    if (!net::tls::prepare_client_ssl(ssl.native_handle(), tls_name, tls_verify))
      co_return fail("TLS name '" + tls_name + "' refused by OpenSSL");
    auto [hec] = co_await ssl.async_handshake(asio::ssl::stream_base::client, use_nothrow);
    if (hec || timed_out)
      co_return fail("TLS handshake failed: " + handshake_reason(ssl.native_handle(), hec));
  }
  std::string req = "GET " + cfg.path + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: gatehouse-health-check\r\nConnection: close\r\n\r\n";
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(req), use_nothrow);
  if (wec) co_return fail("write failed: " + wec.message());
  std::string buf;
  buf.resize(8192);
  size_t have = 0;
  http1::Limits limits;
  std::string why = "no response";
  for (;;) {
    auto [rec, n] = co_await stream.async_read_some(
        asio::buffer(buf.data() + have, buf.size() - have), use_nothrow);
    if (rec || n == 0) {
      if (rec && rec != asio::error::eof) why = "read failed: " + rec.message();
      break;
    }
    have += n;
    http1::ResponseHead head;
    http1::ParseError err;
    auto st = http1::parse_response_head(std::string_view(buf.data(), have), limits, "GET", head, err);
    if (st == http1::ParseStatus::kComplete) {
      out.status = head.status;
      break;
    }
    if (st == http1::ParseStatus::kError || have == buf.size()) {
      why = "not an HTTP response";
      break;
    }
  }
  timer.cancel();
  boost::system::error_code ignored;
  sock.close(ignored);
  if (timed_out) {
    out.status = 0;
    out.reason = "timed out";
  } else if (out.status == 0) {
    out.reason = std::move(why);
  }
  co_return out;
}

awaitable<void> health_loop(asio::io_context& ioc, std::weak_ptr<UpstreamShared> weak, size_t t) {
  int successes = 0, failures = 0;
  asio::steady_timer sleep(ioc);
  for (;;) {
    config::ActiveHealthConfig cfg;
    std::shared_ptr<const EndpointList> eps;
    std::string host, name, address, tls_name;
    std::shared_ptr<asio::ssl::context> tls;  // kept alive across the probe
    bool tls_verify = true;
    {
      auto up = weak.lock();
      if (!up || up->retired.load()) co_return;
      cfg = up->cfg.health_active;
      eps = up->addresses[t]->endpoints.load();
      address = up->cfg.targets[t].address;
      host = cfg.host.empty() ? address : cfg.host;
      name = up->cfg.name;
      tls = up->tls;
      tls_name = up->cfg.tls.sni.empty() ? up->cfg.targets[t].host : up->cfg.tls.sni;
      tls_verify = up->cfg.tls.verify;
    }
    auto result = co_await probe(ioc, *eps, host, cfg, tls.get(), tls_name, tls_verify);
    int status = result.status;
    bool ok = std::find(cfg.healthy_statuses.begin(), cfg.healthy_statuses.end(), status) !=
              cfg.healthy_statuses.end();
    if (ok) {
      ++successes;
      failures = 0;
    } else {
      ++failures;
      successes = 0;
    }
    if (auto up = weak.lock()) {
      auto& st = *up->states[t];
      bool healthy = st.active_healthy.load();
      if (healthy && failures >= cfg.unhealthy_threshold) {
        st.active_healthy.store(false);
        log::warn("target unhealthy",
                  {log::f("upstream", name), log::f("target", address), log::n("status", status),
                   log::f("reason", result.reason.empty() ? "status " + std::to_string(status)
                                                          : result.reason)});
      } else if (!healthy && successes >= cfg.healthy_threshold) {
        st.active_healthy.store(true);
        log::info("target healthy", {log::f("upstream", name), log::f("target", address)});
      }
    } else {
      co_return;
    }
    sleep.expires_after(std::chrono::milliseconds(cfg.interval_ms));
    auto [ec] = co_await sleep.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

awaitable<void> dns_loop(asio::io_context& ioc, std::weak_ptr<UpstreamShared> weak, size_t t) {
  tcp::resolver resolver(ioc);
  asio::steady_timer sleep(ioc);
  for (;;) {
    std::string host, name;
    uint16_t port = 0;
    int64_t refresh = 30'000;
    std::shared_ptr<TargetAddress> addr;
    {
      auto up = weak.lock();
      if (!up || up->retired.load()) co_return;
      host = up->cfg.targets[t].host;
      port = up->cfg.targets[t].port;
      refresh = std::max<int64_t>(up->cfg.dns_refresh_ms, 1000);
      name = up->cfg.name;
      addr = up->addresses[t];
    }
    // Asio resolves on its own thread; the control thread never blocks.
    auto [ec, results] = co_await resolve(resolver, host, std::to_string(port));
    if (!ec) {
      auto list = std::make_shared<EndpointList>();
      for (const auto& r : results) list->push_back(r.endpoint());
      addr->endpoints.store(std::move(list));
      addr->resolved_at_ms.store(steady_ms());
    } else {
      // Keep the last good answer: a DNS blip must not take targets away.
      log::warn("dns resolution failed", {log::f("upstream", name), log::f("host", host),
                                          log::f("error", ec.message())});
    }
    sleep.expires_after(std::chrono::milliseconds(ec && addr->resolved_at_ms.load() == 0
                                                      ? std::min<int64_t>(refresh, 2000)
                                                      : refresh));
    auto [sec] = co_await sleep.async_wait(use_nothrow);
    if (sec) co_return;
  }
}

}  // namespace

void start_upstream_tasks(asio::io_context& control, const std::shared_ptr<UpstreamShared>& up) {
  static thread_local std::vector<std::weak_ptr<UpstreamShared>> started;
  std::erase_if(started, [](const auto& w) { return w.expired(); });
  for (const auto& w : started)
    if (w.lock() == up) return;
  started.push_back(up);
  for (size_t t = 0; t < up->cfg.targets.size(); ++t) {
    if (!up->addresses[t]->is_literal)
      asio::co_spawn(control, dns_loop(control, up, t), asio::detached);
    if (up->cfg.health_active.enabled)
      asio::co_spawn(control, health_loop(control, up, t), asio::detached);
  }
}

}  // namespace gatehouse::proxy
