// Cluster-wide sliding-window counters in Redis, without Redis on any
// request's critical path. Policy hooks are synchronous, so a worker never
// waits for the network: each node decides on its last view of the cluster's
// counts plus its own admissions not yet sent, and one background thread per
// Redis endpoint pushes those admissions and reads the totals back every
// sync_interval (pipelined INCRBY + PEXPIRE, GET). The price is a small,
// bounded overshoot between syncs (docs/policies/rate-limit.md, "Cluster").
//
// Pieces: ClusterCounter (this node's view and the merge arithmetic, no I/O,
// time injected: what the unit tests drive), Transport (one pipelined round
// trip; hiredis in redis_transport.cpp, a fake in tests), and the endpoint
// thread plus the CounterStore facade in redis_endpoint.cpp.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/rate_limit/counter_store.hpp"

namespace gatehouse::policy::rate_limit {

// Where the counters live. Policies with equal endpoints share one
// connection and one sync thread.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;      // AUTH when set
  int64_t database = 0;      // SELECT when not 0
  int64_t timeout_ms = 200;  // connect, and each read/write of a round

  std::string id() const;     // sharing identity (includes the password)
  std::string label() const;  // for logs: host:port/db, never the password
};

struct ClusterOptions {
  RedisEndpoint redis;
  std::string prefix = "gatehouse:rl:";
  int64_t sync_interval_ms = 100;
  bool fail_closed = false;  // on_store_error: closed
};

// One command of a sync round.
struct SyncOp {
  std::string key;    // the full Redis key, window index included
  int64_t delta = 0;  // > 0: INCRBY key delta, then PEXPIRE key ttl_ms; 0: GET key
  int64_t ttl_ms = 0;
};

// One pipelined round trip to the store.
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends every op in one pipeline and puts each op's resulting count in
  // `totals` (0 for a missing key). No ops: a PING, to learn whether the store
  // is back. False when the store could not be reached or answered an error
  // (`error` says what); which increments landed is then unknown.
  virtual bool exchange(const std::vector<SyncOp>& ops, std::vector<int64_t>& totals,
                        std::string& error) = 0;
  // Drops the connection (nothing left to sync); the next exchange reconnects.
  virtual void close() {}
};

std::unique_ptr<Transport> make_hiredis_transport(const RedisEndpoint& ep);

// The Redis key of one fixed window of one limit key:
//   <prefix><scope>:<limit key>:<window index>
// scope is the policy's attachment and window ("route:orders/policies[1]:60s"),
// the limit key what the request is counted by ("c:alice"); bytes outside
// printable ASCII, blanks and '%' are percent-encoded so keys stay readable.
// The window index is floor(unix ms / window ms): every node must agree on it,
// so cluster windows follow the wall clock (keep nodes NTP-synchronised).
std::string redis_key(std::string_view prefix, std::string_view scope, std::string_view limit_key,
                      int64_t window_index);

// What a sync round sends and what its replies are for.
struct SyncBatch {
  struct Target {
    uint32_t shard = 0;
    std::string key;       // the limit key (the entry)
    int64_t window = 0;    // which fixed window
    int64_t delta = 0;     // admissions sent (moved from pending to in flight)
    bool settles = false;  // a read late enough that the window's count is final
  };
  std::vector<SyncOp> ops;
  std::vector<Target> targets;  // targets[i] describes ops[i]
  void clear() {
    ops.clear();
    targets.clear();
  }
};

// One policy's counters on this node. Admission is decided locally from
// (the last known cluster totals of the current and the previous fixed
// window) + (this node's admissions not yet confirmed by the store), with the
// same arithmetic as the local store (sliding_window_hit). Thread-safe: 64
// shards of mutex + map, as the local store; the sync thread holds a shard
// lock only to copy numbers, never across I/O. Times are wall-clock ms.
class ClusterCounter {
 public:
  enum class StoreState { kUnknown, kUp, kDown };

  ClusterCounter(const Limit& limit, std::string prefix, std::string scope,
                 int64_t sync_interval_ms, int64_t timeout_ms, bool fail_closed);

  Decision hit(std::string_view key, int64_t now_ms);

  // Appends this round's ops: INCRBY for admissions not yet sent (they move
  // to "in flight"), GET of the current window for keys used in the last
  // kWarmRounds rounds, and GET of the previous window until its count is
  // final. Also rolls windows (so a window's first request already sees the
  // cluster's count) and drops entries unused for two windows.
  void collect(int64_t now_ms, SyncBatch& batch);
  // Replies for batch.targets[begin, end) arrived: the totals become the
  // known counts and the in-flight admissions are now part of them.
  void apply(const SyncBatch& batch, size_t begin, size_t end, const std::vector<int64_t>& totals);
  // The round failed: in-flight admissions go back to pending and are sent
  // again (an increment that did land is then counted twice, which errs on
  // the strict side), and the keys are read again next round.
  void fail(const SyncBatch& batch, size_t begin, size_t end);

  void set_store_state(StoreState s) { state_.store(s, std::memory_order_relaxed); }
  StoreState store_state() const { return state_.load(std::memory_order_relaxed); }
  int64_t sync_interval_ms() const { return sync_interval_ms_; }
  size_t size() const;

  // Views for tests: the known / unsynced counts of a key's slot for `window`.
  struct SlotView {
    int64_t known = 0, in_flight = 0, pending = 0;
  };
  SlotView slot(std::string_view key, int64_t window) const;

 private:
  struct Slot {
    int64_t window = 0;
    int64_t known = 0;      // the store's total, as last read
    int64_t in_flight = 0;  // sent in the running round, reply not yet in
    int64_t pending = 0;    // admitted here, not yet sent
    bool settled = false;   // (previous window) read after every node's last push
    int64_t count() const { return known + in_flight + pending; }
  };
  // Rounds in which a key is read again after its last local use: the other
  // nodes' counts stay fresh through short pauses in a client's traffic,
  // while keys nobody here uses any more cost no round trips.
  static constexpr int kWarmRounds = 10;
  struct Entry {
    Slot curr, prev;
    int64_t used_window = 0;  // of the last local hit
    int warm = kWarmRounds;   // rounds left in which the totals are read
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kShards = 64;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;
  };

  static void roll(Entry& e, int64_t idx);
  Slot* find_slot(Entry& e, int64_t window) const;

  const Limit limit_;
  const std::string prefix_;
  const std::string scope_;
  const int64_t sync_interval_ms_;
  // After this long into a window, every node has pushed its admissions of
  // the previous one (one interval, plus a round that may take `timeout`).
  const int64_t settle_ms_;
  const bool fail_closed_;
  std::atomic<StoreState> state_{StoreState::kUnknown};
  std::array<Shard, kShards> shards_;
};

// The cluster store for one policy: a ClusterCounter registered with the
// (shared, lazily started) sync thread of its endpoint. `scope` as in
// redis_key. The thread stops, after a last flush, at process exit.
std::shared_ptr<CounterStore> make_redis_store(const Limit& limit, const ClusterOptions& options,
                                               std::string scope);

// Tests: replaces the hiredis transport for endpoints created from now on.
using TransportFactory = std::function<std::unique_ptr<Transport>(const RedisEndpoint&)>;
void set_transport_factory_for_tests(TransportFactory f);

}  // namespace gatehouse::policy::rate_limit
