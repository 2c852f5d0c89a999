// Requests: each wire format's parser, its field-path errors, and writers into the others.
#include <gtest/gtest.h>

#include "ai/translate/test_util.hpp"

namespace gatehouse::ai {
namespace {

using namespace testing;

Request parse_ok(Format f, const std::string& body) {
  auto r = parse_request(f, body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().field + ": " + r.error().message);
  return r.ok() ? std::move(r).value() : Request{};
}

TEST(AiRequestChat, ParsesEveryMappedField) {
  Request r = parse_ok(Format::kChat, read_fixture("openai/chat_request_full.json"));
  EXPECT_EQ(r.model, "gpt-4o");
  ASSERT_EQ(r.messages.size(), 6u);
  EXPECT_EQ(r.messages[0].role, Role::kSystem);
  EXPECT_EQ(r.messages[1].role, Role::kDeveloper);
  const auto& user = r.messages[2].parts;
  ASSERT_EQ(user.size(), 3u);
  EXPECT_EQ(user[1].kind, PartKind::kImage);
  EXPECT_EQ(user[1].image.media_type, "image/png");
  EXPECT_EQ(user[1].image.data, "iVBORw0KGgo=");
  EXPECT_EQ(user[1].image.detail, "high");
  EXPECT_EQ(user[2].image.url, "https://example.com/cat.jpg");
  ASSERT_EQ(r.messages[3].parts.size(), 1u);
  EXPECT_EQ(r.messages[3].parts[0].kind, PartKind::kToolCall);
  EXPECT_EQ(r.messages[3].parts[0].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(r.messages[4].role, Role::kTool);
  EXPECT_EQ(r.messages[4].parts[0].id, "call_abc");
  EXPECT_EQ(r.messages[4].parts[0].content[0].text, "18C, cloudy");
  EXPECT_EQ(r.messages[5].name, "alice");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].strict, true);
  ASSERT_TRUE(r.tool_choice);
  EXPECT_EQ(r.tool_choice->mode, ToolChoiceMode::kTool);
  EXPECT_EQ(r.parallel_tool_calls, false);
  EXPECT_EQ(r.max_tokens, 512);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.user, "user-42");
  ASSERT_TRUE(r.reasoning);
  EXPECT_EQ(r.reasoning->effort, "low");
  EXPECT_EQ(r.dropped, (std::vector<std::string>{"seed", "response_format"}));
}

TEST(AiRequestChat, ErrorsNameTheFieldPath) {
  struct Bad {
    const char* body;
    const char* field;
  };
  const Bad cases[] = {
      {R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":"hi"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":5,"messages":[]})", "model"},
      {R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":[{"type":"input_audio"}]}]})",
       "messages[2].content[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]})", "messages[0].content[0].type"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "messages[0].tool_call_id"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":"9"})", "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{}}]})",
       "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
       "stream_options.include_usage"},
  };
  for (const auto& c : cases) {
    auto r = parse_request(Format::kChat, c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body;
    EXPECT_EQ(r.error().status, 400);
  }
  auto bad = parse_request(Format::kChat, "{nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_json");
}

TEST(AiRequestMessages, ParsesEveryMappedField) {
  Request r = parse_ok(Format::kMessages, read_fixture("anthropic/messages_request_full.json"));
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].role, Role::kSystem);
  ASSERT_EQ(r.messages[0].parts.size(), 2u);
  EXPECT_FALSE(r.messages[0].parts[1].cache_control.is_null());
  EXPECT_EQ(r.messages[1].parts[1].image.media_type, "image/jpeg");
  EXPECT_EQ(r.messages[1].parts[2].image.url, "https://example.com/dog.png");
  const auto& a = r.messages[2].parts;
  EXPECT_EQ(a[0].kind, PartKind::kThinking);
  EXPECT_EQ(a[0].signature, "sig-abc");
  EXPECT_EQ(a[2].arguments, "{\"city\":\"Paris\"}");
  EXPECT_EQ(r.messages[3].parts[0].kind, PartKind::kToolResult);
  EXPECT_EQ(r.tool_choice->mode, ToolChoiceMode::kRequired);
  EXPECT_EQ(r.parallel_tool_calls, false);
  EXPECT_EQ(r.reasoning->budget_tokens, 1500);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.stop, std::vector<std::string>{"STOP"});
  EXPECT_EQ(r.user, "user-42");
  EXPECT_EQ(r.dropped, std::vector<std::string>{"service_tier"});
  auto bad = parse_request(Format::kMessages,
                           R"({"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"file"}}]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "messages[0].content[0].source.type");
  auto server_tool = parse_request(Format::kMessages,
                                   R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]})");
  ASSERT_FALSE(server_tool.ok());
  EXPECT_EQ(server_tool.error().code, "unsupported_tool");
}

TEST(AiRequestResponses, ParsesEveryMappedField) {
  Request r = parse_ok(Format::kResponses, read_fixture("openai/responses_request_full.json"));
  ASSERT_EQ(r.messages.size(), 6u);
  EXPECT_EQ(r.messages[0].role, Role::kSystem);
  EXPECT_EQ(r.messages[0].parts[0].text, "You are terse.");
  EXPECT_EQ(r.messages[1].parts[1].image.media_type, "image/webp");
  const auto& a = r.messages[2];
  EXPECT_EQ(a.role, Role::kAssistant);
  ASSERT_EQ(a.parts.size(), 2u);
  EXPECT_EQ(a.parts[0].kind, PartKind::kThinking);
  EXPECT_EQ(a.parts[0].item_id, "rs_1");
  EXPECT_EQ(a.parts[0].signature, "gAAAA-enc");
  EXPECT_EQ(a.parts[1].id, "call_1");
  EXPECT_EQ(r.messages[3].role, Role::kTool);
  EXPECT_EQ(r.messages[4].role, Role::kAssistant);  // history text, then the final user turn
  EXPECT_EQ(r.messages[5].role, Role::kUser);
  EXPECT_EQ(r.tool_choice->mode, ToolChoiceMode::kRequired);
  EXPECT_EQ(r.max_tokens, 20000);
  EXPECT_EQ(r.reasoning->effort, "high");
  EXPECT_EQ(r.dropped, std::vector<std::string>{"store"});
  auto prev = parse_request(Format::kResponses, R"({"model":"m","input":"x","previous_response_id":"resp_1"})");
  ASSERT_FALSE(prev.ok());
  EXPECT_EQ(prev.error().field, "previous_response_id");
  auto bad = parse_request(Format::kResponses, R"({"model":"m","input":[{"type":"function_call","name":"f"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "input[0].call_id");
}

TEST(AiRequestWrite, ChatToMessages) {
  Request r = parse_ok(Format::kChat, read_fixture("openai/chat_request_full.json"));
  auto o = obj(write_request(Format::kMessages, r));
  EXPECT_EQ(o["system"].as_array().size(), 2u);  // system + developer, hoisted
  EXPECT_EQ(o["max_tokens"].as_int64(), 512);
  auto& msgs = o["messages"].as_array();
  ASSERT_EQ(msgs.size(), 3u);  // user, assistant, user(tool_result + text merged)
  auto& img = msgs[0].as_object()["content"].as_array()[1].as_object();
  EXPECT_EQ(img["source"].as_object()["type"], "base64");
  EXPECT_EQ(img["source"].as_object()["media_type"], "image/png");
  EXPECT_EQ(msgs[0].as_object()["content"].as_array()[2].as_object()["source"].as_object()["type"], "url");
  auto& call = msgs[1].as_object()["content"].as_array()[0].as_object();
  EXPECT_EQ(call["type"], "tool_use");
  EXPECT_EQ(call["input"].as_object()["city"], "Paris");
  auto& last = msgs[2].as_object()["content"].as_array();
  EXPECT_EQ(last[0].as_object()["type"], "tool_result");
  EXPECT_EQ(last[0].as_object()["content"], "18C, cloudy");
  EXPECT_EQ(last[1].as_object()["text"], "Thanks. And tomorrow?");
  EXPECT_EQ(o["tool_choice"].as_object()["type"], "tool");
  EXPECT_EQ(o["tool_choice"].as_object()["disable_parallel_tool_use"], true);
  EXPECT_EQ(o["tools"].as_array()[0].as_object()["input_schema"].as_object()["type"], "object");
  EXPECT_EQ(o["stop_sequences"].as_array()[0], "END");
  EXPECT_EQ(o["metadata"].as_object()["user_id"], "user-42");
  // "low" is a 2048 budget, but it must stay below max_tokens (512) and at least 1024.
  EXPECT_FALSE(o.contains("thinking"));
  EXPECT_FALSE(o.contains("stream_options"));
}

TEST(AiRequestWrite, MessagesToChat) {
  Request r = parse_ok(Format::kMessages, read_fixture("anthropic/messages_request_full.json"));
  auto o = obj(write_request(Format::kChat, r));
  auto& msgs = o["messages"].as_array();
  EXPECT_EQ(msgs[0].as_object()["role"], "system");
  EXPECT_EQ(msgs[0].as_object()["content"].as_array().size(), 2u);
  auto& img = msgs[1].as_object()["content"].as_array()[1].as_object();
  EXPECT_EQ(img["image_url"].as_object()["url"], "data:image/jpeg;base64,/9j/4AAQ");
  auto& asst = msgs[2].as_object();
  EXPECT_EQ(asst["content"], "Checking.");
  EXPECT_FALSE(asst.contains("reasoning_content"));  // off by default
  EXPECT_EQ(asst["tool_calls"].as_array()[0].as_object()["function"].as_object()["arguments"],
            "{\"city\":\"Paris\"}");
  EXPECT_EQ(msgs[3].as_object()["role"], "tool");
  EXPECT_EQ(msgs[3].as_object()["content"], "18C");
  EXPECT_EQ(msgs[4].as_object()["role"], "user");
  EXPECT_EQ(o["max_completion_tokens"].as_int64(), 2048);
  EXPECT_EQ(o["stream_options"].as_object()["include_usage"], true);  // forced upstream
  EXPECT_EQ(o["tool_choice"], "required");
  EXPECT_EQ(o["parallel_tool_calls"], false);
  EXPECT_EQ(o["reasoning_effort"], "low");
  EXPECT_EQ(o["stop"].as_array()[0], "STOP");
  EXPECT_FALSE(o.contains("top_k"));
}

TEST(AiRequestWrite, ResponsesToMessagesAndChat) {
  Request r = parse_ok(Format::kResponses, read_fixture("openai/responses_request_full.json"));
  auto m = obj(write_request(Format::kMessages, r));
  EXPECT_EQ(m["system"], "You are terse.");
  auto& asst = m["messages"].as_array()[1].as_object()["content"].as_array();
  ASSERT_EQ(asst.size(), 1u);  // OpenAI reasoning is not sent to Anthropic
  EXPECT_EQ(asst[0].as_object()["type"], "tool_use");
  EXPECT_EQ(m["thinking"].as_object()["budget_tokens"].as_int64(), 16384);  // "high"
  auto c = obj(write_request(Format::kChat, r));
  EXPECT_EQ(c["messages"].as_array()[0].as_object()["content"], "You are terse.");
  EXPECT_EQ(c["reasoning_effort"], "high");
}

TEST(AiRequestWrite, ToResponses) {
  Request r = parse_ok(Format::kMessages, read_fixture("anthropic/messages_request_full.json"));
  auto o = obj(write_request(Format::kResponses, r));
  EXPECT_EQ(o["instructions"], "You are terse.\n\nLong cached preamble.");
  auto& in = o["input"].as_array();
  EXPECT_EQ(in[0].as_object()["content"].as_array()[1].as_object()["type"], "input_image");
  // Anthropic thinking cannot go to OpenAI: assistant text, then the call.
  EXPECT_EQ(in[1].as_object()["type"], "message");
  EXPECT_EQ(in[2].as_object()["type"], "function_call");
  EXPECT_EQ(in[3].as_object()["type"], "function_call_output");
  EXPECT_EQ(in[3].as_object()["call_id"], "toolu_01A");
  EXPECT_EQ(o["tools"].as_array()[0].as_object()["name"], "get_weather");
  EXPECT_EQ(o["tool_choice"], "required");
  EXPECT_EQ(o["max_output_tokens"].as_int64(), 2048);
  EXPECT_EQ(o["reasoning"].as_object()["summary"], "auto");
  EXPECT_EQ(o["reasoning"].as_object()["effort"], "low");
}

TEST(AiRequestRoundTrip, EachFormatThroughTheOthersKeepsTheConversation) {
  struct Src {
    const char* fixture;
    Format f;
  };
  for (const Src& s : {Src{"openai/chat_request_full.json", Format::kChat},
                       Src{"anthropic/messages_request_full.json", Format::kMessages},
                       Src{"openai/responses_request_full.json", Format::kResponses}}) {
    Request orig = parse_ok(s.f, read_fixture(s.fixture));
    for (Format mid : {Format::kChat, Format::kMessages, Format::kResponses}) {
      SCOPED_TRACE(std::string(s.fixture) + " via " + std::string(format_name(mid)));
      Request there = parse_ok(mid, write_request(mid, orig));
      Request back = parse_ok(s.f, write_request(s.f, there));
      // The tool calls, tool results, user text and images survive every trip.
      auto summary = [](const Request& r) {
        std::vector<std::string> v;
        for (const auto& m : r.messages) {
          for (const auto& p : m.parts) {
            if (p.kind == PartKind::kToolCall) v.push_back("call " + p.id + " " + p.name);
            if (p.kind == PartKind::kToolResult) v.push_back("result " + p.id);
            if (p.kind == PartKind::kImage) v.push_back("image " + p.image.url + p.image.data);
            if (p.kind == PartKind::kText && m.role == Role::kUser) v.push_back("user " + p.text);
          }
        }
        return v;
      };
      EXPECT_EQ(summary(back), summary(orig));
      EXPECT_EQ(back.model, orig.model);
      EXPECT_EQ(back.tools.size(), orig.tools.size());
      EXPECT_EQ(back.stream, orig.stream);
      EXPECT_EQ(back.tool_choice->mode, orig.tool_choice->mode);
    }
  }
}

}  // namespace
}  // namespace gatehouse::ai
