#include "mcp/server/outside.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp {
namespace {

json::object request(std::string_view method, json::value id = 5) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
}

int64_t error_code(const json::object& answer) {
  return answer.at("error").as_object().at("code").as_int64();
}

std::string error_message(const json::object& answer) {
  return std::string(answer.at("error").as_object().at("message").as_string());
}

struct OutsideTest : ::testing::Test {
  asio::io_context ioc;
  std::shared_ptr<Feed> feed = std::make_shared<Feed>(ioc.get_executor());
  std::shared_ptr<const SessionKey> key =
      SessionKey::derive("an outside-call test secret, 32+ chars");
  RelayTarget to{"route", "alice", "fixture", "upstream-session", "2025-11-25"};

  std::shared_ptr<OutsideSink> sink(std::string caps) {
    SessionState st;
    st.client_capabilities = std::move(caps);
    return make_client_sink("client-session", feed, to, key, st);
  }
};

TEST_F(OutsideTest, RelayIdSealsWhereTheAnswerGoes) {
  std::string id = relay_id(*key, to, json::value("up-7"));
  ASSERT_TRUE(id.starts_with(kRelayIdPrefix));
  auto plain = key->open(std::string_view(id).substr(kRelayIdPrefix.size()));
  ASSERT_TRUE(plain);
  json::object w = json::parse(*plain).as_object();
  EXPECT_EQ(w.at("r"), "route");
  EXPECT_EQ(w.at("c"), "alice");
  EXPECT_EQ(w.at("s"), "fixture");
  EXPECT_EQ(w.at("u"), "upstream-session");
  EXPECT_EQ(w.at("v"), "2025-11-25");
  EXPECT_EQ(w.at("i"), "up-7");
  // Another key cannot open it.
  auto other = SessionKey::derive("another outside-call test secret, 32+");
  EXPECT_FALSE(other->open(std::string_view(id).substr(kRelayIdPrefix.size())));
}

TEST_F(OutsideTest, CapabilitiesAsDeclared) {
  EXPECT_EQ(needed_capability("sampling/createMessage"), "sampling");
  EXPECT_EQ(needed_capability("elicitation/create"), "elicitation");
  EXPECT_EQ(needed_capability("roots/list"), "roots");
  EXPECT_EQ(needed_capability("tools/call"), "");
  SessionState st;
  EXPECT_FALSE(client_declared(st, "roots"));
  st.client_capabilities = R"({"roots":{"listChanged":true}})";
  EXPECT_TRUE(client_declared(st, "roots"));
  EXPECT_FALSE(client_declared(st, "sampling"));
  EXPECT_FALSE(client_declared(st, ""));
  st.client_capabilities = "not json";
  EXPECT_FALSE(client_declared(st, "roots"));
}

TEST_F(OutsideTest, PingIsAnsweredHere) {
  auto answer = sink("")->take(request("ping", "p1"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("id"), "p1");
  EXPECT_TRUE(answer->at("result").is_object());
}

TEST_F(OutsideTest, UndeclaredCapabilityIsRefusedAtOnce) {
  auto s = sink(R"({"sampling":{}})");
  auto answer = s->take(request("roots/list", 9));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at("id"), 9);
  EXPECT_EQ(error_code(*answer), -32601);
  EXPECT_NE(error_message(*answer).find("roots/list cannot be relayed"), std::string::npos);
  EXPECT_NE(error_message(*answer).find("capability not declared"), std::string::npos);
  // A method the gateway does not relay at all.
  answer = s->take(request("tasks/get", 10));
  ASSERT_TRUE(answer);
  EXPECT_EQ(error_code(*answer), -32601);
}

TEST_F(OutsideTest, ClosedClientStreamIsRefusedAtOnce) {
  auto s = sink(R"({"roots":{}})");
  feed->closed.store(true);
  auto answer = s->take(request("roots/list", "r"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(error_code(*answer), -32601);
  EXPECT_NE(error_message(*answer).find("no standalone stream"), std::string::npos);
}

TEST_F(OutsideTest, ProgressOutsideACallIsDropped) {
  // No answer, and nothing to publish (progress belongs to a request).
  json::object note{{"jsonrpc", "2.0"},
                    {"method", "notifications/progress"},
                    {"params", json::object{{"progressToken", "t"}, {"progress", 1}}}};
  EXPECT_FALSE(sink("")->take(std::move(note)));
}

}  // namespace
}  // namespace gatehouse::mcp
