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

}  // namespace
}  // namespace gatehouse::net
