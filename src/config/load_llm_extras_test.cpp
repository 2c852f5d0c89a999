// llm.usage, llm.retry and a model entry's strategy and retry.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(AiConfig, UsageRetryAndStrategy) {
  auto r = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  usage: {retention: 7d, flush_interval: 250ms, max_pending: 500}
  retry: {attempts: 2, backoff: 50ms, max_backoff: 1s, max_retry_after: 5s, first_token_timeout: 20s}
  models:
    - {name: a, targets: [{provider: mock, model: x}], strategy: least-inflight}
    - {name: b, targets: [{provider: mock, model: x}], strategy: cost, retry: {attempts: 1}}
    - {name: c, targets: [{provider: mock, model: x}]}
)yaml");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& l = r.config.llm;
  EXPECT_TRUE(l.usage.enabled);
  EXPECT_EQ(l.usage.retention_ms, 7 * 86'400'000LL);
  EXPECT_EQ(l.usage.flush_interval_ms, 250);
  EXPECT_EQ(l.usage.max_pending, 500u);
  EXPECT_EQ(l.retry.attempts, 2u);
  EXPECT_EQ(l.retry.backoff_ms, 50);
  EXPECT_EQ(l.retry.max_backoff_ms, 1000);
  EXPECT_EQ(l.retry.max_retry_after_ms, 5000);
  EXPECT_EQ(l.retry.first_token_timeout_ms, 20'000);
  EXPECT_EQ(l.models[0].strategy, LlmStrategy::kLeastInflight);
  EXPECT_FALSE(l.models[0].retry.has_value());
  EXPECT_EQ(l.models[1].strategy, LlmStrategy::kCost);
  ASSERT_TRUE(l.models[1].retry.has_value());
  EXPECT_EQ(l.models[1].retry->attempts, 1u);
  EXPECT_EQ(l.models[2].strategy, LlmStrategy::kWeighted);
}

TEST(AiConfig, UsageRetryAndStrategyMistakesNameTheField) {
  auto r = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  usage: {retention: 10m, flush_interval: 2m, max_pending: 0, keep: 1}
  retry: {attempts: 11, backoff: 2s, max_backoff: 1s, first_token_timeout: soon}
  models:
    - {name: a, targets: [{provider: mock, model: x}], strategy: fastest}
)yaml");
  std::set<std::string> fields;
  for (const auto& e : r.errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "llm.usage.retention", "llm.usage.flush_interval", "llm.usage.max_pending",
                        "llm.usage.keep", "llm.retry.attempts", "llm.retry.max_backoff",
                        "llm.retry.first_token_timeout", "llm.models[0].strategy"}))
      << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
