// Non-streaming responses and provider errors.
#include <gtest/gtest.h>

#include "ai/translate/errors.hpp"
#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

TEST(AiResponse, ParsesEachFormat) {
  Response c = parse_response(Format::kChat, read_fixture("openai/chat_response_tools.json")).value();
  EXPECT_EQ(c.stop, StopReason::kToolUse);
  ASSERT_EQ(c.content.size(), 2u);
  EXPECT_EQ(c.content[1].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(c.usage.input_uncached, 36);
  EXPECT_EQ(c.usage.cache_read, 64);
  EXPECT_EQ(c.usage.reasoning, 5);

  Response m = parse_response(Format::kMessages, read_fixture("anthropic/messages_response.json")).value();
  EXPECT_EQ(m.stop, StopReason::kToolUse);
  ASSERT_EQ(m.content.size(), 3u);
  EXPECT_EQ(m.content[0].signature, "sig-1");
  EXPECT_EQ(m.usage, (Usage{36, 54, 10, 20, 0, false, true}));

  Response r = parse_response(Format::kResponses, read_fixture("openai/responses_response.json")).value();
  EXPECT_EQ(r.stop, StopReason::kMaxTokens);
  EXPECT_EQ(r.content[0].text, "Part one.\n\nPart two.");
  EXPECT_EQ(r.content[1].text, "Trunc");
  EXPECT_EQ(r.usage.reasoning, 10);
}

TEST(AiResponse, WritesEachFormat) {
  Response m = parse_response(Format::kMessages, read_fixture("anthropic/messages_response.json")).value();
  auto c = obj(write_response(Format::kChat, m, fixed_options()));
  EXPECT_EQ(c["id"], "chatcmpl-01R");
  EXPECT_EQ(c["created"].as_int64(), 1700000000);
  auto& choice = c["choices"].as_array()[0].as_object();
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"].as_object()["content"], "Done");
  EXPECT_EQ(choice["message"].as_object()["reasoning_content"], "Short.");
  EXPECT_EQ(c["usage"].as_object()["prompt_tokens"].as_int64(), 100);  // 36 + 54 + 10
  EXPECT_EQ(c["usage"].as_object()["prompt_tokens_details"].as_object()["cached_tokens"].as_int64(), 54);

  auto r = obj(write_response(Format::kResponses, m, fixed_options()));
  EXPECT_EQ(r["status"], "completed");
  auto& out = r["output"].as_array();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].as_object()["type"], "reasoning");
  EXPECT_EQ(out[0].as_object()["encrypted_content"], "sig-1");
  EXPECT_EQ(out[2].as_object()["call_id"], "toolu_9");

  Response inc = parse_response(Format::kResponses, read_fixture("openai/responses_response.json")).value();
  auto a = obj(write_response(Format::kMessages, inc));
  EXPECT_EQ(a["stop_reason"], "max_tokens");
  EXPECT_EQ(a["usage"].as_object()["output_tokens"].as_int64(), 16);
  auto ch = obj(write_response(Format::kChat, inc, fixed_options()));
  EXPECT_EQ(ch["choices"].as_array()[0].as_object()["finish_reason"], "length");
  auto rr = obj(write_response(Format::kResponses, inc, fixed_options()));
  EXPECT_EQ(rr["status"], "incomplete");
  EXPECT_EQ(rr["incomplete_details"].as_object()["reason"], "max_output_tokens");
}

TEST(AiResponse, RoundTripsKeepContentStopAndUsage) {
  struct Src {
    const char* fixture;
    Format f;
  };
  for (const Src& s : {Src{"openai/chat_response_tools.json", Format::kChat},
                       Src{"anthropic/messages_response.json", Format::kMessages},
                       Src{"openai/responses_response.json", Format::kResponses}}) {
    Response orig = parse_response(s.f, read_fixture(s.fixture)).value();
    for (Format mid : {Format::kChat, Format::kMessages, Format::kResponses}) {
      SCOPED_TRACE(std::string(s.fixture) + " via " + std::string(format_name(mid)));
      Response there = parse_response(mid, write_response(mid, orig, fixed_options())).value();
      Response back = parse_response(s.f, write_response(s.f, there, fixed_options())).value();
      EXPECT_EQ(back.stop, orig.stop);
      EXPECT_EQ(back.usage.input_total(), orig.usage.input_total());
      EXPECT_EQ(back.usage.output, orig.usage.output);
      ASSERT_EQ(back.content.size(), orig.content.size());
      for (size_t i = 0; i < orig.content.size(); ++i) {
        EXPECT_EQ(back.content[i].kind, orig.content[i].kind);
        EXPECT_EQ(back.content[i].text, orig.content[i].text);
        EXPECT_EQ(back.content[i].arguments, orig.content[i].arguments);
      }
    }
  }
}

TEST(AiResponse, StopReasonTable) {
  struct Row {
    const char* chat;
    const char* messages;
    StopReason ir;
  };
  const Row rows[] = {{"stop", "end_turn", StopReason::kEndTurn},
                      {"length", "max_tokens", StopReason::kMaxTokens},
                      {"tool_calls", "tool_use", StopReason::kToolUse},
                      {"content_filter", "refusal", StopReason::kRefusal}};
  for (const auto& r : rows) {
    std::string chat = std::string(R"({"id":"x","choices":[{"index":0,"message":{"content":"a"},"finish_reason":")") +
                       r.chat + R"("}]})";
    Response c = parse_response(Format::kChat, chat).value();
    auto m = obj(write_response(Format::kMessages, c));
    EXPECT_EQ(m["stop_reason"], r.messages) << r.chat;
    std::string msg = std::string(R"({"type":"message","content":[],"stop_reason":")") + r.messages + "\"}";
    Response back = parse_response(Format::kMessages, msg).value();
    EXPECT_EQ(back.stop, r.ir);
    auto ch = obj(write_response(Format::kChat, back, fixed_options()));
    EXPECT_EQ(ch["choices"].as_array()[0].as_object()["finish_reason"], r.chat) << r.messages;
  }
  Response ss = parse_response(Format::kMessages,
                               R"({"type":"message","content":[],"stop_reason":"stop_sequence","stop_sequence":"END"})")
                    .value();
  auto ch = obj(write_response(Format::kChat, ss, fixed_options()));
  EXPECT_EQ(ch["choices"].as_array()[0].as_object()["finish_reason"], "stop");
  EXPECT_EQ(obj(write_response(Format::kMessages, ss))["stop_sequence"], "END");
}

TEST(AiResponse, NotAResponseIsAnUpstreamError) {
  auto r = parse_response(Format::kChat, R"({"object":"list"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().side, ErrorSide::kUpstream);
  EXPECT_FALSE(parse_response(Format::kMessages, "[]").ok());
}

TEST(AiErrors, AnthropicOverloadedToOpenAi) {
  ErrorBody b = translate_error(Format::kChat, 529, read_fixture("anthropic/error_overloaded.json"));
  EXPECT_EQ(b.status, 503);
  auto o = obj(b.body);
  EXPECT_EQ(o["error"].as_object()["message"], "Overloaded");
  EXPECT_EQ(o["error"].as_object()["type"], "server_error");
  EXPECT_EQ(o["error"].as_object()["code"], "overloaded_error");
}

TEST(AiErrors, OpenAiRateLimitToAnthropic) {
  ErrorBody b = translate_error(Format::kMessages, 429, read_fixture("openai/error_rate_limit.json"));
  EXPECT_EQ(b.status, 429);
  auto o = obj(b.body);
  EXPECT_EQ(o["type"], "error");
  EXPECT_EQ(o["error"].as_object()["type"], "rate_limit_error");
  EXPECT_EQ(o["error"].as_object()["message"], "Rate limit reached for gpt-4o on tokens per min (TPM).");
}

TEST(AiErrors, StatusMapping) {
  struct Row {
    int upstream;
    int chat;
    int messages;
    const char* anthropic_type;
  };
  const Row rows[] = {{400, 400, 400, "invalid_request_error"}, {401, 401, 401, "authentication_error"},
                      {403, 403, 403, "permission_error"},      {404, 404, 404, "not_found_error"},
                      {413, 413, 413, "request_too_large"},     {429, 429, 429, "rate_limit_error"},
                      {500, 500, 500, "api_error"},             {503, 503, 529, "overloaded_error"},
                      {504, 504, 504, "api_error"}};
  for (const auto& r : rows) {
    std::string html = "<html>bad gateway</html>";
    EXPECT_EQ(translate_error(Format::kChat, r.upstream, html).status, r.chat) << r.upstream;
    ErrorBody m = translate_error(Format::kMessages, r.upstream, html);
    EXPECT_EQ(m.status, r.messages) << r.upstream;
    EXPECT_EQ(obj(m.body)["error"].as_object()["type"], r.anthropic_type) << r.upstream;
  }
}

TEST(AiErrors, RequestFieldErrorsKeepTheirPath) {
  auto r = parse_request(Format::kChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"x"}]}]})");
  ASSERT_FALSE(r.ok());
  ErrorBody chat = write_error(Format::kChat, from_error(r.error()));
  EXPECT_EQ(chat.status, 400);
  EXPECT_EQ(obj(chat.body)["error"].as_object()["param"], "messages[0].content[0].type");
  ErrorBody msgs = write_error(Format::kMessages, from_error(r.error()));
  EXPECT_EQ(obj(msgs.body)["error"].as_object()["type"], "invalid_request_error");
}

TEST(AiUsage, ExtractFromResponsesAndCutStreams) {
  Response m = parse_response(Format::kMessages, read_fixture("anthropic/messages_response.json")).value();
  Usage u = extract_usage(m, false);
  EXPECT_EQ(u.input_uncached, 36);
  EXPECT_EQ(u.cache_read, 54);
  EXPECT_EQ(u.cache_write, 10);
  EXPECT_EQ(u.output, 20);
  EXPECT_FALSE(u.partial);
  Response cut = collect_stream(Format::kMessages, read_fixture("anthropic/messages_stream_cut.sse")).value();
  Usage c = extract_usage(cut, false);
  EXPECT_TRUE(c.partial);
  EXPECT_EQ(c.input_uncached, 30);
  EXPECT_EQ(c.output, 7);
  Response err = collect_stream(Format::kChat, read_fixture("openai/chat_stream_error.sse")).value();
  EXPECT_TRUE(extract_usage(err, false).partial);
  EXPECT_FALSE(extract_usage(err, false).known);  // nothing reported before the error
}

}  // namespace
}  // namespace gatehouse::ai
