#include "proxy/mirror.hpp"

#include "common/clock.hpp"
#include "net/worker.hpp"

namespace gatehouse::proxy {

namespace {

constexpr int64_t kMirrorTimeoutMs = 10'000;

awaitable<void> run_mirror(net::Worker& worker, std::shared_ptr<net::WorkerUpstream> wu,
                           std::string request) {
  auto& stats = *wu->stats;
  PickContext pc;
  pc.now_ms = steady_ms();
  int t = wu->balancer->pick(pc);
  if (t < 0) co_return;
  stats.requests.inc();
  auto eps = wu->shared->addresses[static_cast<size_t>(t)]->endpoints.load();
  if (!eps || eps->empty()) {
    stats.failures.inc();
    co_return;
  }
  tcp::socket sock(worker.ioc());
  net::Deadline deadline;
  deadline.arm(worker.deadlines(), &sock, steady_ms() + kMirrorTimeoutMs);
  auto [cec] = co_await sock.async_connect(eps->front(), use_nothrow);
  if (cec) {
    stats.failures.inc();
    co_return;
  }
  const auto& target = wu->shared->cfg.targets[static_cast<size_t>(t)];
  // The Host line goes first after the request line, as for primaries.
  size_t eol = request.find("\r\n");
  request.insert(eol + 2, "Host: " + target.address + "\r\n");
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(request), use_nothrow);
  if (wec) {
    stats.failures.inc();
    co_return;
  }
  // Drain the answer until the upstream closes (we asked it to).
  char sink[4096];
  for (;;) {
    auto [rec, n] = co_await sock.async_read_some(asio::buffer(sink), use_nothrow);
    if (rec || n == 0) break;
  }
  if (deadline.fired()) stats.timeouts.inc();
}

}  // namespace

void spawn_mirror(net::Worker& worker, std::shared_ptr<net::WorkerUpstream> wu, std::string head,
                  std::string body) {
  // Ask for close so the drain loop ends without parsing the response.
  head.insert(head.size() - 2, "Connection: close\r\n");
  head += body;
  asio::co_spawn(worker.ioc(), run_mirror(worker, std::move(wu), std::move(head)), asio::detached);
}

}  // namespace gatehouse::proxy
