// llm-token-limit `by: model` / `by: provider`: the key is the target of each
// provider attempt, reserved through reserve_target_async (as llm-budget's
// per-attempt reservation), never refused in the request phase.
#include <gtest/gtest.h>

#include <optional>

#include "policies/llm_token_limit/token_limit.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_llm_token_limit(Registry& r);

namespace {

using llm_token_limit::Reservation;
using llm_token_limit::TokenLimiter;

std::shared_ptr<const Policy> build(const std::string& yaml) {
  Registry r;
  register_llm_token_limit(r);
  config::PolicyRef ref;
  ref.name = "llm-token-limit";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.field = "policies[0]";
  auto p = (*r.find("llm-token-limit"))(ref, bc);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : nullptr;
}

struct Attempt {
  bool ok = false;
  std::string why;
  int64_t retry_after_s = 0;
  Reservation r;
};

Attempt reserve(const TokenLimiter& l, RequestContext& ctx, std::string_view model,
                std::string_view provider, int64_t need) {
  asio::io_context io;
  Attempt a;
  asio::co_spawn(io,
                 l.reserve_target_async(ctx, model, provider, need, a.r, a.why, a.retry_after_s),
                 [&](std::exception_ptr, bool ok) { a.ok = ok; });
  io.run();
  return a;
}

TEST(LlmTokenLimitPerTarget, ByModelKeysOnTheAttemptsModel) {
  auto p = build("{tokens: 100, window: 1m, by: model}");
  ASSERT_TRUE(p);
  const auto* l = dynamic_cast<const TokenLimiter*>(p.get());
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->per_target());
  RequestContext ctx;
  ctx.client_ip = "127.0.0.1";
  ctx.now_ms = 1000;
  auto a = reserve(*l, ctx, "big", "p1", 80);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.r.key, "model:big");
  // The same model is spent for anyone; another model (a fallback) is not.
  auto b = reserve(*l, ctx, "big", "p2", 80);
  EXPECT_FALSE(b.ok);
  EXPECT_NE(b.why.find("token limit of 100 per 1m (model:big) exceeded"), std::string::npos)
      << b.why;
  EXPECT_GE(b.retry_after_s, 1);
  EXPECT_TRUE(reserve(*l, ctx, "small", "p1", 80).ok);
  // The request phase cannot know the model: it never refuses.
  Respond out;
  EXPECT_EQ(p->on_request(ctx, out), Action::kContinue);
  // Settled with the real usage, the room comes back.
  l->settle(a.r, 10, 1001);
  EXPECT_TRUE(reserve(*l, ctx, "big", "p1", 80).ok);
}

TEST(LlmTokenLimitPerTarget, ByProviderKeysOnTheAttemptsProvider) {
  auto p = build("{tokens: 50, window: 1h, by: provider}");
  ASSERT_TRUE(p);
  const auto* l = dynamic_cast<const TokenLimiter*>(p.get());
  ASSERT_NE(l, nullptr);
  RequestContext ctx;
  ctx.client_ip = "127.0.0.1";
  ctx.now_ms = 1000;
  auto a = reserve(*l, ctx, "m1", "openai-main", 40);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.r.key, "provider:openai-main");
  auto b = reserve(*l, ctx, "m2", "openai-main", 40);  // another model, same provider
  EXPECT_FALSE(b.ok);
  EXPECT_NE(b.why.find("(provider:openai-main)"), std::string::npos) << b.why;
  EXPECT_TRUE(reserve(*l, ctx, "m1", "claude", 40).ok);
  // A request larger than the limit says so.
  auto c = reserve(*l, ctx, "m1", "gemini", 60);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.why.find("more than the limit of 50 tokens per 1h"), std::string::npos) << c.why;
}

TEST(LlmTokenLimitPerTarget, CallerKeysStayPerRequest) {
  auto p = build("{tokens: 100, window: 1m, by: consumer}");
  ASSERT_TRUE(p);
  EXPECT_FALSE(dynamic_cast<const TokenLimiter*>(p.get())->per_target());
}

}  // namespace
}  // namespace gatehouse::policy
