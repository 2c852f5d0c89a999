// Streaming translation: golden fixtures through every provider -> client pair, chunk
// splits, cut and failed streams, and the usage ledger.
#include "ai/translate/stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ai/sse/parser.hpp"
#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

struct Case {
  const char* fixture;  // provider stream under tests/fixtures/ai
  Format provider;
  const char* golden;   // expected/<golden>.<client>.sse
};

const Case kCases[] = {
    {"openai/chat_stream_tools.sse", Format::kChat, "chat_tools"},
    {"openai/chat_stream_reasoning.sse", Format::kChat, "chat_reasoning"},
    {"openai/chat_stream_error.sse", Format::kChat, "chat_error"},
    {"anthropic/messages_stream_thinking_tools.sse", Format::kMessages, "messages_thinking_tools"},
    {"anthropic/messages_stream_error.sse", Format::kMessages, "messages_error"},
    {"anthropic/messages_stream_cut.sse", Format::kMessages, "messages_cut"},
    {"openai/responses_stream_tools.sse", Format::kResponses, "responses_tools"},
};

const char* client_suffix(Format f) {
  switch (f) {
    case Format::kChat: return "chat";
    case Format::kMessages: return "messages";
    case Format::kResponses: return "responses";
    case Format::kGemini:
    case Format::kOllama:
    case Format::kBedrock: break;
  }
  return "";
}

TEST(AiStreamGolden, EveryFixtureToEveryClientFormat) {
  for (const auto& c : kCases) {
    std::string body = read_fixture(c.fixture);
    for (Format client : {Format::kChat, Format::kMessages, Format::kResponses}) {
      SCOPED_TRACE(std::string(c.fixture) + " -> " + client_suffix(client));
      Translated t = translate_stream(c.provider, client, body);
      expect_golden(std::string("expected/") + c.golden + "." + client_suffix(client) + ".sse", t.out);
      // Every translated stream must itself be a well-formed stream of its format.
      Response back = collect_stream(client, t.out).value();
      EXPECT_EQ(back.usage.partial, t.partial);
    }
  }
}

TEST(AiStreamGolden, ByteSplitsGiveIdenticalOutput) {
  // Every byte boundary (two pieces), then one byte at a time.
  std::string body = read_fixture("anthropic/messages_stream_thinking_tools.sse");
  std::string whole = translate_stream(Format::kMessages, Format::kChat, body).out;
  for (size_t cut = 1; cut < body.size(); ++cut) {
    StreamOptions opt;
    opt.encoder.created = 1700000000;
    opt.passthrough_same_format = false;
    StreamTranslator t(Format::kMessages, Format::kChat, opt);
    std::string out;
    ASSERT_TRUE(t.feed(std::string_view(body).substr(0, cut), out).ok());
    ASSERT_TRUE(t.feed(std::string_view(body).substr(cut), out).ok());
    t.finish(out);
    ASSERT_EQ(out, whole) << "split at " << cut;
  }
  for (const auto& c : kCases) {
    std::string b = read_fixture(c.fixture);
    for (Format client : {Format::kChat, Format::kMessages, Format::kResponses}) {
      EXPECT_EQ(translate_stream(c.provider, client, b, 1).out,
                translate_stream(c.provider, client, b).out)
          << c.fixture << " -> " << client_suffix(client);
    }
  }
}

TEST(AiStreamLedger, AnthropicCumulativeUsageIsSetNotAdded) {
  Translated t = translate_stream(Format::kMessages, Format::kChat,
                                  read_fixture("anthropic/messages_stream_thinking_tools.sse"));
  EXPECT_FALSE(t.partial);
  EXPECT_EQ(t.usage.input_uncached, 472);
  EXPECT_EQ(t.usage.cache_write, 100);
  EXPECT_EQ(t.usage.cache_read, 2048);
  EXPECT_EQ(t.usage.output, 89);  // message_start said 2, message_delta's 89 replaces it
  EXPECT_FALSE(t.usage.partial);
  // Restated totals in several message_delta events are still set, never summed.
  std::string body =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"model\":\"m\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},"
      "\"usage\":{\"output_tokens\":5}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
      "\"usage\":{\"input_tokens\":10,\"output_tokens\":9}}\n\n"
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  Translated u = translate_stream(Format::kMessages, Format::kResponses, body);
  EXPECT_EQ(u.usage.input_uncached, 10);
  EXPECT_EQ(u.usage.output, 9);
}

TEST(AiStreamLedger, OpenAiUsageChunkSplitsCachedTokens) {
  Translated t = translate_stream(Format::kChat, Format::kMessages,
                                  read_fixture("openai/chat_stream_tools.sse"));
  EXPECT_EQ(t.usage.input_uncached, 176);
  EXPECT_EQ(t.usage.cache_read, 1024);
  EXPECT_EQ(t.usage.cache_write, 0);
  EXPECT_EQ(t.usage.output, 48);
  EXPECT_EQ(t.usage.input_total(), 1200);
  Translated r = translate_stream(Format::kResponses, Format::kChat,
                                  read_fixture("openai/responses_stream_tools.sse"));
  EXPECT_EQ(r.usage.input_uncached, 44);
  EXPECT_EQ(r.usage.cache_read, 256);
  EXPECT_EQ(r.usage.output, 120);
  EXPECT_EQ(r.usage.reasoning, 64);
}

TEST(AiStreamCut, MissingTerminalEventIsAnInBandErrorInEveryFormat) {
  std::string body = read_fixture("anthropic/messages_stream_cut.sse");
  Translated chat = translate_stream(Format::kMessages, Format::kChat, body);
  EXPECT_TRUE(chat.partial);
  EXPECT_TRUE(chat.usage.partial);
  EXPECT_EQ(chat.usage.output, 7);  // the last cumulative count seen
  EXPECT_NE(chat.out.find("\"code\":\"upstream_stream_truncated\""), std::string::npos);
  EXPECT_EQ(chat.out.find("[DONE]"), std::string::npos);
  EXPECT_EQ(chat.out.find("finish_reason\":\"stop"), std::string::npos);

  Translated msgs = translate_stream(Format::kMessages, Format::kMessages, body, 0, true, true);
  EXPECT_TRUE(msgs.partial);
  EXPECT_NE(msgs.out.find("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\""),
            std::string::npos);
  EXPECT_EQ(msgs.out.find("message_stop"), std::string::npos);

  Translated resp = translate_stream(Format::kMessages, Format::kResponses, body);
  EXPECT_NE(resp.out.find("event: response.failed"), std::string::npos);
  EXPECT_EQ(resp.out.find("response.completed"), std::string::npos);
}

TEST(AiStreamCut, EmptyBodyIsStillAnErrorNotSuccess) {
  for (Format p : {Format::kChat, Format::kMessages, Format::kResponses}) {
    Translated t = translate_stream(p, Format::kChat, "");
    EXPECT_TRUE(t.partial);
    EXPECT_NE(t.out.find("upstream_stream_truncated"), std::string::npos);
  }
}

TEST(AiStreamErrors, MidStreamErrorsMapToTheClientFormat) {
  Translated a = translate_stream(Format::kMessages, Format::kChat,
                                  read_fixture("anthropic/messages_stream_error.sse"));
  EXPECT_TRUE(a.partial);
  EXPECT_NE(a.out.find("data: {\"error\":{\"message\":\"Overloaded\",\"type\":\"server_error\""),
            std::string::npos);
  Translated o = translate_stream(Format::kChat, Format::kMessages,
                                  read_fixture("openai/chat_stream_error.sse"));
  EXPECT_TRUE(o.partial);
  EXPECT_NE(o.out.find("event: error\n"), std::string::npos);
  EXPECT_EQ(o.out.find("message_stop"), std::string::npos);
}

TEST(AiStreamErrors, GarbageFromUpstreamFailsCleanly) {
  StreamTranslator t(Format::kChat, Format::kMessages);
  std::string out;
  auto r = t.feed("data: {not json\n\n", out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_upstream_event");
  EXPECT_TRUE(t.done());
  EXPECT_TRUE(t.partial());
  EXPECT_NE(out.find("event: error"), std::string::npos);
  std::string more;
  EXPECT_TRUE(t.feed("data: [DONE]\n\n", more).ok());
  t.finish(more);
  EXPECT_TRUE(more.empty());  // nothing after the error frame
}

TEST(AiStreamErrors, OversizedFrameFailsWithTheLimit) {
  StreamOptions opt;
  opt.sse.max_frame_bytes = 64;
  StreamTranslator t(Format::kChat, Format::kChat, opt);
  std::string out;
  auto r = t.feed("data: " + std::string(100, 'x'), out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "sse_frame_too_large");
  EXPECT_NE(out.find("\"error\""), std::string::npos);
}

TEST(AiStreamChat, UsageChunkOnlyWhenTheClientAskedForIt) {
  std::string body = read_fixture("anthropic/messages_stream_thinking_tools.sse");
  Translated with = translate_stream(Format::kMessages, Format::kChat, body, 0, true);
  Translated without = translate_stream(Format::kMessages, Format::kChat, body, 0, false);
  EXPECT_NE(with.out.find("\"choices\":[],\"usage\""), std::string::npos);
  EXPECT_EQ(without.out.find("\"usage\""), std::string::npos);
  // The ledger does not depend on what the client sees.
  EXPECT_EQ(with.usage, without.usage);
}

TEST(AiStreamChat, InterleavedToolCallsKeepTheirArguments) {
  Response r = collect_stream(Format::kChat, read_fixture("openai/chat_stream_tools.sse")).value();
  ASSERT_EQ(r.content.size(), 3u);
  EXPECT_EQ(r.content[0].text, "Checking both cities.");
  EXPECT_EQ(r.content[1].id, "call_paris");
  EXPECT_EQ(r.content[1].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(r.content[2].id, "call_tokyo");
  EXPECT_EQ(r.content[2].arguments, "{\"city\":\"Tokyo\"}");
  EXPECT_EQ(r.stop, StopReason::kToolUse);
  // ... and through Anthropic and Responses clients.
  for (Format client : {Format::kMessages, Format::kResponses}) {
    Translated t = translate_stream(Format::kChat, client, read_fixture("openai/chat_stream_tools.sse"));
    Response back = collect_stream(client, t.out).value();
    ASSERT_EQ(back.content.size(), 3u);
    EXPECT_EQ(back.content[1].arguments, "{\"city\":\"Paris\"}");
    EXPECT_EQ(back.content[2].arguments, "{\"city\":\"Tokyo\"}");
    EXPECT_EQ(back.stop, StopReason::kToolUse);
    EXPECT_EQ(back.usage.cache_read, 1024);
  }
}

TEST(AiStreamPing, KeepalivesBecomeTheClientsPing) {
  std::string body = read_fixture("anthropic/messages_stream_thinking_tools.sse");
  EXPECT_NE(translate_stream(Format::kMessages, Format::kChat, body).out.find(": ping\n\n"),
            std::string::npos);
  std::string chat = read_fixture("openai/chat_stream_tools.sse");
  EXPECT_NE(translate_stream(Format::kChat, Format::kMessages, chat).out.find("event: ping\n"),
            std::string::npos);
}

TEST(AiStreamPassthrough, SameFormatForwardsFramesAndStillMeters) {
  std::string body = read_fixture("anthropic/messages_stream_thinking_tools.sse");
  Translated t = translate_stream(Format::kMessages, Format::kMessages, body, 7, true, true);
  sse::Parser a, b;
  std::vector<sse::Event> ea, eb;
  ASSERT_TRUE(a.feed(body, ea).ok());
  ASSERT_TRUE(b.feed(t.out, eb).ok());
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) {
    EXPECT_EQ(ea[i].event, eb[i].event);
    EXPECT_EQ(ea[i].data, eb[i].data);  // the JSON is not re-encoded
  }
  EXPECT_EQ(t.usage.output, 89);
  EXPECT_FALSE(t.partial);
}

TEST(AiStreamRoundTrip, ThroughAnotherFormatAndBackKeepsTheMeaning) {
  struct Src {
    const char* fixture;
    Format f;
  };
  for (const Src& s : {Src{"anthropic/messages_stream_thinking_tools.sse", Format::kMessages},
                       Src{"openai/chat_stream_tools.sse", Format::kChat},
                       Src{"openai/responses_stream_tools.sse", Format::kResponses}}) {
    std::string body = read_fixture(s.fixture);
    Response orig = collect_stream(s.f, body).value();
    for (Format mid : {Format::kChat, Format::kMessages, Format::kResponses}) {
      SCOPED_TRACE(std::string(s.fixture) + " via " + client_suffix(mid));
      std::string there = translate_stream(s.f, mid, body).out;
      std::string back = translate_stream(mid, s.f, there).out;
      Response r = collect_stream(s.f, back).value();
      EXPECT_FALSE(r.usage.partial);
      EXPECT_EQ(r.stop, orig.stop);
      std::vector<std::string> want, got;
      for (const auto& p : orig.content) {
        // Chat cannot carry a signature; thinking text survives everywhere.
        if (p.kind == PartKind::kToolCall) want.push_back(p.id + ":" + p.name + ":" + p.arguments);
        else want.push_back(p.text);
      }
      for (const auto& p : r.content) {
        if (p.kind == PartKind::kToolCall) got.push_back(p.id + ":" + p.name + ":" + p.arguments);
        else got.push_back(p.text);
      }
      EXPECT_EQ(got, want);
      EXPECT_EQ(r.usage.input_total(), orig.usage.input_total());
      EXPECT_EQ(r.usage.cache_read, orig.usage.cache_read);
      EXPECT_EQ(r.usage.output, orig.usage.output);
    }
  }
}

TEST(AiStreamResponses, IncompleteMapsToMaxTokensEverywhere) {
  std::string body =
      "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_9\",\"model\":\"o4-mini\"}}\n\n"
      "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n"
      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"content_index\":0,\"delta\":\"Tru\"}\n\n"
      "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":5,\"output_tokens\":3}}}\n\n";
  Translated chat = translate_stream(Format::kResponses, Format::kChat, body);
  EXPECT_FALSE(chat.partial);
  EXPECT_NE(chat.out.find("\"finish_reason\":\"length\""), std::string::npos);
  EXPECT_NE(chat.out.find("data: [DONE]"), std::string::npos);
  Translated msgs = translate_stream(Format::kResponses, Format::kMessages, body);
  EXPECT_NE(msgs.out.find("\"stop_reason\":\"max_tokens\""), std::string::npos);
  Translated resp = translate_stream(Format::kResponses, Format::kResponses, body);
  EXPECT_NE(resp.out.find("event: response.incomplete"), std::string::npos);
  EXPECT_NE(resp.out.find("\"reason\":\"max_output_tokens\""), std::string::npos);
  EXPECT_EQ(resp.usage.output, 3);
}

TEST(AiStreamChat, RefusalDeltasBecomeARefusal) {
  std::string body =
      "data: {\"id\":\"chatcmpl-r\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"refusal\":\"I can't\"}}]}\n\n"
      "data: {\"id\":\"chatcmpl-r\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      "data: [DONE]\n\n";
  Response r = collect_stream(Format::kChat, body).value();
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].kind, PartKind::kRefusal);
  EXPECT_EQ(r.stop, StopReason::kRefusal);
  Translated m = translate_stream(Format::kChat, Format::kMessages, body);
  EXPECT_NE(m.out.find("\"stop_reason\":\"refusal\""), std::string::npos);
  Translated resp = translate_stream(Format::kChat, Format::kResponses, body);
  EXPECT_NE(resp.out.find("event: response.refusal.delta"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::ai
