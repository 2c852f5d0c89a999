// The sync thread of one Redis endpoint, shared by every policy that uses
// that endpoint, and the CounterStore facade the policy holds.
//
// Lifetime: endpoints live in a process-wide registry until exit, so no
// worker ever joins a thread when the last snapshot using one goes away (a
// policy that is dropped only unregisters its counters). The thread starts on
// the first request a Redis-backed policy sees (so `gatehouse check` never
// connects), parks without a connection while no policy uses it, and is
// stopped and joined by the registry's destructor at exit, after one last
// round that pushes the admissions not yet sent.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread.hpp"
#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::rate_limit {

std::string RedisEndpoint::id() const {
  return host + "|" + std::to_string(port) + "|" + std::to_string(database) + "|" +
         std::to_string(timeout_ms) + "|" + password;
}

std::string RedisEndpoint::label() const {
  return host + ":" + std::to_string(port) + "/" + std::to_string(database);
}

namespace {

using State = ClusterCounter::StoreState;

// Windows are shared by nodes, so they follow the wall clock, while requests
// carry the steady clock; the offset is refreshed every round so a stepped
// wall clock is followed within one interval.
std::atomic<int64_t> g_wall_offset{0};

int64_t wall_offset_now() {
  int64_t wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return wall - steady_ms();
}

std::mutex g_factory_mu;
TransportFactory g_factory;

std::unique_ptr<Transport> new_transport(const RedisEndpoint& ep) {
  std::lock_guard lock(g_factory_mu);
  return g_factory ? g_factory(ep) : make_hiredis_transport(ep);
}

// A write to a connection Redis has closed raises SIGPIPE, which would kill
// the process; blocked on this thread, the write fails with EPIPE instead.
void block_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

constexpr int64_t kIdlePollMs = 1000;    // no policy uses the endpoint
constexpr int64_t kPingEveryMs = 1000;   // nothing to sync: still notice an outage
constexpr int64_t kMaxBackoffMs = 1000;  // matches the 503's Retry-After: 1

class Endpoint {
 public:
  explicit Endpoint(RedisEndpoint cfg) : cfg_(std::move(cfg)) {}
  ~Endpoint() { stop(); }

  void add(const std::shared_ptr<ClusterCounter>& c) {
    std::lock_guard lock(mu_);
    std::erase_if(counters_, [](const auto& w) { return w.expired(); });
    counters_.push_back(c);
    c->set_store_state(state_);
  }

  // The policy is gone; its counters get one more round so the admissions
  // not yet sent still reach the other nodes.
  void retire(std::shared_ptr<ClusterCounter> c) {
    std::lock_guard lock(mu_);
    // Never used (no thread yet): nothing to push, and nothing would drain
    // the list across reloads.
    if (!started_.load(std::memory_order_relaxed) || stop_) return;
    retiring_.push_back(std::move(c));
  }

  void start() {
    if (started_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(mu_);
    if (started_.load(std::memory_order_relaxed) || stop_) return;
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
      log::error("rate-limit store: cannot start the sync thread",
                 {log::f("redis", cfg_.label()), log::f("error", e.what())});
    }
    started_.store(true, std::memory_order_release);
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    // Normal priority: the cluster counters it syncs are what limits are
    // enforced against, so it must keep pace with the workers.
    name_this_thread("gh-redis-sync");
    block_sigpipe();
    transport_ = new_transport(cfg_);
    int64_t next = steady_ms();
    int64_t backoff = 0;
    std::vector<std::shared_ptr<ClusterCounter>> cs;
    for (;;) {
      bool stopping = false;
      int64_t interval = kIdlePollMs;
      cs.clear();
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, next - steady_ms())),
                     [&] { return stop_; });
        stopping = stop_;
        for (const auto& w : counters_) {
          if (auto c = w.lock()) {
            interval = std::min(interval, c->sync_interval_ms());
            cs.push_back(std::move(c));
          }
        }
        for (auto& c : retiring_) cs.push_back(std::move(c));
        retiring_.clear();
      }
      const int64_t start = steady_ms();
      if (cs.empty()) {
        transport_->close();
        if (stopping) return;
        next = start + kIdlePollMs;
        continue;
      }
      // The last round at exit is skipped when the store is down: it would
      // only add a timeout to the shutdown.
      if (stopping) {
        if (state_ != State::kDown) round(cs, start);
        return;
      }
      bool ok = round(cs, start);
      if (ok) {
        backoff = 0;
        next = start + interval;
      } else {
        backoff = backoff == 0 ? interval : std::min(backoff * 2, kMaxBackoffMs);
        backoff = std::max(backoff, interval);
        next = start + backoff;
      }
    }
  }

  bool round(const std::vector<std::shared_ptr<ClusterCounter>>& cs, int64_t now) {
    const int64_t offset = wall_offset_now();
    g_wall_offset.store(offset, std::memory_order_relaxed);
    batch_.clear();
    bounds_.clear();
    for (const auto& c : cs) {
      bounds_.push_back(batch_.ops.size());
      c->collect(now + offset, batch_);
    }
    bounds_.push_back(batch_.ops.size());
    bool ok = true;
    if (!batch_.ops.empty() || state_ != State::kUp || now - last_ok_ms_ >= kPingEveryMs) {
      std::string error;
      ok = transport_->exchange(batch_.ops, totals_, error);
      for (size_t i = 0; i < cs.size(); ++i) {
        if (ok)
          cs[i]->apply(batch_, bounds_[i], bounds_[i + 1], totals_);
        else
          cs[i]->fail(batch_, bounds_[i], bounds_[i + 1]);
      }
      if (ok) last_ok_ms_ = now;
      note_state(ok ? State::kUp : State::kDown, error);
    }
    for (const auto& c : cs) c->set_store_state(state_);
    return ok;
  }

  // Logs once per change, not once per failed round.
  void note_state(State s, const std::string& error) {
    State before = state_;
    if (s == before) return;
    {
      std::lock_guard lock(mu_);
      state_ = s;
    }
    if (s == State::kDown) {
      log::warn("rate-limit store unreachable",
                {log::f("redis", cfg_.label()), log::f("error", error),
                 log::f("effect",
                        "on_store_error: open limits on this node's counts, closed answers 503")});
    } else if (before == State::kDown) {
      log::info("rate-limit store reachable again", {log::f("redis", cfg_.label())});
    } else {
      log::info("rate-limit store connected", {log::f("redis", cfg_.label())});
    }
  }

  const RedisEndpoint cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> started_{false};
  std::thread thread_;
  std::vector<std::weak_ptr<ClusterCounter>> counters_;
  std::vector<std::shared_ptr<ClusterCounter>> retiring_;
  State state_ = State::kUnknown;  // written by the thread under mu_
  // Sync-thread only.
  std::unique_ptr<Transport> transport_;
  SyncBatch batch_;
  std::vector<size_t> bounds_;
  std::vector<int64_t> totals_;
  int64_t last_ok_ms_ = 0;
};

// Process-wide; its destructor (at exit) stops and joins every thread.
struct Endpoints {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<Endpoint>> map;
  ~Endpoints() {
    for (auto& kv : map) kv.second->stop();
  }
};

std::shared_ptr<Endpoint> endpoint_for(const RedisEndpoint& ep) {
  static Endpoints endpoints;
  std::lock_guard lock(endpoints.mu);
  auto& slot = endpoints.map[ep.id()];
  if (!slot) slot = std::make_shared<Endpoint>(ep);
  return slot;
}

class RedisStore final : public CounterStore {
 public:
  RedisStore(std::shared_ptr<ClusterCounter> counter, std::shared_ptr<Endpoint> endpoint)
      : counter_(std::move(counter)), endpoint_(std::move(endpoint)) {}
  ~RedisStore() override { endpoint_->retire(std::move(counter_)); }

  Decision hit(std::string_view key, int64_t now_ms) override {
    endpoint_->start();
    return counter_->hit(key, now_ms + g_wall_offset.load(std::memory_order_relaxed));
  }
  size_t size() const override { return counter_->size(); }

 private:
  std::shared_ptr<ClusterCounter> counter_;
  std::shared_ptr<Endpoint> endpoint_;
};

}  // namespace

std::shared_ptr<CounterStore> make_redis_store(const Limit& limit, const ClusterOptions& options,
                                               std::string scope) {
  g_wall_offset.store(wall_offset_now(), std::memory_order_relaxed);
  auto counter = std::make_shared<ClusterCounter>(limit, options.prefix, std::move(scope),
                                                  options.sync_interval_ms,
                                                  options.redis.timeout_ms, options.fail_closed);
  auto endpoint = endpoint_for(options.redis);
  endpoint->add(counter);
  return std::make_shared<RedisStore>(std::move(counter), std::move(endpoint));
}

void set_transport_factory_for_tests(TransportFactory f) {
  std::lock_guard lock(g_factory_mu);
  g_factory = std::move(f);
}

}  // namespace gatehouse::policy::rate_limit
