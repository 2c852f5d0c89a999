#include "proxy/upstream/health.hpp"

#include "common/clock.hpp"
#include "common/log.hpp"
#include "net/http1/parser.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace {

// One probe: connect, GET path, read the status line. Returns the status or
// 0 on any failure or timeout.
awaitable<int> probe(asio::io_context& ioc, const EndpointList& eps, const std::string& host,
                     const config::ActiveHealthConfig& cfg) {
  if (eps.empty()) co_return 0;
  tcp::socket sock(ioc);
  asio::steady_timer timer(ioc, std::chrono::milliseconds(cfg.timeout_ms));
  bool timed_out = false;
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      boost::system::error_code ignored;
      sock.close(ignored);
    }
  });
  auto [cec] = co_await sock.async_connect(eps.front(), use_nothrow);
  if (cec || timed_out) {
    timer.cancel();
    co_return 0;
  }
  std::string req = "GET " + cfg.path + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: gatehouse-health-check\r\nConnection: close\r\n\r\n";
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(req), use_nothrow);
  if (wec) {
    timer.cancel();
    co_return 0;
  }
  std::string buf;
  buf.resize(8192);
  size_t have = 0;
  int status = 0;
  http1::Limits limits;
  for (;;) {
    auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf.data() + have, buf.size() - have),
                                                  use_nothrow);
    if (rec || n == 0) break;
    have += n;
    http1::ResponseHead head;
    http1::ParseError err;
    auto st = http1::parse_response_head(std::string_view(buf.data(), have), limits, "GET", head, err);
    if (st == http1::ParseStatus::kComplete) {
      status = head.status;
      break;
    }
    if (st == http1::ParseStatus::kError || have == buf.size()) break;
  }
  timer.cancel();
  boost::system::error_code ignored;
  sock.close(ignored);
  co_return timed_out ? 0 : status;
}

awaitable<void> health_loop(asio::io_context& ioc, std::weak_ptr<UpstreamShared> weak, size_t t) {
  int successes = 0, failures = 0;
  asio::steady_timer sleep(ioc);
  for (;;) {
    config::ActiveHealthConfig cfg;
    std::shared_ptr<const EndpointList> eps;
    std::string host, name, address;
    {
      auto up = weak.lock();
      if (!up || up->retired.load()) co_return;
      cfg = up->cfg.health_active;
      eps = up->addresses[t]->endpoints.load();
      address = up->cfg.targets[t].address;
      host = cfg.host.empty() ? address : cfg.host;
      name = up->cfg.name;
    }
    int status = co_await probe(ioc, *eps, host, cfg);
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
        log::warn("target unhealthy", {log::f("upstream", name), log::f("target", address),
                                       log::n("status", status)});
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
    auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_nothrow);
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
