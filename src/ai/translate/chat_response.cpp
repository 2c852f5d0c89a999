// OpenAI Chat Completions responses (non-streaming) <-> IR.
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::chat {

using namespace detail;

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::array* choices = arr_or_null(o, "choices");
  if (!choices) {
    return make_error("bad_upstream_response", "chat completion has no `choices`", "choices", 502,
                      ErrorSide::kUpstream);
  }
  Response r;
  r.id = str_or(o, "id");
  r.model = str_or(o, "model");
  r.created = int_or(o, "created");
  // n > 1 is not translated: only the first choice is kept.
  if (!choices->empty() && (*choices)[0].is_object()) {
    const json::object& c = (*choices)[0].as_object();
    r.stop = stop_from_chat(str_or(c, "finish_reason"));
    if (const json::object* m = obj_or_null(c, "message")) {
      std::string_view reasoning = str_or(*m, "reasoning_content");
      if (reasoning.empty()) reasoning = str_or(*m, "reasoning");
      if (!reasoning.empty()) {
        Part t;
        t.kind = PartKind::kThinking;
        t.text.assign(reasoning);
        r.content.push_back(std::move(t));
      }
      std::string_view text = str_or(*m, "content");
      if (!text.empty()) {
        Part t;
        t.text.assign(text);
        r.content.push_back(std::move(t));
      }
      std::string_view refusal = str_or(*m, "refusal");
      if (!refusal.empty()) {
        Part t;
        t.kind = PartKind::kRefusal;
        t.text.assign(refusal);
        r.content.push_back(std::move(t));
        if (r.stop == StopReason::kEndTurn) r.stop = StopReason::kRefusal;
      }
      if (const json::array* calls = arr_or_null(*m, "tool_calls")) {
        for (const auto& cv : *calls) {
          if (!cv.is_object()) continue;
          Part p;
          p.kind = PartKind::kToolCall;
          p.id = str_or(cv.as_object(), "id");
          if (const json::object* fn = obj_or_null(cv.as_object(), "function")) {
            p.name = str_or(*fn, "name");
            p.arguments = str_or(*fn, "arguments");
          }
          r.content.push_back(std::move(p));
        }
      }
    }
  }
  if (const json::object* u = obj_or_null(o, "usage")) usage_from_chat(*u, r.usage);
  return r;
}


std::string write_response(const Response& r, const WriteOptions& opt) {
  json::object msg{{"role", "assistant"}};
  std::string text, refusal, thinking;
  json::array calls;
  for (const auto& p : r.content) {
    switch (p.kind) {
      case PartKind::kText: text.append(p.text); break;
      case PartKind::kRefusal: refusal.append(p.text); break;
      case PartKind::kThinking:
        if (!thinking.empty()) thinking.append("\n\n");
        thinking.append(p.text);
        break;
      case PartKind::kToolCall:
        calls.push_back(json::object{
            {"id", p.id},
            {"type", "function"},
            {"function", json::object{{"name", p.name},
                                      {"arguments", p.arguments.empty() ? "{}" : p.arguments}}}});
        break;
      default: break;  // redacted thinking has no Chat form
    }
  }
  msg["content"] = text.empty() && !calls.empty() ? json::value(nullptr) : json::value(json::string(text));
  msg["refusal"] = refusal.empty() ? json::value(nullptr) : json::value(json::string(refusal));
  if (!thinking.empty()) msg["reasoning_content"] = thinking;
  if (!calls.empty()) msg["tool_calls"] = std::move(calls);
  json::object choice{{"index", 0}, {"message", std::move(msg)}, {"logprobs", nullptr},
                      {"finish_reason", stop_to_chat(r.stop)}};
  json::object o{{"id", response_id(Format::kChat, r.id)},
                 {"object", "chat.completion"},
                 {"created", created_or_now(r.created, opt.created)},
                 {"model", r.model},
                 {"choices", json::array{std::move(choice)}},
                 {"usage", usage_to_chat(r.usage)}};
  return dump(o);
}

}  // namespace gatehouse::ai::chat
