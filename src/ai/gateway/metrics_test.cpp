#include "ai/gateway/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::ai::gateway {
namespace {

// The admin validator builds a scratch snapshot with one worker before the
// server builds its own: the serving family must have a shard per worker.
TEST(AiMetrics, FamilyGrowsToTheServingWorkerCount) {
  static int run = 0;  // families live for the process: a fresh name per run
  std::string model = "metrics-test-model-" + std::to_string(run++);
  AiFamily* scratch = ai_family(model, "p", 1);
  ASSERT_EQ(scratch->shards().size(), 1u);
  AiFamily* serving = ai_family(model, "p", 4);
  ASSERT_EQ(serving->shards().size(), 4u);
  serving->shard(3).partial.inc();
  scratch->shard(0).partial.inc();  // the old one stays valid for snapshots holding it
  // Asking again with fewer keeps the larger one.
  EXPECT_EQ(ai_family(model, "p", 2), serving);
}

}  // namespace
}  // namespace gatehouse::ai::gateway
