// Per-tool limits: which rules count a call, keys (consumer, IP, per tool),
// the refusal's retry information and headers, quotas; time is passed in.
#include "mcp/server/tool_limits.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/settings.hpp"
#include "policies/quota/writer.hpp"

namespace gatehouse::mcp::limits {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNowS = 1'780'000'000;  // a fixed wall clock

// Each test builds its rules on a route of its own name, so counters kept
// by identity (reload survival) are never shared between tests.
std::shared_ptr<const ToolLimits> build(const std::string& route_name,
                                        std::vector<config::McpToolLimitConfig> ls) {
  config::RouteConfig r;
  r.name = route_name;
  r.mcp.emplace();
  r.mcp->tool_limits = std::move(ls);
  auto built = ToolLimits::build(r, "routes[0].mcp.tools.limits");
  EXPECT_TRUE(built.ok());
  return built.ok() ? built.value() : nullptr;
}

config::McpToolLimitConfig rate(std::vector<std::string> tools, int64_t n, int64_t window_ms) {
  config::McpToolLimitConfig c;
  c.tools = std::move(tools);
  c.requests = n;
  c.window_ms = window_ms;
  return c;
}

struct Caller {
  policy::Consumer consumer;
  policy::RequestContext ctx;
  explicit Caller(const std::string& name, std::string_view ip = "10.0.0.1") {
    consumer.name = name;
    if (!name.empty()) {
      ctx.consumer = &consumer;
      ctx.credential_id = "cred-" + name;
    }
    ctx.client_ip = ip;
  }
};

TEST(ToolLimits, RefusesPastTheRateWithRetryInformation) {
  auto l = build("rate-basic", {rate({"search*"}, 2, 60'000)});
  Caller alice("alice");
  int64_t t = 1'000'000;  // steady ms, a window boundary
  EXPECT_FALSE(l->admit(alice.ctx, "search", "search", t, kNowS));
  EXPECT_FALSE(l->admit(alice.ctx, "search_docs", "search_docs", t + 1, kNowS));
  auto r = l->admit(alice.ctx, "search", "search", t + 2, kNowS);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->quota);
  EXPECT_EQ(r->limit, 2);
  EXPECT_EQ(r->per, "1m");
  EXPECT_GE(r->retry_after_s, 1);
  EXPECT_LE(r->retry_after_s, 60);
  EXPECT_NE(r->message.find("Rate limit exceeded for tool search"), std::string::npos);
  EXPECT_EQ(r->data.at("limit").as_string(), "rate");
  EXPECT_EQ(r->data.at("tool").as_string(), "search");
  EXPECT_EQ(r->data.at("retryAfter").as_int64(), r->retry_after_s);
  ASSERT_FALSE(r->headers.empty());
  EXPECT_EQ(r->headers[0].name, "Retry-After");
  EXPECT_EQ(r->headers[0].value, std::to_string(r->retry_after_s));
  // A tool no rule names is not limited; another consumer has its own budget.
  EXPECT_FALSE(l->admit(alice.ctx, "weather", "weather", t + 3, kNowS));
  Caller bob("bob");
  EXPECT_FALSE(l->admit(bob.ctx, "search", "search", t + 4, kNowS));
  // The next window admits again.
  EXPECT_FALSE(l->admit(alice.ctx, "search", "search", t + 120'000, kNowS));
}

TEST(ToolLimits, GlobsMatchTheUpstreamOrTheExposedName) {
  auto l = build("rate-names", {rate({"echo"}, 1, 60'000)});
  Caller a("a");
  EXPECT_FALSE(l->admit(a.ctx, "echo", "fixture_echo", 0, kNowS));
  EXPECT_TRUE(l->admit(a.ctx, "echo", "fixture_echo", 1, kNowS));
}

TEST(ToolLimits, PerToolBudgets) {
  auto shared = build("rate-shared", {rate({"*"}, 1, 60'000)});
  auto per = rate({"*"}, 1, 60'000);
  per.per_tool = true;
  auto split = build("rate-split", {per});
  Caller a("a");
  EXPECT_FALSE(shared->admit(a.ctx, "x", "x", 0, kNowS));
  EXPECT_TRUE(shared->admit(a.ctx, "y", "y", 1, kNowS));
  EXPECT_FALSE(split->admit(a.ctx, "x", "x", 0, kNowS));
  EXPECT_FALSE(split->admit(a.ctx, "y", "y", 1, kNowS));
  EXPECT_TRUE(split->admit(a.ctx, "x", "x", 2, kNowS));
}

TEST(ToolLimits, AnonymousCallersAreCountedPerIp) {
  auto l = build("rate-anon", {rate({"*"}, 1, 60'000)});
  Caller one("", "192.0.2.1"), two("", "192.0.2.2");
  EXPECT_FALSE(l->admit(one.ctx, "x", "x", 0, kNowS));
  EXPECT_TRUE(l->admit(one.ctx, "x", "x", 1, kNowS));
  EXPECT_FALSE(l->admit(two.ctx, "x", "x", 2, kNowS));
}

TEST(ToolLimits, SurvivesARebuildOfAnUnchangedRule) {
  auto first = build("rate-reload", {rate({"*"}, 1, 60'000)});
  Caller a("a");
  EXPECT_FALSE(first->admit(a.ctx, "x", "x", 0, kNowS));
  auto second = build("rate-reload", {rate({"other"}, 5, 1000), rate({"*"}, 1, 60'000)});
  EXPECT_TRUE(second->admit(a.ctx, "x", "x", 1, kNowS));
}

class QuotaDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-mcp-quota-XXXXXX";
    root_ = mkdtemp(tmpl);
    saved_ = process_settings().data_dir;
    process_settings().data_dir = (fs::path(root_) / "data").string();
  }
  void TearDown() override {
    (void)policy::quota::flush_usage();
    process_settings().data_dir = saved_;
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_, saved_;
};

TEST_F(QuotaDir, QuotaRefusesUntilThePeriodEnds) {
  config::McpToolLimitConfig q;
  q.tools = {"*"};
  q.quota = 2;
  q.period = "day";
  // A rate on the same tools comes first: a call it refuses spends no quota.
  auto l = build("quota-day", {q, rate({"*"}, 3, 60'000)});
  Caller a("a");
  int64_t day_start = kNowS - kNowS % 86'400;
  int64_t now = day_start + 3'600;
  EXPECT_FALSE(l->admit(a.ctx, "x", "x", 0, now));
  EXPECT_FALSE(l->admit(a.ctx, "x", "x", 1, now));
  auto r = l->admit(a.ctx, "x", "x", 2, now);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->quota);
  EXPECT_EQ(r->per, "day");
  EXPECT_EQ(r->retry_after_s, 86'400 - 3'600);
  EXPECT_EQ(r->data.at("limit").as_string(), "quota");
  EXPECT_EQ(r->headers[1].name, "X-Quota-Limit");
  auto r2 = l->admit(a.ctx, "x", "x", 3, now);  // the rate (3/min) refuses first now
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->quota);
  // The next UTC day has a fresh quota.
  EXPECT_FALSE(l->admit(a.ctx, "x", "x", 120'000, day_start + 86'400));
}

}  // namespace
}  // namespace gatehouse::mcp::limits
