// Gemini (provider side): requests written from every client format, responses
// and streams read back, golden streams into every client format, and the ledger.
#include <gtest/gtest.h>

#include "ai/translate/errors.hpp"
#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

TEST(AiGeminiRequest, FromChatGolden) {
  Request r = parse_request(Format::kChat, read_fixture("openai/chat_request_full.json")).value();
  r.model = "gemini-2.5-flash";
  std::string body = write_request(Format::kGemini, r);
  expect_golden("gemini/request_from_chat.json", body + "\n");
  auto o = obj(body);
  // System and developer messages are the systemInstruction; the conversation alternates.
  auto& sys = o["systemInstruction"].as_object()["parts"].as_array();
  ASSERT_EQ(sys.size(), 2u);
  EXPECT_EQ(sys[0].as_object()["text"], "You are terse.");
  auto& contents = o["contents"].as_array();
  ASSERT_EQ(contents.size(), 3u);
  EXPECT_EQ(contents[0].as_object()["role"], "user");
  EXPECT_EQ(contents[1].as_object()["role"], "model");
  EXPECT_EQ(contents[2].as_object()["role"], "user");
  auto& user = contents[0].as_object()["parts"].as_array();
  EXPECT_EQ(user[1].as_object()["inlineData"].as_object()["mimeType"], "image/png");
  EXPECT_EQ(user[2].as_object()["fileData"].as_object()["fileUri"], "https://example.com/cat.jpg");
  auto& call =
      contents[1].as_object()["parts"].as_array()[0].as_object()["functionCall"].as_object();
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(call["args"].as_object()["city"], "Paris");
  // The tool result names its function (found on the call) and wraps plain text.
  auto& last = contents[2].as_object()["parts"].as_array();
  auto& fr = last[0].as_object()["functionResponse"].as_object();
  EXPECT_EQ(fr["name"], "get_weather");
  EXPECT_EQ(fr["response"].as_object()["output"], "18C, cloudy");
  EXPECT_EQ(last[1].as_object()["text"], "Thanks. And tomorrow?");
  auto& decl =
      o["tools"].as_array()[0].as_object()["functionDeclarations"].as_array()[0].as_object();
  EXPECT_EQ(decl["name"], "get_weather");
  EXPECT_FALSE(decl["parameters"].as_object().contains("strict"));
  auto& fcc = o["toolConfig"].as_object()["functionCallingConfig"].as_object();
  EXPECT_EQ(fcc["mode"], "ANY");
  EXPECT_EQ(fcc["allowedFunctionNames"].as_array()[0], "get_weather");
  auto& gc = o["generationConfig"].as_object();
  EXPECT_EQ(gc["maxOutputTokens"], 512);
  EXPECT_EQ(gc["stopSequences"].as_array()[0], "END");
  EXPECT_EQ(gc["thinkingConfig"].as_object()["thinkingBudget"], 2048);
  EXPECT_FALSE(o.contains("model"));  // the model is in the path
  EXPECT_FALSE(o.contains("stream"));
}

TEST(AiGeminiRequest, FromMessagesStripsUnsupportedSchemaKeysAndKeepsErrors) {
  Request r = parse_request(Format::kMessages, R"({
    "model":"m","max_tokens":100,"system":"S",
    "tools":[{"name":"f","input_schema":{"$schema":"x","type":"object","additionalProperties":false,
      "properties":{"a":{"type":"object","additionalProperties":false}}}}],
    "messages":[{"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":{}}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","is_error":true,
        "content":"boom"},{"type":"tool_result","tool_use_id":"toolu_2","content":"{\"k\":1}"}]}]})")
                  .value();
  auto o = obj(write_request(Format::kGemini, r));
  auto& params = o["tools"]
                     .as_array()[0]
                     .as_object()["functionDeclarations"]
                     .as_array()[0]
                     .as_object()["parameters"]
                     .as_object();
  EXPECT_FALSE(params.contains("$schema"));
  EXPECT_FALSE(params.contains("additionalProperties"));
  EXPECT_FALSE(params["properties"].as_object()["a"].as_object().contains("additionalProperties"));
  auto& parts = o["contents"].as_array()[2].as_object()["parts"].as_array();
  auto& err = parts[0].as_object()["functionResponse"].as_object();
  EXPECT_EQ(err["name"], "f");
  EXPECT_EQ(err["id"], "toolu_1");
  EXPECT_EQ(err["response"].as_object()["error"], "boom");
  // A JSON object result goes as is; an unknown call id stands in for the name.
  auto& obj_result = parts[1].as_object()["functionResponse"].as_object();
  EXPECT_EQ(obj_result["response"].as_object()["k"], 1);
  EXPECT_EQ(obj_result["name"], "toolu_2");
}

TEST(AiGeminiResponse, PartsStopAndLedger) {
  Response r =
      parse_response(Format::kGemini, read_fixture("gemini/generate_response_tools.json")).value();
  EXPECT_EQ(r.id, "resp-gem-1");
  EXPECT_EQ(r.model, "gemini-2.5-pro");
  ASSERT_EQ(r.content.size(), 4u);
  EXPECT_EQ(r.content[0].kind, PartKind::kThinking);
  EXPECT_EQ(r.content[0].signature, "c2ln");
  EXPECT_EQ(r.content[1].text, "I will look both up.");
  EXPECT_EQ(r.content[2].kind, PartKind::kToolCall);
  EXPECT_EQ(r.content[2].arguments, R"({"city":"Paris"})");
  // Gemini gave no call ids: minted ones are distinct and stable.
  EXPECT_EQ(r.content[2].id, "call_gemini_resp-gem-1_0");
  EXPECT_EQ(r.content[3].id, "call_gemini_resp-gem-1_1");
  EXPECT_EQ(r.stop, StopReason::kToolUse);
  // promptTokenCount includes the cached 100; thoughts are output.
  EXPECT_EQ(r.usage.input_uncached, 20);
  EXPECT_EQ(r.usage.cache_read, 100);
  EXPECT_EQ(r.usage.output, 55);
  EXPECT_EQ(r.usage.reasoning, 25);
  // Minted ids are not sent back to Gemini on the next turn.
  Request next;
  next.model = "m";
  Message m;
  m.role = Role::kAssistant;
  m.parts.push_back(r.content[2]);
  next.messages.push_back(m);
  auto o = obj(write_request(Format::kGemini, next));
  EXPECT_FALSE(o["contents"]
                   .as_array()[0]
                   .as_object()["parts"]
                   .as_array()[0]
                   .as_object()["functionCall"]
                   .as_object()
                   .contains("id"));
  // Into an Anthropic client: tool_use blocks, stop tool_use.
  auto out = obj(write_response(Format::kMessages, r));
  EXPECT_EQ(out["stop_reason"], "tool_use");
}

TEST(AiGeminiResponse, FinishReasonsAndBlockedPrompts) {
  auto stop_of = [](const std::string& reason) {
    return parse_response(Format::kGemini,
                          R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":")" +
                              reason + R"("}]})")
        .value()
        .stop;
  };
  EXPECT_EQ(stop_of("STOP"), StopReason::kEndTurn);
  EXPECT_EQ(stop_of("MAX_TOKENS"), StopReason::kMaxTokens);
  EXPECT_EQ(stop_of("SAFETY"), StopReason::kContentFilter);
  EXPECT_EQ(stop_of("RECITATION"), StopReason::kContentFilter);
  EXPECT_EQ(stop_of("OTHER"), StopReason::kEndTurn);
  auto blocked = parse_response(Format::kGemini, R"({"promptFeedback":{"blockReason":"SAFETY"}})");
  ASSERT_TRUE(blocked.ok());
  EXPECT_EQ(blocked.value().stop, StopReason::kContentFilter);
  EXPECT_FALSE(parse_response(Format::kGemini, R"({"foo":1})").ok());
  EXPECT_FALSE(parse_response(Format::kGemini, "not json").ok());
}

TEST(AiGeminiStream, GoldenIntoEveryClientFormat) {
  expect_stream_goldens(Format::kGemini, {
      {"gemini/stream_thinking_tools.sse", "gemini_thinking_tools"},
      {"gemini/stream_text.sse", "gemini_text"},
      {"gemini/stream_error.sse", "gemini_error"},
      {"gemini/stream_cut.sse", "gemini_cut"},
  });
}

TEST(AiGeminiStream, LedgerStopAndCuts) {
  Translated t = translate_stream(Format::kGemini, Format::kChat,
                                  read_fixture("gemini/stream_thinking_tools.sse"));
  EXPECT_FALSE(t.partial);
  // The last chunk's cumulative counts, not a sum.
  EXPECT_EQ(t.usage.input_uncached, 32);
  EXPECT_EQ(t.usage.cache_read, 10);
  EXPECT_EQ(t.usage.output, 41);
  EXPECT_EQ(t.usage.reasoning, 22);
  Response r =
      collect_stream(Format::kGemini, read_fixture("gemini/stream_thinking_tools.sse")).value();
  ASSERT_EQ(r.content.size(), 3u);
  EXPECT_EQ(r.content[0].kind, PartKind::kThinking);
  EXPECT_EQ(r.content[1].kind, PartKind::kText);
  EXPECT_EQ(r.content[2].kind, PartKind::kToolCall);
  EXPECT_EQ(r.content[2].id, "call_gemini_gRsk1r-fake_0");
  EXPECT_EQ(r.stop, StopReason::kToolUse);

  Translated text =
      translate_stream(Format::kGemini, Format::kMessages, read_fixture("gemini/stream_text.sse"));
  EXPECT_NE(text.out.find("\"stop_reason\":\"max_tokens\""), std::string::npos);

  Translated cut =
      translate_stream(Format::kGemini, Format::kChat, read_fixture("gemini/stream_cut.sse"));
  EXPECT_TRUE(cut.partial);
  EXPECT_TRUE(cut.usage.partial);
  EXPECT_EQ(cut.usage.output, 3);
  EXPECT_NE(cut.out.find("upstream_stream_truncated"), std::string::npos);
  EXPECT_EQ(cut.out.find("[DONE]"), std::string::npos);

  Translated err =
      translate_stream(Format::kGemini, Format::kMessages, read_fixture("gemini/stream_error.sse"));
  EXPECT_TRUE(err.partial);
  EXPECT_NE(err.out.find("event: error"), std::string::npos);
  EXPECT_NE(err.out.find("overloaded"), std::string::npos);
}

TEST(AiGeminiErrors, RateLimitBodyTranslates) {
  auto b = translate_error(Format::kMessages, 429, read_fixture("gemini/error_rate_limit.json"));
  EXPECT_EQ(b.status, 429);
  EXPECT_NE(b.body.find("rate_limit_error"), std::string::npos);
  EXPECT_NE(b.body.find("Resource has been exhausted"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::ai
