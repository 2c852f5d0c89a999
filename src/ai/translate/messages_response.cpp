// Anthropic Messages responses (non-streaming) <-> IR.
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::messages {

using namespace detail;

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::array* content = arr_or_null(o, "content");
  if (!content || str_or(o, "type") != "message") {
    return make_error("bad_upstream_response", "not an Anthropic message", "content", 502,
                      ErrorSide::kUpstream);
  }
  Response r;
  r.id = str_or(o, "id");
  r.model = str_or(o, "model");
  r.stop = stop_from_messages(str_or(o, "stop_reason"));
  r.stop_sequence = str_or(o, "stop_sequence");
  for (const auto& bv : *content) {
    if (!bv.is_object()) continue;
    const json::object& b = bv.as_object();
    std::string_view type = str_or(b, "type");
    Part p;
    if (type == "text") {
      p.text = str_or(b, "text");  // citations are dropped
    } else if (type == "tool_use") {
      p.kind = PartKind::kToolCall;
      p.id = str_or(b, "id");
      p.name = str_or(b, "name");
      const json::value* input = find(b, "input");
      p.arguments = input ? dump(*input) : "{}";
    } else if (type == "thinking") {
      p.kind = PartKind::kThinking;
      p.text = str_or(b, "thinking");
      p.signature = str_or(b, "signature");
    } else if (type == "redacted_thinking") {
      p.kind = PartKind::kRedactedThinking;
      p.text = str_or(b, "data");
    } else {
      continue;  // server tool blocks and anything newer: not translatable
    }
    r.content.push_back(std::move(p));
  }
  if (const json::object* u = obj_or_null(o, "usage")) usage_from_messages(*u, r.usage);
  return r;
}

json::array content_blocks(const std::vector<Part>& parts) {
  json::array out;
  for (const auto& p : parts) {
    switch (p.kind) {
      case PartKind::kText:
      case PartKind::kRefusal:
        out.push_back(json::object{{"type", "text"}, {"text", p.text}});
        break;
      case PartKind::kToolCall: {
        boost::system::error_code ec;
        json::value input = parse_json(p.arguments, ec);
        if (ec || !input.is_object()) input = json::object{};
        out.push_back(json::object{{"type", "tool_use"}, {"id", p.id}, {"name", p.name},
                                   {"input", std::move(input)}});
        break;
      }
      case PartKind::kThinking:
        out.push_back(json::object{{"type", "thinking"}, {"thinking", p.text},
                                   {"signature", p.item_id.empty() ? p.signature
                                                   : wrap_openai_reasoning(p.item_id, p.signature)}});
        break;
      case PartKind::kRedactedThinking:
        out.push_back(json::object{{"type", "redacted_thinking"}, {"data", p.text}});
        break;
      default: break;
    }
  }
  return out;
}

std::string write_response(const Response& r, const WriteOptions&) {
  json::object o{{"id", response_id(Format::kMessages, r.id)},
                 {"type", "message"},
                 {"role", "assistant"},
                 {"model", r.model},
                 {"content", content_blocks(r.content)},
                 {"stop_reason", stop_to_messages(r.stop)},
                 {"stop_sequence", r.stop_sequence.empty() ? json::value(nullptr)
                                                           : json::value(json::string(r.stop_sequence))},
                 {"usage", usage_to_messages(r.usage)}};
  return dump(o);
}

}  // namespace gatehouse::ai::messages
