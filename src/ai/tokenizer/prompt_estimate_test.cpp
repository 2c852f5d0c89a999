#include "ai/tokenizer/prompt_estimate.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <sstream>

#include "ai/tokenizer/tokenizer_test_util.hpp"

namespace gatehouse::ai {
namespace {

// The "chat" cases of the golden fixture: OpenAI's formula computed with
// tiktoken (the cookbook's example gives its published 129 and 124).
TEST(TokenizerPrompt, OpenAiChatMatchesTheDocumentedCounts) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  std::ifstream in(std::string(gatehouse_source_dir()) + "/tests/fixtures/tokenizer/golden.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = boost::json::parse(ss.str());
  const auto& chat = doc.at("chat").as_array();
  ASSERT_EQ(chat.size(), 3u);
  for (const auto& c : chat) {
    std::string body = boost::json::serialize(c.at("request"));
    auto est = estimate_openai_chat(*tk, body);
    ASSERT_TRUE(est.ok()) << est.error().message;
    EXPECT_EQ(est->tokens, static_cast<uint64_t>(c.at("tokens").as_int64())) << c.at("name");
    EXPECT_EQ(encoding_name(est->encoding), c.at("encoding").as_string()) << c.at("name");
    EXPECT_TRUE(est->exact) << c.at("name");
  }
}

TEST(TokenizerPrompt, OpenAiEstimatedParts) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  const Tokenizer& o = tk->get(Encoding::kO200kBase);
  auto base = estimate_openai_chat(
      *tk, R"({"model":"gpt-4o","messages":[{"role":"user","content":"Describe this."}]})");
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(base->tokens, 3 + o.count("user") + o.count("Describe this.") + 3);

  // Text parts count like a string content; an image is a fixed guess.
  auto parts = estimate_openai_chat(*tk, R"({"model":"gpt-4o","messages":[{"role":"user","content":[
      {"type":"text","text":"Describe this."},
      {"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}]}]})");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->tokens, base->tokens + kOpenAiImageLowDetail);
  EXPECT_FALSE(parts->exact);

  auto tools = estimate_openai_chat(*tk, R"({"model":"gpt-4o","messages":[
      {"role":"user","content":"Describe this."},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]}],
      "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]})");
  ASSERT_TRUE(tools.ok());
  EXPECT_GT(tools->tokens, base->tokens + 3 + o.count("lookup") + o.count("{\"q\":\"x\"}"));
  EXPECT_FALSE(tools->exact);

  // Unknown model: o200k_base, flagged as a guess.
  auto unknown = estimate_openai_chat(
      *tk, R"({"model":"my-deployment","messages":[{"role":"user","content":"Describe this."}]})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->tokens, base->tokens);
  EXPECT_FALSE(unknown->exact);
}

TEST(TokenizerPrompt, BadBodiesArePreciseErrors) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  auto not_json = estimate_openai_chat(*tk, "{nope");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().status, 400);
  auto no_messages = estimate_openai_chat(*tk, R"({"model":"gpt-4o"})");
  ASSERT_FALSE(no_messages.ok());
  EXPECT_EQ(no_messages.error().field, "messages");
  auto bad_message = estimate_anthropic_messages(*tk, R"({"messages":[{"role":"user"},3]})");
  ASSERT_FALSE(bad_message.ok());
  EXPECT_EQ(bad_message.error().field, "messages[1]");
}

TEST(TokenizerPrompt, AnthropicIsAnEstimate) {
  const Tokenizers* tk = testing::tokenizers_or_fail();
  if (!tk) return;
  const Tokenizer& o = tk->get(Encoding::kO200kBase);
  auto est = estimate_anthropic_messages(*tk, R"({"model":"claude-sonnet-4-5","max_tokens":100,
      "system":"Be brief.",
      "messages":[{"role":"user","content":"Hello there"},
                  {"role":"assistant","content":[{"type":"text","text":"Hi!"}]},
                  {"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AA=="}},
                                            {"type":"text","text":"What is it?"}]}]})");
  ASSERT_TRUE(est.ok()) << est.error().message;
  EXPECT_FALSE(est->exact);
  uint64_t want = (3 + o.count("Be brief.")) + (3 + o.count("user") + o.count("Hello there")) +
                  (3 + o.count("assistant") + o.count("Hi!")) +
                  (3 + o.count("user") + kAnthropicImageTokens + o.count("What is it?")) + 3;
  EXPECT_EQ(est->tokens, want);

  auto tool = estimate_anthropic_messages(*tk, R"({"messages":[
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"18C, sunny"}]}],
      "tools":[{"name":"get_weather","input_schema":{"type":"object"}}]})");
  ASSERT_TRUE(tool.ok());
  EXPECT_GT(tool->tokens, o.count("get_weather") * 2 + o.count("18C, sunny"));
}

}  // namespace
}  // namespace gatehouse::ai
