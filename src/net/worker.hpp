// A worker: one thread, one io_context, its own SO_REUSEPORT acceptor, its
// own upstream pools and metric shards. Connections never leave their worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "net/http1/parser.hpp"
#include "net/io_buffer.hpp"
#include "net/park.hpp"
#include "net/read_deferral.hpp"
#include "net/recycler.hpp"
#include "net/splice.hpp"
#include "proxy/access_log.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream/pool.hpp"

namespace gatehouse::proxy {
class Session;
class H2Pools;
}

namespace gatehouse::net {

using proxy::Session;

// A worker's view of one upstream: balancer and pools are thread-local.
struct WorkerUpstream {
  std::shared_ptr<proxy::UpstreamShared> shared;
  std::unique_ptr<proxy::Balancer> balancer;
  std::vector<proxy::TargetPool> pools;  // one per target
  metrics::UpstreamShard* stats = nullptr;
  std::shared_ptr<proxy::H2Pools> h2;  // protocol: http2 (proxy/upstream/h2_client.hpp)
};

class Worker {
 public:
  Worker(size_t index, metrics::Registry& registry, int access_log_fd);
  ~Worker();

  size_t index() const { return index_; }
  asio::io_context& ioc() { return *ioc_; }

  // Opens this worker's acceptor on `ep` with SO_REUSEPORT. Returns the bound
  // endpoint (the port is chosen by the kernel when ep's port is 0).
  Result<tcp::endpoint> listen(const tcp::endpoint& ep, int backlog);
  // The same for the TLS listener (proxy_tls): its connections start with a
  // handshake against the snapshot's TLS contexts.
  Result<tcp::endpoint> listen_tls(const tcp::endpoint& ep, int backlog);
  void start();                 // runs the io_context on a new thread
  void join();
  void stop() { ioc_->stop(); }
  bool finished() const { return finished_.load(); }

  // Called on this worker's thread (posted by the control thread).
  void set_snapshot(std::shared_ptr<const proxy::Snapshot> snap);
  const std::shared_ptr<const proxy::Snapshot>& snapshot() const { return snapshot_; }
  std::shared_ptr<WorkerUpstream> upstream_for(const std::shared_ptr<proxy::UpstreamShared>& up);

  // Graceful shutdown: stop accepting, close idle connections now and busy
  // ones after their current response.
  void begin_drain();
  bool draining() const { return draining_; }
  size_t connection_count() const { return sessions_.size(); }

  DeadlineList& deadlines() { return deadlines_; }
  // Whether the request path's two reads go after the ready work
  // (net/stream.hpp): a keep-alive client's next request, an upstream's answer.
  ReadDeferral& client_reads() { return client_reads_; }
  ReadDeferral& upstream_reads() { return upstream_reads_; }
  metrics::Registry& registry() { return registry_; }
  metrics::WorkerShard& stats() { return *stats_; }
  proxy::AccessLog& access_log() { return access_log_; }
  std::mt19937_64& rng() { return rng_; }
  std::string next_request_id();
  // Parsed heads handed from request to request (net/recycler.hpp): the
  // parser assigns into the header strings the last request left.
  Recycler<http1::RequestHead>& request_heads() { return request_heads_; }
  Recycler<http1::ResponseHead>& response_heads() { return response_heads_; }

  void add_session(Session* s) { sessions_.insert(s); }
  // Hands a long-idle connection to the worker's park (see net/park.hpp);
  // false when the caller must keep waiting on the socket itself.
  bool park_connection(tcp::socket& sock, std::string client_ip, int64_t idle_since_ms) {
    return park_ && park_->park(sock, std::move(client_ip), idle_since_ms);
  }
  size_t parked_connections() const { return park_ ? park_->size() : 0; }
  void remove_session(Session* s) { sessions_.erase(s); }

  // Reusable body buffers (avoid a malloc per request).
  static constexpr size_t kIoBufferSize = 32 * 1024;
  // Up to 32 MiB per worker: enough for an exchange buffer per connection at
  // 1,000 concurrent requests, so bursts do not turn into mmap/munmap pairs.
  static constexpr size_t kMaxCachedBuffers = 1024;
  // Kept however idle the worker gets: a quiet worker's next request needs one.
  static constexpr size_t kMinCachedBuffers = 8;
  IoBuffer get_buffer();
  void put_buffer(IoBuffer b);
  // Frees the buffers the cache did not need in the last interval (tick).
  void trim_buffers();
  size_t cached_buffers() const { return free_buffers_.size(); }
  // Pipes for splice(2) body relays.
  PipeCache& pipes() { return pipes_; }

 private:
  awaitable<void> accept_loop(tcp::acceptor& acceptor, bool tls);
  Result<std::unique_ptr<tcp::acceptor>> open_acceptor(const tcp::endpoint& ep, int backlog,
                                                       const char* field);
  awaitable<void> tick_loop();

  size_t index_;
  // Destroyed explicitly first in ~Worker: pending handlers own sessions
  // whose destructors touch the members below.
  std::unique_ptr<asio::io_context> ioc_ = std::make_unique<asio::io_context>(1);
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<tcp::acceptor> tls_acceptor_;
  std::unique_ptr<ConnectionPark> park_;  // reset before ioc_ (its watch is bound to it)
  std::thread thread_;
  metrics::Registry& registry_;
  metrics::WorkerShard* stats_;
  std::shared_ptr<const proxy::Snapshot> snapshot_;
  std::unordered_map<const proxy::UpstreamShared*, std::shared_ptr<WorkerUpstream>> upstreams_;
  DeadlineList deadlines_;
  ReadDeferral client_reads_;
  ReadDeferral upstream_reads_;
  std::unordered_set<Session*> sessions_;
  proxy::AccessLog access_log_;
  std::mt19937_64 rng_;
  std::vector<IoBuffer> free_buffers_;
  Recycler<http1::RequestHead> request_heads_;
  Recycler<http1::ResponseHead> response_heads_;
  size_t buffer_low_water_ = 0;  // fewest cached buffers since the last trim
  PipeCache pipes_;
  bool draining_ = false;
  std::atomic<bool> finished_{false};
  uint64_t request_seq_ = 0;
  uint64_t id_prefix_ = 0;
};

}  // namespace gatehouse::net
