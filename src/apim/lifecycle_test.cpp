#include "apim/lifecycle.hpp"

#include <gtest/gtest.h>

namespace gatehouse::apim {
namespace {

TEST(ApiLifecycleRules, Transitions) {
  EXPECT_TRUE(transition_allowed(State::kDraft, State::kPublished));
  EXPECT_FALSE(transition_allowed(State::kDraft, State::kDeprecated));
  EXPECT_FALSE(transition_allowed(State::kDraft, State::kRetired));
  EXPECT_TRUE(transition_allowed(State::kPublished, State::kDeprecated));
  EXPECT_FALSE(transition_allowed(State::kPublished, State::kRetired));
  EXPECT_TRUE(transition_allowed(State::kDeprecated, State::kRetired));
  EXPECT_TRUE(transition_allowed(State::kDeprecated, State::kPublished));
  EXPECT_TRUE(transition_allowed(State::kBlocked, State::kPublished));
  for (State s :
       {State::kDraft, State::kPublished, State::kDeprecated, State::kBlocked, State::kRetired})
    EXPECT_FALSE(transition_allowed(State::kRetired, s));
  EXPECT_EQ(next_states(State::kPublished),
            (std::vector<State>{State::kDeprecated, State::kBlocked}));
  EXPECT_EQ(parse_state("deprecated"), State::kDeprecated);
  EXPECT_FALSE(parse_state("gone"));
}

TEST(ApiLifecycleRules, Versions) {
  EXPECT_EQ(version_kind("1.0.0"), VersionKind::kSemantic);
  EXPECT_EQ(version_kind("2"), VersionKind::kSemantic);
  EXPECT_EQ(version_kind("1.2.3-rc.1"), VersionKind::kSemantic);
  EXPECT_EQ(version_kind("2024-06-01"), VersionKind::kDated);
  EXPECT_EQ(version_kind("2024-06-01.beta"), VersionKind::kDated);
  EXPECT_FALSE(version_kind("2024-02-30"));
  EXPECT_FALSE(version_kind("01.2.3"));
  EXPECT_FALSE(version_kind("1.2.3.4"));
  EXPECT_FALSE(version_kind("v1"));
  EXPECT_FALSE(version_kind("1.0-"));
  EXPECT_FALSE(version_kind("1 0"));
  EXPECT_EQ(major_of("1.4.2"), "1");
  EXPECT_EQ(major_of("12-rc"), "12");
  EXPECT_EQ(major_of("2024-06-01"), "2024-06-01");
}

TEST(ApiLifecycleRules, Dates) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("2026-12-31"), 1798675200);
  EXPECT_EQ(parse_http_date("2026-12-31T23:59:59Z"), 1798761599);
  EXPECT_FALSE(parse_http_date("tomorrow"));
  EXPECT_FALSE(parse_http_date("2026-13-01"));
}

TEST(ApiLifecycleRules, PolicyForState) {
  EXPECT_TRUE(lifecycle_policy({State::kPublished, "a 1", 0, "", "", ""}).empty());
  auto p = lifecycle_policy(
      {State::kDeprecated, "a 1", 1767225600123, "Thu, 31 Dec 2026 23:59:59 GMT", "/v2", "2.0.0"});
  EXPECT_EQ(p.at("name").as_string(), "api-lifecycle");
  EXPECT_EQ(p.at("config").at("deprecation").as_int64(), 1767225600);
  EXPECT_EQ(p.at("config").at("state").as_string(), "deprecated");
}

}  // namespace
}  // namespace gatehouse::apim
