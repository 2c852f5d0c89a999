#include "ai/cache/semantic_cache.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ai/providers/provider.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::cache {
namespace {

Request chat(std::string_view body) {
  auto r = parse_request(Format::kChat, body);
  EXPECT_TRUE(r) << body;
  return r ? r.value() : Request{};
}

Response answer(std::string text) {
  Response r;
  r.id = "chatcmpl-1";
  Part p;
  p.text = std::move(text);
  r.content.push_back(p);
  r.stop = StopReason::kEndTurn;
  return r;
}

// A unit vector at `angle` radians from e0 in the (e0, e1) plane: its cosine
// similarity to e0 is cos(angle), so tests choose similarities exactly.
std::vector<float> at(double angle, size_t dim = 8) {
  std::vector<float> v(dim, 0.0f);
  v[0] = static_cast<float>(std::cos(angle));
  v[1] = static_cast<float>(std::sin(angle));
  return v;
}

TEST(SemanticKey, OnlyTheLastUserTurnIsLeftOut) {
  auto a = semantic_key("c:alice", "m", chat(R"({"model":"m","messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]})"));
  auto b = semantic_key("c:alice", "m", chat(R"({"model":"m","stream":true,"messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"Tell me France's capital"}]})"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->text, "What is the capital of France?");
  EXPECT_EQ(a->context, b->context);
  // Anything else differs: system prompt, earlier turns, tools, model, scope.
  auto sys = semantic_key("c:alice", "m", chat(R"({"model":"m","messages":[
    {"role":"system","content":"Be verbose."},{"role":"user","content":"What is the capital of France?"}]})"));
  auto turns = semantic_key("c:alice", "m", chat(R"({"model":"m","messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"Talk about Spain."},
    {"role":"assistant","content":"Spain is..."},{"role":"user","content":"What is the capital of France?"}]})"));
  auto tools = semantic_key("c:alice", "m", chat(R"({"model":"m","tools":[{"type":"function",
    "function":{"name":"lookup","parameters":{"type":"object"}}}],"messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]})"));
  auto bob = semantic_key("c:bob", "m", chat(R"({"model":"m","messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]})"));
  auto model = semantic_key("c:alice", "m2", chat(R"({"model":"m","messages":[
    {"role":"system","content":"Be brief."},{"role":"user","content":"What is the capital of France?"}]})"));
  for (const auto* k : {&sys, &turns, &tools, &bob, &model}) {
    ASSERT_TRUE(*k);
    EXPECT_NE((*k)->context, a->context);
  }
}

TEST(SemanticKey, RequestsNotEndingInUserTextAreNotCached) {
  EXPECT_FALSE(semantic_key("s", "m", chat(R"({"model":"m","messages":[
    {"role":"user","content":"weather?"},
    {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"sunny"}]})")));
  EXPECT_FALSE(semantic_key("s", "m", chat(R"({"model":"m","messages":[
    {"role":"user","content":[{"type":"text","text":"what is this?"},
     {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})")));
  EXPECT_FALSE(semantic_key("s", "m", Request{}));
}

TEST(SemanticCache, HitsAtOrAboveTheThresholdOnly) {
  SemanticCache c({.max_entries = 100, .max_entry_bytes = 1 << 16, .ttl_ms = 1000,
                   .threshold = 0.9});
  EXPECT_FALSE(c.get("ctx", at(0), 0).answer);
  EXPECT_EQ(c.get("ctx", at(0), 0).similarity, -1);
  ASSERT_TRUE(c.put("ctx", at(0), answer("Paris"), 0));
  auto close = c.get("ctx", at(0.3), 10);  // cos 0.955
  ASSERT_TRUE(close.answer);
  EXPECT_EQ(close.answer->content[0].text, "Paris");
  EXPECT_NEAR(close.similarity, std::cos(0.3), 1e-5);
  auto far = c.get("ctx", at(0.6), 10);  // cos 0.825
  EXPECT_FALSE(far.answer);
  EXPECT_NEAR(far.similarity, std::cos(0.6), 1e-5);
  // Another context never answers, however close the vector.
  EXPECT_FALSE(c.get("other", at(0), 10).answer);
  // Vectors are normalised: a scaled copy is the same direction.
  std::vector<float> scaled = at(0);
  for (auto& x : scaled) x *= 7;
  EXPECT_TRUE(c.get("ctx", scaled, 10).answer);
  // Expired.
  EXPECT_FALSE(c.get("ctx", at(0), 1000).answer);
}

TEST(SemanticCache, PicksTheClosestOfManyThroughTheIndex) {
  SemanticCache c({.max_entries = 10000, .max_entry_bytes = 1 << 16, .ttl_ms = 60000,
                   .threshold = 0.99});
  // 500 entries in one context, so the partition's HNSW index grows and is searched.
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(c.put("ctx", at(i * 0.01, 16), answer("a" + std::to_string(i)), 0));
  EXPECT_EQ(c.entries(), 500u);
  EXPECT_EQ(c.partitions(), 1u);
  auto hit = c.get("ctx", at(2.5002, 16), 1);
  ASSERT_TRUE(hit.answer);
  EXPECT_EQ(hit.answer->content[0].text, "a250");
  // A different dimension in the same context is refused, not mixed in.
  EXPECT_FALSE(c.put("ctx", at(0, 8), answer("x"), 0));
  EXPECT_FALSE(c.get("ctx", at(0, 8), 1).answer);
}

TEST(SemanticCache, BoundedInEntriesOldestFirstAndPartitionsFreed) {
  SemanticCache c({.max_entries = 32, .max_entry_bytes = 1 << 16, .ttl_ms = 60000,
                   .threshold = 0.99});
  for (int i = 0; i < 2000; ++i)
    c.put("ctx" + std::to_string(i % 50), at((i % 7) * 0.2), answer(std::to_string(i)), i);
  EXPECT_LE(c.entries(), 32u);
  EXPECT_LE(c.partitions(), 32u);
  // The newest entry survives; the first ones are gone.
  auto last = c.get("ctx" + std::to_string(1999 % 50), at((1999 % 7) * 0.2), 2000);
  ASSERT_TRUE(last.answer);
  EXPECT_EQ(last.answer->content[0].text, "1999");
  EXPECT_FALSE(c.get("ctx0", at(0), 2000).answer && c.get("ctx0", at(0), 2000).answer->content[0].text == "0");
  EXPECT_FALSE(c.put("ctx", at(0), answer(std::string(70000, 'x')), 0));  // too large
}

TEST(SemanticCache, ChurnInOnePartitionRebuildsItsIndex) {
  // One context keeps evicting and adding (a shard holds max_entries / 16 =
  // 4): marked deletions must not fill the partition's index for good.
  SemanticCache c({.max_entries = 64, .max_entry_bytes = 1 << 16, .ttl_ms = 1'000'000,
                   .threshold = 0.99999});
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(c.put("ctx", at((i % 100) * 0.03), answer(std::to_string(i)), i));
    auto g = c.get("ctx", at((i % 100) * 0.03), i);
    ASSERT_TRUE(g.answer) << i;
    EXPECT_EQ(g.answer->content[0].text, std::to_string(i));
  }
  EXPECT_EQ(c.entries(), 4u);
  EXPECT_EQ(c.partitions(), 1u);
}

TEST(SemanticCache, MockEmbeddingsOfEqualTextsHit) {
  SemanticCache c({.max_entries = 10, .max_entry_bytes = 1 << 16, .ttl_ms = 60000,
                   .threshold = 0.95});
  auto v = providers::mock_embedding("What is the capital of France?", 64);
  ASSERT_TRUE(c.put("ctx", v, answer("Paris"), 0));
  EXPECT_TRUE(c.get("ctx", providers::mock_embedding("What is the capital of France?", 64), 1).answer);
  EXPECT_FALSE(c.get("ctx", providers::mock_embedding("Something else entirely", 64), 1).answer);
}

}  // namespace
}  // namespace gatehouse::ai::cache
