// Ollama (provider side): /api/chat requests, answers, NDJSON streams into
// every client format (golden), cut and failed streams, and the ledger.
#include <gtest/gtest.h>

#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

TEST(AiOllamaRequest, FromChat) {
  Request r = parse_request(Format::kChat, read_fixture("openai/chat_request_full.json")).value();
  r.model = "llama3.2";
  r.stream = false;
  std::string body = write_request(Format::kOllama, r);
  expect_golden("ollama/request_from_chat.json", body + "\n");
  auto o = obj(body);
  EXPECT_EQ(o["model"], "llama3.2");
  EXPECT_EQ(o["stream"], false);  // stated: Ollama streams by default
  auto& msgs = o["messages"].as_array();
  ASSERT_EQ(msgs.size(), 6u);
  EXPECT_EQ(msgs[0].as_object()["role"], "system");
  EXPECT_EQ(msgs[1].as_object()["role"], "system");  // developer
  auto& user = msgs[2].as_object();
  EXPECT_EQ(user["images"].as_array().size(), 1u);  // the inline one; URLs are not fetched
  EXPECT_EQ(user["images"].as_array()[0], "iVBORw0KGgo=");
  auto& call = msgs[3].as_object()["tool_calls"].as_array()[0].as_object()["function"].as_object();
  EXPECT_EQ(call["name"], "get_weather");
  EXPECT_EQ(call["arguments"].as_object()["city"], "Paris");  // an object, not a string
  EXPECT_EQ(msgs[4].as_object()["role"], "tool");
  EXPECT_EQ(msgs[4].as_object()["tool_name"], "get_weather");
  EXPECT_EQ(msgs[4].as_object()["content"], "18C, cloudy");
  auto& opts = o["options"].as_object();
  EXPECT_EQ(opts["num_predict"], 512);
  EXPECT_EQ(opts["stop"].as_array()[0], "END");
  EXPECT_EQ(o["think"], true);
  EXPECT_EQ(o["tools"].as_array()[0].as_object()["function"].as_object()["name"], "get_weather");
}

TEST(AiOllamaRequest, AnthropicToolResultsBecomeToolMessages) {
  Request r = parse_request(Format::kMessages, R"({"model":"m","max_tokens":10,"messages":[
      {"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok",
        "is_error":true},{"type":"text","text":"and?"}]}]})")
                  .value();
  auto o = obj(write_request(Format::kOllama, r));
  auto& msgs = o["messages"].as_array();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[2].as_object()["role"], "tool");
  EXPECT_EQ(msgs[2].as_object()["tool_name"], "f");
  EXPECT_EQ(msgs[2].as_object()["content"], "[tool error] ok");
  EXPECT_EQ(msgs[3].as_object()["role"], "user");
  EXPECT_EQ(msgs[3].as_object()["content"], "and?");
}

TEST(AiOllamaResponse, PartsStopAndLedger) {
  Response r = parse_response(Format::kOllama, read_fixture("ollama/chat_response.json")).value();
  EXPECT_EQ(r.model, "llama3.2");
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[0].kind, PartKind::kThinking);
  EXPECT_EQ(r.content[1].text, "It is sunny.");
  EXPECT_EQ(r.stop, StopReason::kMaxTokens);
  EXPECT_EQ(r.usage.input_uncached, 26);
  EXPECT_EQ(r.usage.output, 298);
  EXPECT_TRUE(r.usage.known);
  Response tools = parse_response(Format::kOllama, R"({"model":"m","message":{"role":"assistant",
      "content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":true,
      "done_reason":"stop"})")
                       .value();
  ASSERT_EQ(tools.content.size(), 1u);
  EXPECT_EQ(tools.content[0].id, "call_ollama_ollama_0");  // no created_at
  EXPECT_EQ(r.id, "20250601T1000005Z");
  EXPECT_EQ(tools.content[0].arguments, R"({"a":1})");
  EXPECT_EQ(tools.stop, StopReason::kToolUse);
  EXPECT_FALSE(tools.usage.known);
  EXPECT_FALSE(parse_response(Format::kOllama, R"({"error":"model not found"})").ok());
}

TEST(AiOllamaStream, GoldenIntoEveryClientFormat) {
  expect_stream_goldens(Format::kOllama, {
      {"ollama/chat_stream.ndjson", "ollama_text"},
      {"ollama/chat_stream_tools.ndjson", "ollama_tools"},
      {"ollama/chat_stream_cut.ndjson", "ollama_cut"},
      {"ollama/chat_stream_error.ndjson", "ollama_error"},
  });
}

TEST(AiOllamaStream, LedgerCutsAndErrors) {
  Translated t =
      translate_stream(Format::kOllama, Format::kChat, read_fixture("ollama/chat_stream.ndjson"));
  EXPECT_FALSE(t.partial);
  EXPECT_EQ(t.usage.input_uncached, 26);
  EXPECT_EQ(t.usage.output, 12);
  Response r =
      collect_stream(Format::kOllama, read_fixture("ollama/chat_stream_tools.ndjson")).value();
  ASSERT_EQ(r.content.size(), 2u);
  EXPECT_EQ(r.content[1].arguments, R"({"city":"Rome"})");
  EXPECT_EQ(r.content[1].id, "call_ollama_20250601T100000Z_1");
  EXPECT_EQ(r.stop, StopReason::kToolUse);
  EXPECT_FALSE(r.usage.partial);

  Translated cut = translate_stream(Format::kOllama, Format::kMessages,
                                    read_fixture("ollama/chat_stream_cut.ndjson"));
  EXPECT_TRUE(cut.partial);
  EXPECT_NE(cut.out.find("event: error"), std::string::npos);
  EXPECT_NE(cut.out.find("ollama stream ended before its final event"), std::string::npos);
  EXPECT_EQ(cut.out.find("message_stop"), std::string::npos);

  Translated err = translate_stream(Format::kOllama, Format::kChat,
                                    read_fixture("ollama/chat_stream_error.ndjson"));
  EXPECT_TRUE(err.partial);
  EXPECT_NE(err.out.find("model runner has unexpectedly stopped"), std::string::npos);
  EXPECT_EQ(err.out.find("[DONE]"), std::string::npos);

  // A line that is not JSON ends the stream with an in-band error.
  Translated bad = translate_stream(
      Format::kOllama, Format::kChat,
      "{\"model\":\"m\",\"message\":{\"content\":\"a\"},\"done\":false}\nnot json\n");
  EXPECT_FALSE(bad.feed_ok);
  EXPECT_TRUE(bad.partial);
}

}  // namespace
}  // namespace gatehouse::ai
