#include "ai/guardrails/detect.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::ai::guardrails {
namespace {

constexpr PiiSet kAll = 0x1f;

// "type:text" of every match, in order.
std::vector<std::string> found(std::string_view text, PiiSet set = kAll) {
  std::vector<PiiMatch> m;
  find_pii(text, set, m);
  std::vector<std::string> out;
  for (const auto& x : m)
    out.push_back(std::string(pii_name(x.type)) + ":" +
                  std::string(text.substr(x.begin, x.end - x.begin)));
  return out;
}

using V = std::vector<std::string>;

TEST(Luhn, KnownNumbers) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("378282246310005"));
  EXPECT_TRUE(luhn_valid("5500000000000004"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(luhn_valid("41x1"));
}

TEST(Entropy, HexStaysAtOrUnderFourBits) {
  EXPECT_LE(shannon_entropy("0123456789abcdef0123456789abcdef0123456789abcdef"), 4.0);
  EXPECT_GT(shannon_entropy("Zq8vR2xLm4Np7TbKc1WdYf6GhJs3Ea9U"), 4.0);
  EXPECT_EQ(shannon_entropy("aaaa"), 0.0);
}

TEST(Cards, WithAndWithoutSeparators) {
  EXPECT_EQ(found("pay 4111111111111111 now"), V{"card:4111111111111111"});
  EXPECT_EQ(found("card 4111 1111 1111 1111."), V{"card:4111 1111 1111 1111"});
  EXPECT_EQ(found("amex 3782-822463-10005"), V{"card:3782-822463-10005"});
}

TEST(Cards, FalsePositives) {
  EXPECT_EQ(found("order 4111111111111112 shipped", pii_bit(PiiType::kCard)), V{});  // Luhn
  EXPECT_EQ(found("id 123456789012", pii_bit(PiiType::kCard)), V{});                 // 12 digits
  EXPECT_EQ(found("x4111111111111111", pii_bit(PiiType::kCard)), V{});        // inside a word
  EXPECT_EQ(found("41111111111111111111111", pii_bit(PiiType::kCard)), V{});  // 23 digits
}

TEST(Emails, FoundAndBounded) {
  EXPECT_EQ(found("mail jane.doe+tag@example.co.uk, thanks"),
            V{"email:jane.doe+tag@example.co.uk"});
  EXPECT_EQ(found("at a@b.io."), V{"email:a@b.io"});
}

TEST(Emails, FalsePositives) {
  PiiSet e = pii_bit(PiiType::kEmail);
  EXPECT_EQ(found("@mention and user@localhost and x@y.1", e), V{});
  EXPECT_EQ(found("npm i @scope/pkg@1.2.3", e), V{});
}

TEST(Phones, E164AndNational) {
  EXPECT_EQ(found("call +14155552671 today"), V{"phone:+14155552671"});
  EXPECT_EQ(found("call +44 20 7946 0958"), V{"phone:+44 20 7946 0958"});
  EXPECT_EQ(found("us (555) 123-4567 ok"), V{"phone:(555) 123-4567"});
  EXPECT_EQ(found("us 555-123-4567"), V{"phone:555-123-4567"});
  EXPECT_EQ(found("uk 020 7946 0958"), V{"phone:020 7946 0958"});
}

TEST(Phones, FalsePositives) {
  PiiSet p = pii_bit(PiiType::kPhone);
  EXPECT_EQ(found("on 2024-01-15 at 10:30", p), V{});
  EXPECT_EQ(found("epoch 1700000000 seconds", p), V{});  // one group of 10 digits
  EXPECT_EQ(found("version 1.2.3 and +12 points", p), V{});
}

TEST(ApiKeys, WellKnownPrefixes) {
  EXPECT_EQ(found("key sk-proj-abcdefghijklmnopqrstuvwx end"),
            V{"api_key:sk-proj-abcdefghijklmnopqrstuvwx"});
  EXPECT_EQ(found("AKIAIOSFODNN7EXAMPLE"), V{"api_key:AKIAIOSFODNN7EXAMPLE"});
  EXPECT_EQ(found("ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
            V{"api_key:ghp_0123456789abcdefghijklmnopqrstuvwxyz"});
  EXPECT_EQ(found("slack xoxb-1234567890-abcdefghij"), V{"api_key:xoxb-1234567890-abcdefghij"});
}

TEST(ApiKeys, HighEntropyTokens) {
  EXPECT_EQ(found("token Zq8vR2xLm4Np7TbKc1WdYf6GhJs3Ea9U"),
            V{"api_key:Zq8vR2xLm4Np7TbKc1WdYf6GhJs3Ea9U"});
}

TEST(ApiKeys, FalsePositives) {
  PiiSet k = pii_bit(PiiType::kApiKey);
  EXPECT_EQ(found("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", k),
            V{});
  EXPECT_EQ(found("uuid 123e4567-e89b-12d3-a456-426614174000", k), V{});
  EXPECT_EQ(found("task-list and sk-short and internationalization", k), V{});
  EXPECT_EQ(found("Supercalifragilisticexpialidocious1Antidisestablishment", k), V{});
  EXPECT_EQ(found("AbstractSingletonProxyFactoryBean2Impl", k), V{});
}

TEST(Ips, V4AndV6) {
  EXPECT_EQ(found("host 192.168.1.20, next"), V{"ip:192.168.1.20"});
  EXPECT_EQ(found("v6 2001:db8::8a2e:370:7334."), V{"ip:2001:db8::8a2e:370:7334"});
  EXPECT_EQ(found("loop ::1 here"), V{"ip:::1"});
}

TEST(Ips, FalsePositives) {
  PiiSet i = pii_bit(PiiType::kIp);
  EXPECT_EQ(found("version 1.2.3.4.5 and 256.1.1.1 and 10:30:45", i), V{});
  EXPECT_EQ(found("std::vector<int> a::b::c", i), V{});
}

TEST(Priority, NoOverlaps) {
  // An IP is not also a phone number; a card is not also a phone number.
  EXPECT_EQ(found("10.20.30.40"), V{"ip:10.20.30.40"});
  EXPECT_EQ(found("4111-1111-1111-1111"), V{"card:4111-1111-1111-1111"});
}

TEST(Names, RoundTrip) {
  for (size_t i = 0; i < kPiiTypes; ++i) {
    auto t = static_cast<PiiType>(i);
    EXPECT_EQ(parse_pii(pii_name(t)), t);
  }
  EXPECT_FALSE(parse_pii("ssn"));
}

}  // namespace
}  // namespace gatehouse::ai::guardrails
