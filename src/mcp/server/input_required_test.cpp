#include "mcp/server/input_required.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::mrtr {
namespace {

json::object req(std::string_view text) {
  return json::parse(text).as_object();
}

TEST(InputRequired, AppliesToTheMethodsThatMayTakeInput) {
  EXPECT_TRUE(applies("tools/call"));
  EXPECT_TRUE(applies("prompts/get"));
  EXPECT_TRUE(applies("resources/read"));
  EXPECT_FALSE(applies("tools/list"));
  EXPECT_FALSE(applies("prompts/list"));
  EXPECT_TRUE(input_method("elicitation/create"));
  EXPECT_TRUE(input_method("roots/list"));
  EXPECT_FALSE(input_method("ping"));
}

TEST(InputRequired, MissingCapabilityNamesWhatTheRequestNeeds) {
  auto sampling = req(R"({"method":"sampling/createMessage","params":{"maxTokens":5}})");
  auto declared = req(R"({"elicitation":{}})");
  auto need = missing_capability(sampling, &declared);
  ASSERT_TRUE(need);
  EXPECT_EQ(json::serialize(*need), R"({"sampling":{}})");
  EXPECT_TRUE(missing_capability(sampling, nullptr));
  auto with_sampling = req(R"({"sampling":{}})");
  EXPECT_FALSE(missing_capability(sampling, &with_sampling));
  // Tool use in sampling needs sampling.tools.
  auto tools = req(R"({"method":"sampling/createMessage","params":{"tools":[]}})");
  need = missing_capability(tools, &with_sampling);
  ASSERT_TRUE(need);
  EXPECT_EQ(json::serialize(*need), R"({"sampling":{"tools":{}}})");
  // Elicitation: an empty object is form mode; URL mode needs url.
  auto form = req(R"({"method":"elicitation/create","params":{"message":"?"}})");
  auto url = req(R"({"method":"elicitation/create","params":{"mode":"url","url":"https://x"}})");
  EXPECT_FALSE(missing_capability(form, &declared));
  need = missing_capability(url, &declared);
  ASSERT_TRUE(need);
  EXPECT_EQ(json::serialize(*need), R"({"elicitation":{"url":{}}})");
  auto url_only = req(R"({"elicitation":{"url":{}}})");
  EXPECT_FALSE(missing_capability(url, &url_only));
  need = missing_capability(form, &url_only);
  ASSERT_TRUE(need);
  EXPECT_EQ(json::serialize(*need), R"({"elicitation":{"form":{}}})");
  auto roots = req(R"({"method":"roots/list"})");
  need = missing_capability(roots, &declared);
  ASSERT_TRUE(need);
  EXPECT_EQ(json::serialize(*need), R"({"roots":{}})");
}

TEST(InputRequired, KeysAreTheUpstreamsHintOrDeterministic) {
  std::map<std::string, int> seen;
  auto named = req(
      R"({"method":"elicitation/create","params":{"message":"Name?",
          "_meta":{"io.gatehouse/inputKey":"user_name"}}})");
  EXPECT_EQ(input_key(named, seen), "user_name");
  EXPECT_EQ(input_key(named, seen), "user_name-2");  // asked again in the same call
  // A hint that is not a plain name is not used.
  auto odd = req(
      R"({"method":"elicitation/create","params":{"message":"Name?",
          "_meta":{"io.gatehouse/inputKey":"a b"}}})");
  std::string k = input_key(odd, seen);
  EXPECT_TRUE(k.starts_with("elicitation-")) << k;
  // The same question gets the same key in another run (a re-issued call),
  // whatever its _meta says; another question another key.
  std::map<std::string, int> again;
  auto plain = req(R"({"method":"elicitation/create","params":{"message":"Name?"}})");
  EXPECT_EQ(input_key(plain, again), k);
  auto other = req(R"({"method":"elicitation/create","params":{"message":"Age?"}})");
  std::string k2 = input_key(other, again);
  EXPECT_NE(k2, k);
  EXPECT_EQ(k2.size(), k.size());
  auto roots = req(R"({"method":"roots/list"})");
  EXPECT_TRUE(input_key(roots, again).starts_with("roots-"));
}

TEST(InputRequired, InputRequestLeavesOutTheKeyHint) {
  auto named = req(
      R"({"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{"maxTokens":9,
          "_meta":{"io.gatehouse/inputKey":"q"}}})");
  EXPECT_EQ(json::serialize(input_request(named)),
            R"({"method":"sampling/createMessage","params":{"maxTokens":9}})");
  auto other_meta =
      req(R"({"method":"roots/list","params":{"_meta":{"io.gatehouse/inputKey":"r","x":1}}})");
  EXPECT_EQ(json::serialize(input_request(other_meta)),
            R"({"method":"roots/list","params":{"_meta":{"x":1}}})");
}

State sample() {
  State s;
  s.route = "tools";
  s.consumer = "alice";
  s.method = "tools/call";
  s.target = "greet";
  s.node = "0123abcd";
  s.worker = 3;
  s.pending = 0xfedcba9876543210ull;
  s.keys = {"user_name", "greeting"};
  s.answers["user_name"] = json::object{{"action", "accept"}};
  s.expires_s = 1900000000;
  return s;
}

TEST(InputRequired, StateIsSealedAndOpensOnEveryNodeWithTheSecret) {
  auto a = SessionKey::derive("0123456789abcdef0123456789abcdef");
  auto b = SessionKey::derive("0123456789abcdef0123456789abcdef");  // another node
  std::string token = sample().seal(*a);
  auto s = State::open(*b, token);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->route, "tools");
  EXPECT_EQ(s->consumer, "alice");
  EXPECT_EQ(s->method, "tools/call");
  EXPECT_EQ(s->target, "greet");
  EXPECT_EQ(s->node, "0123abcd");
  EXPECT_EQ(s->worker, 3u);
  EXPECT_EQ(s->pending, 0xfedcba9876543210ull);
  EXPECT_EQ(s->keys, (std::vector<std::string>{"user_name", "greeting"}));
  EXPECT_EQ(json::serialize(s->answers), R"({"user_name":{"action":"accept"}})");
  EXPECT_EQ(s->expires_s, 1900000000);
  // Two seals of one state differ (fresh nonce), both open.
  EXPECT_NE(sample().seal(*a), token);
}

TEST(InputRequired, TamperedOrForeignStateDoesNotOpen) {
  auto a = SessionKey::derive("0123456789abcdef0123456789abcdef");
  auto other = SessionKey::derive("another secret, another gateway!");
  std::string token = sample().seal(*a);
  EXPECT_FALSE(State::open(*a, token + "-TAMPERED"));
  std::string flipped = token;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(State::open(*a, flipped));
  EXPECT_FALSE(State::open(*a, token.substr(0, token.size() - 4)));
  EXPECT_FALSE(State::open(*other, token));
  EXPECT_FALSE(State::open(*a, ""));
  // Sealed by us but not a state (e.g. a session token): refused too.
  EXPECT_FALSE(State::open(*a, std::string(kStatePrefix) + a->seal(R"({"r":"tools"})")));
  // Without our prefix it is not ours at all (an upstream's own state).
  EXPECT_TRUE(State::ours(token));
  EXPECT_FALSE(State::ours(token.substr(kStatePrefix.size())));
  EXPECT_FALSE(State::open(*a, token.substr(kStatePrefix.size())));
}

TEST(InputRequired, StateDecodeChecksEveryMember) {
  std::string good = sample().encode();
  EXPECT_TRUE(State::decode(good));
  for (const char* drop : {"r", "c", "m", "t", "n", "w", "p", "k", "a", "x"}) {
    json::object o = json::parse(good).as_object();
    o.erase(drop);
    EXPECT_FALSE(State::decode(json::serialize(o))) << drop;
  }
  json::object o = json::parse(good).as_object();
  o["k"] = json::array{1};
  EXPECT_FALSE(State::decode(json::serialize(o)));
  o = json::parse(good).as_object();
  o["w"] = -1;
  EXPECT_FALSE(State::decode(json::serialize(o)));
  EXPECT_FALSE(State::decode("[]"));
  EXPECT_FALSE(State::decode("{"));
}

TEST(InputRequired, ARetryContinuesOnlyItsOwnRequest) {
  State s = sample();
  EXPECT_EQ(refusal(s, "tools", "alice", "tools/call", "greet", 1800000000), "");
  const char* other = "params.requestState belongs to another request";
  EXPECT_EQ(refusal(s, "other", "alice", "tools/call", "greet", 1800000000), other);
  EXPECT_EQ(refusal(s, "tools", "bob", "tools/call", "greet", 1800000000), other);
  EXPECT_EQ(refusal(s, "tools", "alice", "prompts/get", "greet", 1800000000), other);
  EXPECT_EQ(refusal(s, "tools", "alice", "tools/call", "wave", 1800000000), other);
  EXPECT_EQ(refusal(s, "tools", "alice", "tools/call", "greet", 1900000001),
            "params.requestState has expired; send the request anew");
}

TEST(InputRequired, OnlyTheHoldingWorkerResumes) {
  State s = sample();
  EXPECT_EQ(held_here(s, "0123abcd", 3), 0xfedcba9876543210ull);
  EXPECT_EQ(held_here(s, "0123abcd", 2), 0u);  // another worker: re-issue
  EXPECT_EQ(held_here(s, "99999999", 3), 0u);  // another node or a restart
  s.pending = 0;                               // not held (over the bound)
  EXPECT_EQ(held_here(s, "0123abcd", 3), 0u);
}

TEST(InputRequired, ReissueAnswersCarryEarlierRounds) {
  State s = sample();  // round 1 answered user_name
  json::object retry{{"greeting", json::object{{"role", "assistant"}}},
                     {"user_name", json::object{{"action", "decline"}}}};
  json::object a = reissue_answers(&s, retry);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(json::serialize(a["user_name"]), R"({"action":"decline"})");  // the retry wins
  EXPECT_EQ(json::serialize(reissue_answers(nullptr, retry)), json::serialize(retry));
  EXPECT_TRUE(reissue_answers(nullptr, {}).empty());
  EXPECT_EQ(carried_answers(a), a);
  json::object big{{"k", std::string(kMaxCarriedAnswers, 'x')}};
  EXPECT_TRUE(carried_answers(big).empty());
}

TEST(InputRequired, RetryMembersAreParsedStrictly) {
  auto p = req(R"({"name":"t","inputResponses":{"k":{"action":"accept"}},"requestState":"s"})");
  Retry r = Retry::parse(&p);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.state, "s");
  EXPECT_EQ(json::serialize(r.responses), R"({"k":{"action":"accept"}})");
  strip_retry(p);
  EXPECT_EQ(json::serialize(p), R"({"name":"t"})");
  auto none = req(R"({"name":"t"})");
  r = Retry::parse(&none);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.state);
  EXPECT_TRUE(r.responses.empty());
  EXPECT_EQ(Retry::parse(nullptr).error, "");
  auto bad = req(R"({"inputResponses":[1]})");
  EXPECT_EQ(Retry::parse(&bad).error, "params.inputResponses must be an object of input responses");
  bad = req(R"({"inputResponses":{"k":"yes"}})");
  EXPECT_EQ(Retry::parse(&bad).error, "params.inputResponses[\"k\"] must be an object");
  bad = req(R"({"requestState":42})");
  EXPECT_EQ(Retry::parse(&bad).error, "params.requestState must be a string");
}

TEST(InputRequired, ResultAndTarget) {
  json::object requests{{"user_name", json::object{{"method", "roots/list"}}}};
  auto v = json::parse(input_required_response(5, requests, "STATE")).as_object();
  EXPECT_EQ(v["id"], 5);
  auto& r = v["result"].as_object();
  EXPECT_EQ(r["resultType"], "input_required");
  EXPECT_EQ(r["requestState"], "STATE");
  EXPECT_EQ(json::serialize(r["inputRequests"]), R"({"user_name":{"method":"roots/list"}})");
  auto p = req(R"({"name":"n","uri":"u"})");
  EXPECT_EQ(target_of("tools/call", &p), "n");
  EXPECT_EQ(target_of("prompts/get", &p), "n");
  EXPECT_EQ(target_of("resources/read", &p), "u");
  EXPECT_EQ(target_of("tools/call", nullptr), "");
}

}  // namespace
}  // namespace gatehouse::mcp::mrtr
