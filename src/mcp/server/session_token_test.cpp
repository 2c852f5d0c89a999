#include "mcp/server/session_token.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp {
namespace {

SessionState sample() {
  SessionState s;
  s.route = "tools";
  s.consumer = "alice";
  s.protocol_version = "2025-11-25";
  s.issued_s = 1700000000;
  s.upstreams.push_back({"everything", "", "2025-11-25", false, ""});
  s.upstreams.push_back({"remote", "abc-123", "2025-06-18", false, ""});
  s.upstreams.push_back({"down", "", "", true, "https://down/mcp: TLS: certificate verify failed"});
  return s;
}

TEST(SessionToken, RoundTripsAcrossKeysFromTheSameSecret) {
  auto a = SessionKey::derive("0123456789abcdef0123456789abcdef");
  auto b = SessionKey::derive("0123456789abcdef0123456789abcdef");  // another node
  std::string token = a->seal(sample().encode());
  // Visible ASCII only, as the transport requires of Mcp-Session-Id.
  for (char c : token) EXPECT_TRUE(c >= 0x21 && c <= 0x7e);
  auto plain = b->open(token);
  ASSERT_TRUE(plain);
  auto s = SessionState::decode(*plain);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->route, "tools");
  EXPECT_EQ(s->consumer, "alice");
  ASSERT_EQ(s->upstreams.size(), 3u);
  EXPECT_EQ(s->find("remote")->session_id, "abc-123");
  EXPECT_TRUE(s->find("down")->failed);
  EXPECT_EQ(s->find("down")->error, "https://down/mcp: TLS: certificate verify failed");
  EXPECT_EQ(s->find("remote")->error, "");
  EXPECT_EQ(s->find("nope"), nullptr);
  // Two seals of the same state differ (fresh nonce).
  EXPECT_NE(a->seal(sample().encode()), token);
}

TEST(SessionToken, TamperedOrForeignTokensAreRejected) {
  auto k = SessionKey::derive("0123456789abcdef0123456789abcdef");
  auto other = SessionKey::derive("another secret, 32 characters...");
  std::string token = k->seal(sample().encode());
  EXPECT_FALSE(other->open(token));
  for (size_t i = 0; i < token.size(); i += 7) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(k->open(t)) << i;
  }
  EXPECT_FALSE(k->open(""));
  EXPECT_FALSE(k->open("not base64 !"));
  EXPECT_FALSE(k->open(token.substr(0, 20)));
  EXPECT_FALSE(k->open(std::string(10000, 'A')));
}

TEST(SessionToken, RandomProcessKeyIsStable) {
  auto a = SessionKey::derive("");
  auto b = SessionKey::derive("");
  EXPECT_TRUE(b->open(a->seal("x")));
}

TEST(SessionToken, DecodeRejectsOtherShapes) {
  EXPECT_FALSE(SessionState::decode("[]"));
  EXPECT_FALSE(SessionState::decode(R"({"r":"x"})"));
  EXPECT_FALSE(SessionState::decode(R"({"r":"x","c":"","v":"","t":1,"u":[["a","b"]]})"));
  EXPECT_TRUE(SessionState::decode(R"({"r":"x","c":"","v":"","t":1,"u":[]})"));
  // A failed upstream's reason is a string, and the only fifth member.
  EXPECT_TRUE(SessionState::decode(R"({"r":"x","c":"","v":"","t":1,"u":[["a","","",1,"why"]]})"));
  EXPECT_FALSE(SessionState::decode(R"({"r":"x","c":"","v":"","t":1,"u":[["a","","",1,2]]})"));
  EXPECT_FALSE(
      SessionState::decode(R"({"r":"x","c":"","v":"","t":1,"u":[["a","","",1,"w","x"]]})"));
}

TEST(SessionToken, FailureReasonsAreBounded) {
  SessionState s;
  s.upstreams.push_back({"down", "", "", true, std::string(1000, 'x')});
  s.upstreams.push_back({"up", "id", "2025-11-25", false, "ignored: not failed"});
  auto back = SessionState::decode(s.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->upstreams[0].error.size(), SessionState::Upstream::kMaxErrorText);
  EXPECT_EQ(back->upstreams[1].error, "");
  // A multi-byte character across the limit is dropped whole, never split.
  s.upstreams[0].error = std::string(SessionState::Upstream::kMaxErrorText - 1, 'x') + "\xc3\xa9";
  back = SessionState::decode(s.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->upstreams[0].error, std::string(SessionState::Upstream::kMaxErrorText - 1, 'x'));
}

TEST(SessionToken, ClientCapabilitiesTravelWhenThereAreSome) {
  SessionState s;
  s.route = "r";
  EXPECT_EQ(s.encode().find("\"k\""), std::string::npos);  // none: the token stays as it was
  s.client_capabilities = R"({"sampling":{}})";
  auto back = SessionState::decode(s.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->client_capabilities, R"({"sampling":{}})");
}

}  // namespace
}  // namespace gatehouse::mcp
