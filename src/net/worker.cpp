#include "net/worker.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread.hpp"
#include "mcp/server/input_required.hpp"
#include "proxy/h2_connection.hpp"
#include "proxy/session.hpp"

namespace gatehouse::net {

namespace {

// Heads worth keeping between requests: the common size. One that carried a
// hundred headers or kilobytes of cookies is freed rather than pinned.
constexpr size_t kMaxFreeHeads = 256;
constexpr size_t kMaxKeptHeaders = 32;
constexpr size_t kMaxKeptHeadBytes = 8 * 1024;

template <class Head>
bool worth_keeping(const Head& h) {
  if (h.headers.capacity() > kMaxKeptHeaders) return false;
  size_t bytes = 0;
  for (const auto& f : h.headers) bytes += f.name.capacity() + f.value.capacity();
  return bytes <= kMaxKeptHeadBytes;
}

}  // namespace

Worker::Worker(size_t index, metrics::Registry& registry, int access_log_fd)
    : index_(index),
      registry_(registry),
      stats_(&registry.worker(index)),
      access_log_(access_log_fd),
      rng_(std::random_device{}() ^ (index * 0x9e3779b97f4a7c15ULL)),
      request_heads_(kMaxFreeHeads, &worth_keeping<http1::RequestHead>),
      response_heads_(kMaxFreeHeads, &worth_keeping<http1::ResponseHead>) {
  id_prefix_ = rng_();
}

Worker::~Worker() {
  if (thread_.joinable()) {
    ioc_->stop();
    thread_.join();
  }
  acceptor_.reset();
  tls_acceptor_.reset();
  park_.reset();
  upstreams_.clear();
  ioc_.reset();  // destroys pending handlers and the sessions they own
}

Result<std::unique_ptr<tcp::acceptor>> Worker::open_acceptor(const tcp::endpoint& ep, int backlog,
                                                             const char* field) {
  auto acc = std::make_unique<tcp::acceptor>(*ioc_);
  boost::system::error_code ec;
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    // SO_REUSEPORT: one accept queue per worker, balanced by the kernel.
    if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      ec = boost::system::error_code(errno, boost::system::system_category());
  }
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(backlog, ec);
  if (ec) {
    return make_error("listen_failed",
                      "cannot listen on " + ep.address().to_string() + ":" +
                          std::to_string(ep.port()) + ": " + ec.message(),
                      field, 0, ErrorSide::kInternal);
  }
  return acc;
}

Result<tcp::endpoint> Worker::listen(const tcp::endpoint& ep, int backlog) {
  auto acc = open_acceptor(ep, backlog, "listeners.proxy");
  if (!acc) return acc.error();
  boost::system::error_code ec;
  auto bound = acc.value()->local_endpoint(ec);
  acceptor_ = std::move(acc.value());
  return bound;
}

Result<tcp::endpoint> Worker::listen_tls(const tcp::endpoint& ep, int backlog) {
  auto acc = open_acceptor(ep, backlog, "listeners.proxy_tls");
  if (!acc) return acc.error();
  boost::system::error_code ec;
  auto bound = acc.value()->local_endpoint(ec);
  tls_acceptor_ = std::move(acc.value());
  return bound;
}

void Worker::start() {
  park_ = std::make_unique<ConnectionPark>(*ioc_, &stats_->active_connections);
  if (!park_->open([this](tcp::socket sock, std::string ip, int64_t idle_since) {
        Session::start(
            std::make_unique<Session>(*this, std::move(sock), std::move(ip), idle_since));
      })) {
    park_.reset();
  }
  asio::co_spawn(*ioc_, tick_loop(), asio::detached);
  if (acceptor_) asio::co_spawn(*ioc_, accept_loop(*acceptor_, false), asio::detached);
  if (tls_acceptor_) asio::co_spawn(*ioc_, accept_loop(*tls_acceptor_, true), asio::detached);
  thread_ = std::thread([this] {
    name_this_thread("gh-worker-" + std::to_string(index_));
    ioc_->run();
    access_log_.flush();
    finished_.store(true);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::set_snapshot(std::shared_ptr<const proxy::Snapshot> snap) {
  // Every request copies the worker's snapshot pointer. Copies of the shared
  // one would all count on one control block, a cache line every worker writes
  // twice per request; this worker's own holder (aliasing the same Snapshot)
  // keeps that count on a line only this thread touches. The holder owns one
  // reference to the shared snapshot and drops it with the last request.
  auto holder = std::make_shared<const std::shared_ptr<const proxy::Snapshot>>(std::move(snap));
  const proxy::Snapshot* raw = holder->get();
  snapshot_ = std::shared_ptr<const proxy::Snapshot>(std::move(holder), raw);
  // Drop per-worker upstream state the new snapshot no longer uses. In-flight
  // requests keep theirs alive through their own shared_ptr.
  std::unordered_map<const proxy::UpstreamShared*, std::shared_ptr<WorkerUpstream>> kept;
  for (const auto& up : snapshot_->upstreams) {
    auto it = upstreams_.find(up.get());
    if (it != upstreams_.end()) kept.emplace(up.get(), it->second);
  }
  upstreams_ = std::move(kept);
}

std::shared_ptr<WorkerUpstream> Worker::upstream_for(
    const std::shared_ptr<proxy::UpstreamShared>& up) {
  auto it = upstreams_.find(up.get());
  if (it != upstreams_.end()) return it->second;
  auto wu = std::make_shared<WorkerUpstream>();
  wu->shared = up;
  wu->stats = &up->stats->shard(index_);
  wu->balancer = proxy::make_balancer(up->cfg.balancer, up->cfg.targets, up->states, rng_());
  wu->pools.reserve(up->cfg.targets.size());
  for (size_t i = 0; i < up->cfg.targets.size(); ++i) wu->pools.emplace_back(&wu->stats->pool_idle);
  upstreams_.emplace(up.get(), wu);
  return wu;
}

void Worker::begin_drain() {
  draining_ = true;
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
  if (tls_acceptor_) tls_acceptor_->close(ec);
  for (auto* s : sessions_) {
    if (s->idle()) s->socket().close(ec);
  }
  if (park_) park_->close_all();
  proxy::H2Connection::drain_worker();
  mcp::mrtr::release_held();  // MCP calls held for a client's retry
}

std::string Worker::next_request_id() {
  // 32 hex digits: a per-worker random prefix, the worker index and a
  // sequence number. Unique without a syscall or a shared counter.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t hi = id_prefix_;
  uint64_t lo = (static_cast<uint64_t>(index_ & 0xffff) << 48) | (++request_seq_ & 0xffffffffffffULL);
  for (int i = 15; i >= 0; --i, hi >>= 4) id[static_cast<size_t>(i)] = kHex[hi & 15];
  for (int i = 31; i >= 16; --i, lo >>= 4) id[static_cast<size_t>(i)] = kHex[lo & 15];
  return id;
}

IoBuffer Worker::get_buffer() {
  if (!free_buffers_.empty()) {
    auto b = std::move(free_buffers_.back());
    free_buffers_.pop_back();
    buffer_low_water_ = std::min(buffer_low_water_, free_buffers_.size());
    return b;
  }
  buffer_low_water_ = 0;
  return allocate_io_buffer(kIoBufferSize);
}

void Worker::put_buffer(IoBuffer b) {
  // Keep a small cache; the rest goes back to the kernel (munmap).
  if (free_buffers_.size() < kMaxCachedBuffers) free_buffers_.push_back(std::move(b));
}

void Worker::trim_buffers() {
  // Buffers that sat in the cache through a whole interval were not needed
  // by the load of that interval: give them back, so a burst's buffers do
  // not stay resident after it (each touched page of them is RSS).
  size_t surplus = std::min(buffer_low_water_, free_buffers_.size());
  size_t keep_at_least = kMinCachedBuffers;
  if (free_buffers_.size() > keep_at_least && surplus > 0) {
    size_t drop = std::min(surplus, free_buffers_.size() - keep_at_least);
    // The oldest sit at the front (the cache is LIFO).
    free_buffers_.erase(free_buffers_.begin(), free_buffers_.begin() + static_cast<ptrdiff_t>(drop));
  }
  buffer_low_water_ = free_buffers_.size();
}

awaitable<void> Worker::accept_loop(tcp::acceptor& acceptor, bool tls) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
    if (ec) {
      if (draining_ || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec == asio::error::no_descriptors) {
        // Out of fds: back off briefly instead of spinning.
        log::error("accept failed", {log::f("error", ec.message())});
        asio::steady_timer t(*ioc_, std::chrono::milliseconds(100));
        co_await t.async_wait(use_nothrow);
      }
      continue;
    }
    stats_->accepted.inc();
    if (!snapshot_) continue;
    if (tls) {
      // Certificates come from the snapshot current at accept time; a
      // snapshot without them (removed by a reload) refuses the connection.
      if (!snapshot_->tls) continue;
      proxy::Session::start(std::make_unique<proxy::Session>(*this, std::move(sock), snapshot_->tls));
      continue;
    }
    proxy::Session::start(std::make_unique<proxy::Session>(*this, std::move(sock)));
  }
}

awaitable<void> Worker::tick_loop() {
  asio::steady_timer timer(*ioc_);
  int64_t last_pool_sweep = 0;
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    int64_t now = steady_ms();
    deadlines_.expire(now);
    if (park_ && snapshot_) park_->expire(now, snapshot_->config.server.http.client_idle_timeout_ms);
    access_log_.flush();
    if (now - last_pool_sweep >= 1000) {
      last_pool_sweep = now;
      trim_buffers();
      pipes_.trim();
      for (auto& [key, wu] : upstreams_) {
        for (auto& pool : wu->pools) pool.expire(now, wu->shared->cfg.pool.idle_timeout_ms);
      }
    }
    if (draining_ && sessions_.empty()) {
      boost::system::error_code ignored;
      for (auto& [key, wu] : upstreams_)
        for (auto& pool : wu->pools) pool.clear();
      for (auto& [key, wu] : upstreams_) wu->h2.reset();
      co_return;
    }
  }
}

}  // namespace gatehouse::net
