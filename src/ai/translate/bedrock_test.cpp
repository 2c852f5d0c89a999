// Bedrock Converse (provider side): requests written from client formats,
// responses and ConverseStream event streams read back, golden streams into
// every client format, and the ledger.
#include <gtest/gtest.h>

#include "ai/eventstream/codec.hpp"
#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

TEST(AiBedrockRequest, FromChatGolden) {
  Request r = parse_request(Format::kChat, read_fixture("openai/chat_request_full.json")).value();
  r.model = "anthropic.claude-3-5-sonnet-20240620-v1:0";
  std::string body = write_request(Format::kBedrock, r);
  expect_golden("bedrock/request_from_chat.json", body + "\n");
  auto o = obj(body);
  auto& sys = o["system"].as_array();
  ASSERT_EQ(sys.size(), 2u);
  EXPECT_EQ(sys[0].as_object()["text"], "You are terse.");
  auto& msgs = o["messages"].as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant, user (tool result + text merged)
  EXPECT_EQ(msgs[0].as_object()["role"], "user");
  EXPECT_EQ(msgs[1].as_object()["role"], "assistant");
  auto& user = msgs[0].as_object()["content"].as_array();
  auto& img = user[1].as_object()["image"].as_object();
  EXPECT_EQ(img["format"], "png");
  EXPECT_TRUE(img["source"].as_object().contains("bytes"));
  // An http image is not fetched: the model is told its URL.
  EXPECT_EQ(user[2].as_object()["text"], "[image: https://example.com/cat.jpg]");
  auto& call = msgs[1].as_object()["content"].as_array()[0].as_object()["toolUse"].as_object();
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(call["input"].as_object()["city"], "Paris");
  auto& last = msgs[2].as_object()["content"].as_array();
  auto& tr = last[0].as_object()["toolResult"].as_object();
  EXPECT_EQ(tr["toolUseId"], call["toolUseId"]);
  EXPECT_EQ(tr["content"].as_array()[0].as_object()["text"], "18C, cloudy");
  auto& tc = o["toolConfig"].as_object();
  auto& spec = tc["tools"].as_array()[0].as_object()["toolSpec"].as_object();
  EXPECT_EQ(spec["name"], "get_weather");
  EXPECT_TRUE(spec["inputSchema"].as_object()["json"].is_object());
  EXPECT_EQ(tc["toolChoice"].as_object()["tool"].as_object()["name"], "get_weather");
  auto& ic = o["inferenceConfig"].as_object();
  EXPECT_EQ(ic["maxTokens"], 512);
  EXPECT_EQ(ic["stopSequences"].as_array()[0], "END");
  EXPECT_EQ(o["additionalModelRequestFields"].as_object()["thinking"].as_object()["budget_tokens"],
            2048);
  EXPECT_FALSE(o.contains("model"));  // the model is in the path
  EXPECT_FALSE(o.contains("stream"));
}

TEST(AiBedrockRequest, FromMessagesKeepsErrorsThinkingAndCachePoints) {
  Request r = parse_request(Format::kMessages, R"({
    "model":"m","max_tokens":100,"top_k":5,
    "system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],
    "tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},
    "messages":[{"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig1"},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","is_error":true,
        "content":"boom"}]}]})")
                  .value();
  auto o = obj(write_request(Format::kBedrock, r));
  auto& sys = o["system"].as_array();
  ASSERT_EQ(sys.size(), 2u);
  EXPECT_EQ(sys[1].as_object()["cachePoint"].as_object()["type"], "default");
  auto& asst = o["messages"].as_array()[1].as_object()["content"].as_array();
  auto& rt = asst[0].as_object()["reasoningContent"].as_object()["reasoningText"].as_object();
  EXPECT_EQ(rt["text"], "hmm");
  EXPECT_EQ(rt["signature"], "sig1");
  auto& tr = o["messages"].as_array()[2].as_object()["content"].as_array()[0].as_object()
                 ["toolResult"].as_object();
  EXPECT_EQ(tr["status"], "error");
  EXPECT_TRUE(o["toolConfig"].as_object()["toolChoice"].as_object().contains("any"));
  EXPECT_EQ(o["additionalModelRequestFields"].as_object()["top_k"], 5);
  // tool_choice none: Converse has no such mode, so the tools are left out.
  r.tool_choice = ToolChoice{ToolChoiceMode::kNone, {}};
  EXPECT_FALSE(obj(write_request(Format::kBedrock, r)).contains("toolConfig"));
}

TEST(AiBedrockResponse, ReadsContentStopAndUsage) {
  auto r = parse_response(Format::kBedrock, R"({
    "output":{"message":{"role":"assistant","content":[
      {"reasoningContent":{"reasoningText":{"text":"think","signature":"s"}}},
      {"text":"Let me check."},
      {"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}}]}},
    "stopReason":"tool_use",
    "usage":{"inputTokens":10,"outputTokens":4,"totalTokens":19,"cacheReadInputTokens":3,
             "cacheWriteInputTokens":2},"metrics":{"latencyMs":5}})");
  ASSERT_TRUE(r.ok());
  const Response& resp = r.value();
  ASSERT_EQ(resp.content.size(), 3u);
  EXPECT_EQ(resp.content[0].kind, PartKind::kThinking);
  EXPECT_EQ(resp.content[0].signature, "s");
  EXPECT_EQ(resp.content[1].text, "Let me check.");
  EXPECT_EQ(resp.content[2].kind, PartKind::kToolCall);
  EXPECT_EQ(resp.content[2].id, "tooluse_1");
  EXPECT_EQ(resp.content[2].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(resp.stop, StopReason::kToolUse);
  EXPECT_EQ(resp.usage.input_uncached, 10);
  EXPECT_EQ(resp.usage.cache_read, 3);
  EXPECT_EQ(resp.usage.cache_write, 2);
  EXPECT_EQ(resp.usage.output, 4);
  auto filtered = parse_response(Format::kBedrock,
                                 R"({"output":{"message":{"content":[]}},"stopReason":"guardrail_intervened"})");
  EXPECT_EQ(filtered.value().stop, StopReason::kContentFilter);
  // The response reaches every client format.
  std::string chat = write_response(Format::kChat, resp, fixed_options());
  EXPECT_NE(chat.find("\"tool_calls\""), std::string::npos);
  EXPECT_FALSE(parse_response(Format::kBedrock, R"({"message":"throttled"})").ok());
  EXPECT_FALSE(parse_response(Format::kBedrock, "not json").ok());
}

TEST(AiBedrockStream, GoldenIntoEveryClientFormat) {
  expect_stream_goldens(Format::kBedrock, {
      {"bedrock/stream_text.eventstream", "bedrock_text"},
      {"bedrock/stream_reasoning_tools.eventstream", "bedrock_reasoning_tools"},
      {"bedrock/stream_exception.eventstream", "bedrock_exception"},
      {"bedrock/stream_cut.eventstream", "bedrock_cut"},
  });
}

TEST(AiBedrockStream, LedgerStopAndCuts) {
  Translated t =
      translate_stream(Format::kBedrock, Format::kMessages, read_fixture("bedrock/stream_text.eventstream"));
  EXPECT_FALSE(t.partial);
  EXPECT_EQ(t.usage.input_uncached, 25);
  EXPECT_EQ(t.usage.cache_read, 8);
  EXPECT_EQ(t.usage.cache_write, 4);
  EXPECT_EQ(t.usage.output, 14);
  auto whole = collect_stream(Format::kBedrock, read_fixture("bedrock/stream_reasoning_tools.eventstream"));
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole.value().content.size(), 3u);
  EXPECT_EQ(whole.value().content[0].kind, PartKind::kThinking);
  EXPECT_EQ(whole.value().content[0].signature, "c2lnLWJlZHJvY2s=");
  EXPECT_EQ(whole.value().content[2].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(whole.value().stop, StopReason::kToolUse);
  EXPECT_FALSE(whole.value().usage.partial);

  Translated cut =
      translate_stream(Format::kBedrock, Format::kChat, read_fixture("bedrock/stream_cut.eventstream"));
  EXPECT_TRUE(cut.partial);
  EXPECT_NE(cut.out.find("upstream_stream_truncated"), std::string::npos);
  Translated exc = translate_stream(Format::kBedrock, Format::kMessages,
                                    read_fixture("bedrock/stream_exception.eventstream"));
  EXPECT_TRUE(exc.partial);
  EXPECT_NE(exc.out.find("event: error"), std::string::npos);
  EXPECT_NE(exc.out.find("Too many tokens"), std::string::npos);
  // A frame with a bad CRC fails the stream in-band.
  std::string bad = read_fixture("bedrock/stream_text.eventstream");
  bad[bad.size() / 2] ^= 0x20;
  Translated broken = translate_stream(Format::kBedrock, Format::kChat, bad);
  EXPECT_FALSE(broken.feed_ok);
  EXPECT_TRUE(broken.partial);
  EXPECT_NE(broken.out.find("eventstream_bad_crc"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::ai
