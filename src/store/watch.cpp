#include "store/watch.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

#include "common/log.hpp"
#include "common/thread.hpp"

namespace gatehouse::store {

struct ChangeFeed::Hub {
  std::mutex mu;          // callbacks, last
  std::mutex deliver_mu;  // held for a whole delivery round
  std::map<uint64_t, std::shared_ptr<WatchCallback>> callbacks;
  uint64_t next_id = 1;
  int64_t last = 0;  // highest revision delivered (or known at subscribe)
  std::thread::id watcher;

  void deliver(int64_t revision) {
    // deliver_mu first, then the copy of the list: an unsubscribe that
    // waits on deliver_mu can then be sure no round still holds its callback.
    std::lock_guard round(deliver_mu);
    std::vector<std::shared_ptr<WatchCallback>> cbs;
    {
      std::lock_guard g(mu);
      if (revision <= last) return;
      last = revision;
      for (auto& [id, cb] : callbacks) cbs.push_back(cb);
    }
    for (auto& cb : cbs) {
      try {
        (*cb)(revision);
      } catch (const std::exception& e) {
        log::error("store watch callback threw", {log::f("error", e.what())});
      }
    }
  }

  void remove(uint64_t id) {
    std::thread::id w;
    {
      std::lock_guard g(mu);
      callbacks.erase(id);
      w = watcher;
    }
    // Wait for a round in flight, unless this is that round calling.
    if (std::this_thread::get_id() != w) std::lock_guard round(deliver_mu);
  }
};

ChangeFeed::ChangeFeed(std::unique_ptr<FeedSource> source)
    : hub_(std::make_shared<Hub>()), source_(std::move(source)) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

ChangeFeed::~ChangeFeed() {
  stop_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ChangeFeed::wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
}

Subscription ChangeFeed::subscribe(WatchCallback cb, int64_t current) {
  uint64_t id;
  {
    std::lock_guard g(hub_->mu);
    id = hub_->next_id++;
    hub_->callbacks.emplace(id, std::make_shared<WatchCallback>(std::move(cb)));
    if (current > hub_->last) hub_->last = current;
  }
  std::call_once(started_, [this] { thread_ = std::thread([this] { run(); }); });
  std::weak_ptr<Hub> weak = hub_;
  return Subscription([weak, id] {
    if (auto hub = weak.lock()) hub->remove(id);
  });
}

void ChangeFeed::local_commit(int64_t revision) {
  int64_t seen = pending_local_.load();
  while (revision > seen && !pending_local_.compare_exchange_weak(seen, revision)) {
  }
  wake();
}

void ChangeFeed::run() {
  make_this_thread_background("gh-store-feed");
  {
    std::lock_guard g(hub_->mu);
    hub_->watcher = std::this_thread::get_id();
  }
  while (!stop_) {
    int64_t learnt = source_->wait(wake_fd_);
    uint64_t drained;
    while (read(wake_fd_, &drained, sizeof drained) > 0) {
    }
    if (stop_) break;
    int64_t local = pending_local_.exchange(0);
    int64_t rev = learnt > local ? learnt : local;
    if (rev > 0) hub_->deliver(rev);
  }
}

}  // namespace gatehouse::store
