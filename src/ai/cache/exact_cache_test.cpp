#include "ai/cache/exact_cache.hpp"

#include <gtest/gtest.h>

#include "ai/cache/replay.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::cache {
namespace {

Request chat(std::string_view body) {
  auto r = parse_request(Format::kChat, body);
  EXPECT_TRUE(r) << body;
  return r ? r.value() : Request{};
}

TEST(CacheKey, FieldOrderAndStreamingDoNotMatter) {
  Request a = chat(R"({"model":"m","temperature":0.5,"messages":[{"role":"user","content":"hi"}],
    "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}}}}}]})");
  Request b = chat(
      R"({"tools":[{"function":{"parameters":{"properties":{"b":{"type":"number"},"a":{"type":"string"}},"type":"object"},"name":"f"},"type":"function"}],
    "messages":[{"content":"hi","role":"user"}],"stream":true,"stream_options":{"include_usage":true},"user":"u1","model":"alias","temperature":0.5})");
  EXPECT_EQ(request_key("c:alice", "m", a), request_key("c:alice", "m", b));
}

TEST(CacheKey, ContentScopeModelAndSamplingDo) {
  Request a = chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  Request t = chat(R"({"model":"m","temperature":1,"messages":[{"role":"user","content":"hi"}]})");
  Request c = chat(R"({"model":"m","messages":[{"role":"user","content":"hi!"}]})");
  Request turn = chat(R"({"model":"m","messages":[{"role":"user","content":"x"},
    {"role":"assistant","content":"y"},{"role":"user","content":"hi"}]})");
  const std::string k = request_key("c:alice", "m", a);
  EXPECT_NE(k, request_key("c:bob", "m", a));
  EXPECT_NE(k, request_key("c:alice", "m2", a));
  EXPECT_NE(k, request_key("c:alice", "m", t));
  EXPECT_NE(k, request_key("c:alice", "m", c));
  EXPECT_NE(k, request_key("c:alice", "m", turn));
  EXPECT_EQ(k.size(), 64u);
}

TEST(CacheKey, ChatAndMessagesOfTheSamePromptShareAnEntry) {
  Request c = chat(
      R"({"model":"m","max_tokens":100,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]})");
  auto m = parse_request(
      Format::kMessages,
      R"({"model":"m","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(m);
  EXPECT_EQ(canonical_request("m", c), canonical_request("m", m.value()));
}

Response answer(std::string text) {
  Response r;
  r.id = "chatcmpl-1";
  r.model = "gpt";
  Part p;
  p.text = std::move(text);
  r.content.push_back(p);
  r.stop = StopReason::kEndTurn;
  r.usage.input_uncached = 5;
  r.usage.output = 3;
  r.usage.known = true;
  return r;
}

TEST(ExactCache, HitTtlAndReplace) {
  ExactCache c(
      {.max_entries = 100, .max_bytes = 1 << 20, .max_entry_bytes = 1 << 16, .ttl_ms = 1000});
  EXPECT_EQ(c.get("k", 0), nullptr);
  EXPECT_TRUE(c.put("k", answer("one"), 0));
  ASSERT_NE(c.get("k", 999), nullptr);
  EXPECT_EQ(c.get("k", 999)->content[0].text, "one");
  EXPECT_EQ(c.get("k", 1000), nullptr);  // expired, and dropped
  EXPECT_EQ(c.entries(), 0u);
  EXPECT_TRUE(c.put("k", answer("two"), 0));
  EXPECT_TRUE(c.put("k", answer("three"), 0));
  EXPECT_EQ(c.entries(), 1u);
  EXPECT_EQ(c.get("k", 1)->content[0].text, "three");
}

TEST(ExactCache, BoundedInEntriesAndBytes) {
  ExactCache c(
      {.max_entries = 16, .max_bytes = 16 * 4096, .max_entry_bytes = 4096, .ttl_ms = 60000});
  for (int i = 0; i < 200; ++i) c.put("key" + std::to_string(i), answer("x"), 0);
  EXPECT_LE(c.entries(), 16u);
  EXPECT_GT(c.entries(), 0u);
  EXPECT_FALSE(c.put("big", answer(std::string(5000, 'y')), 0));  // over max_entry_bytes
  ExactCache b(
      {.max_entries = 100000, .max_bytes = 16 * 4096, .max_entry_bytes = 4096, .ttl_ms = 60000});
  for (int i = 0; i < 2000; ++i)
    b.put("key" + std::to_string(i), answer(std::string(1000, 'z')), 0);
  EXPECT_LE(b.bytes(), 16u * 4096u);
}

TEST(ExactCache, LeastRecentlyUsedGoesFirst) {
  // One shard's share is max_entries / 16: put keys until one is evicted
  // while a key of the same shard kept being read.
  ExactCache c(
      {.max_entries = 32, .max_bytes = 1 << 20, .max_entry_bytes = 1 << 15, .ttl_ms = 60000});
  c.put("hot", answer("h"), 0);
  for (int i = 0; i < 500; ++i) {
    c.put("cold" + std::to_string(i), answer("c"), 0);
    ASSERT_NE(c.get("hot", 0), nullptr) << i;
  }
}

TEST(Replay, StreamsReadBackToTheSameAnswer) {
  Response r = answer("Hello there");
  Part call;
  call.kind = PartKind::kToolCall;
  call.id = "call_1";
  call.name = "get_weather";
  call.arguments = R"({"city":"Paris"})";
  r.content.push_back(call);
  r.stop = StopReason::kToolUse;
  for (Format f : {Format::kChat, Format::kMessages, Format::kResponses}) {
    EncoderOptions eo;
    eo.created = 1700000000;
    std::string sse = replay_stream(f, r, eo);
    auto back = collect_stream(f, sse);
    ASSERT_TRUE(back) << format_name(f);
    const Response& b = back.value();
    ASSERT_EQ(b.content.size(), 2u) << format_name(f) << sse;
    EXPECT_EQ(b.content[0].text, "Hello there");
    EXPECT_EQ(b.content[1].name, "get_weather");
    EXPECT_EQ(b.content[1].arguments, R"({"city":"Paris"})");
    EXPECT_EQ(b.stop, StopReason::kToolUse);
    EXPECT_FALSE(b.usage.partial);
    EXPECT_EQ(b.usage.output, 3);
  }
}

}  // namespace
}  // namespace gatehouse::ai::cache
