// Retry-After parsing (RFC 9110 10.2.3 and retry-after-ms) and the cooldown slot.
#include "ai/gateway/cooldown.hpp"

#include <gtest/gtest.h>

namespace gatehouse::ai::gateway {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
constexpr int64_t kExampleUnixMs = 784111777'000;

TEST(AiRetryAfter, DeltaSeconds) {
  EXPECT_EQ(retry_after_ms("120", "", 0), 120'000);
  EXPECT_EQ(retry_after_ms(" 0 ", "", 0), 0);
  EXPECT_EQ(retry_after_ms("", "", 0), -1);
  EXPECT_EQ(retry_after_ms("-5", "", 0), -1);
  EXPECT_EQ(retry_after_ms("1.5", "", 0), -1);  // not delta-seconds, not a date
  EXPECT_EQ(retry_after_ms("soon", "", 0), -1);
  EXPECT_EQ(retry_after_ms("99999999999999999999", "", 0), -1);
}

TEST(AiRetryAfter, HttpDatesInAllThreeForms) {
  const int64_t now = kExampleUnixMs - 30'000;
  EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", "", now), 30'000);
  EXPECT_EQ(retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", "", now), 30'000);
  EXPECT_EQ(retry_after_ms("Sun Nov  6 08:49:37 1994", "", now), 30'000);
  // A date already past asks for no wait.
  EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", "", kExampleUnixMs + 5'000), 0);
  EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:37 PST", "", now), -1);
  EXPECT_EQ(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT trailing", "", now), -1);
}

TEST(AiRetryAfter, MillisecondsHeaderWins) {
  EXPECT_EQ(retry_after_ms("20", "1500", 0), 1500);
  EXPECT_EQ(retry_after_ms("", "250.2", 0), 251);  // rounded up
  EXPECT_EQ(retry_after_ms("3", "abc", 0), 3000);  // unreadable: Retry-After instead
  EXPECT_EQ(retry_after_ms("3", "-1", 0), 3000);
}

TEST(AiCooldown, StartsExtendsAndExpires) {
  Cooldown c("p");
  EXPECT_EQ(c.remaining_ms(1000), 0);
  c.start(1000, 500);
  EXPECT_EQ(c.remaining_ms(1000), 500);
  EXPECT_EQ(c.remaining_ms(1400), 100);
  EXPECT_EQ(c.remaining_ms(1500), 0);
  // A shorter cooldown does not cut a longer one short; a longer one extends it.
  c.start(2000, 10'000);
  c.start(2001, 10);
  EXPECT_EQ(c.remaining_ms(2001), 9'999);
  c.start(3000, 20'000);
  EXPECT_EQ(c.remaining_ms(3000), 20'000);
  EXPECT_EQ(c.started(), 4u);
  // Capped: a provider asking for a day gets kMaxCooldownMs.
  Cooldown d("q");
  d.start(0, 24LL * 3600 * 1000);
  EXPECT_EQ(d.remaining_ms(0), kMaxCooldownMs);
  d.start(0, 0);  // no wait asked: nothing counted
  EXPECT_EQ(d.started(), 1u);
}

TEST(AiCooldown, SlotsArePerProviderAndKeyAndRendered) {
  Cooldown* a = cooldown_for("cd-test-a", "k1");
  EXPECT_EQ(a, cooldown_for("cd-test-a", "k1"));
  EXPECT_NE(a, cooldown_for("cd-test-a", "k2"));
  EXPECT_NE(a, cooldown_for("cd-test-b", "k1"));
  a->start(0, 1000);
  a->count_skip();
  std::string m = render_cooldown_metrics(10);
  EXPECT_NE(m.find("gatehouse_llm_cooldowns_total{provider=\"cd-test-a\"} 1"), std::string::npos);
  EXPECT_NE(m.find("gatehouse_llm_cooldown_skips_total{provider=\"cd-test-a\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("gatehouse_llm_cooling_down{provider=\"cd-test-a\"} 1"), std::string::npos);
  EXPECT_NE(m.find("gatehouse_llm_cooling_down{provider=\"cd-test-b\"} 0"), std::string::npos);
  // The key itself is never part of the metrics.
  EXPECT_EQ(m.find("k1"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::ai::gateway
