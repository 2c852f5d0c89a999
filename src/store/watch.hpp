// Change delivery shared by both backends: one watcher thread per store
// (started by the first watch()), a registry of callbacks, and a
// backend-specific FeedSource that learns of commits made elsewhere.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.hpp"

namespace gatehouse::store {

// Runs on the watcher thread only.
class FeedSource {
 public:
  virtual ~FeedSource() = default;
  // Blocks until a change may have happened elsewhere, `wake_fd` becomes
  // readable (a local commit or shutdown; the caller drains it) or the
  // source's own poll interval passes. Returns the newest committed revision
  // it learnt of, 0 when it learnt nothing (e.g. the database is down).
  virtual int64_t wait(int wake_fd) = 0;
};

class ChangeFeed {
 public:
  explicit ChangeFeed(std::unique_ptr<FeedSource> source);
  ~ChangeFeed();  // stops and joins the thread
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // `current`: the revision the subscriber already has; only newer ones are
  // delivered to it.
  Subscription subscribe(WatchCallback cb, int64_t current);
  // After this process committed `revision`: delivered without waiting for
  // the source (NOTIFY round trip, poll interval).
  void local_commit(int64_t revision);

 private:
  struct Hub;  // shared with Subscriptions, which may outlive the feed
  void run();
  void wake();

  std::shared_ptr<Hub> hub_;
  std::unique_ptr<FeedSource> source_;
  int wake_fd_ = -1;
  std::atomic<int64_t> pending_local_{0};
  std::atomic<bool> stop_{false};
  std::once_flag started_;
  std::thread thread_;
};

}  // namespace gatehouse::store
