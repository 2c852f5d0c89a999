#include "net/worker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gatehouse::net {
namespace {

TEST(WorkerBuffers, TrimReturnsBuffersTheLastIntervalDidNotNeed) {
  metrics::Registry registry(1);
  Worker w(0, registry, -1);
  std::vector<IoBuffer> held;
  for (int i = 0; i < 40; ++i) held.push_back(w.get_buffer());
  for (auto& b : held) w.put_buffer(std::move(b));
  held.clear();
  EXPECT_EQ(w.cached_buffers(), 40u);
  // The burst itself ran the cache dry, so nothing is surplus yet.
  w.trim_buffers();
  EXPECT_EQ(w.cached_buffers(), 40u);
  // A quiet interval: everything above the floor goes.
  w.trim_buffers();
  EXPECT_EQ(w.cached_buffers(), Worker::kMinCachedBuffers);
}

TEST(WorkerBuffers, SteadyUseKeepsWhatTheLoadNeeds) {
  metrics::Registry registry(1);
  Worker w(0, registry, -1);
  std::vector<IoBuffer> held;
  for (int i = 0; i < 30; ++i) held.push_back(w.get_buffer());
  for (auto& b : held) w.put_buffer(std::move(b));
  held.clear();
  w.trim_buffers();
  // Each interval needs 25 buffers at its peak: 5 are surplus, 25 stay.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 25; ++i) held.push_back(w.get_buffer());
    for (auto& b : held) w.put_buffer(std::move(b));
    held.clear();
    w.trim_buffers();
    EXPECT_EQ(w.cached_buffers(), 25u) << "round " << round;
  }
}

TEST(WorkerSnapshot, RequestCopiesCountOnTheWorkersOwnHolder) {
  metrics::Registry registry(2);  // a shard per worker
  Worker a(0, registry, -1);
  Worker b(1, registry, -1);
  auto snap = std::make_shared<const proxy::Snapshot>();
  a.set_snapshot(snap);
  b.set_snapshot(snap);
  EXPECT_EQ(a.snapshot().get(), snap.get());
  EXPECT_EQ(b.snapshot().get(), snap.get());
  // One reference per worker, however many requests hold a copy.
  EXPECT_EQ(snap.use_count(), 3);
  std::vector<std::shared_ptr<const proxy::Snapshot>> requests(10, a.snapshot());
  EXPECT_EQ(snap.use_count(), 3);
  EXPECT_EQ(a.snapshot().use_count(), 11);
  EXPECT_EQ(b.snapshot().use_count(), 1);
  // A reload: in-flight requests keep the old snapshot until they finish.
  std::weak_ptr<const proxy::Snapshot> old = snap;
  snap.reset();
  a.set_snapshot(std::make_shared<const proxy::Snapshot>());
  b.set_snapshot(std::make_shared<const proxy::Snapshot>());
  EXPECT_FALSE(old.expired());
  EXPECT_EQ(requests.front().get(), old.lock().get());
  requests.clear();
  EXPECT_TRUE(old.expired());
}

}  // namespace
}  // namespace gatehouse::net
