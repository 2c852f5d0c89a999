// OpenAI Responses responses (non-streaming) <-> IR.
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/responses_common.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai {
namespace detail {

json::object responses_message_item(std::string_view id, std::string_view status) {
  return json::object{{"id", id}, {"type", "message"}, {"status", status},
                      {"role", "assistant"}, {"content", json::array{}}};
}

json::object responses_text_part(PartKind kind, std::string_view text) {
  if (kind == PartKind::kRefusal) return json::object{{"type", "refusal"}, {"refusal", text}};
  return json::object{{"type", "output_text"}, {"text", text}, {"annotations", json::array{}}};
}

json::object responses_reasoning_item(std::string_view id, const Part& p) {
  json::array summary;
  if (!p.text.empty()) summary.push_back(json::object{{"type", "summary_text"}, {"text", p.text}});
  json::object it{{"id", id}, {"type", "reasoning"}, {"summary", std::move(summary)}};
  // OpenAI's own encrypted content, or (under an "rs_gh" id) an Anthropic signature.
  if (!p.signature.empty()) it["encrypted_content"] = p.signature;
  return it;
}

json::object responses_call_item(std::string_view id, const Part& p, std::string_view status) {
  return json::object{{"id", id}, {"type", "function_call"}, {"status", status},
                      {"arguments", p.arguments}, {"call_id", p.id}, {"name", p.name}};
}

std::string reasoning_item_id(const Part& p, std::string_view resp_id, size_t index) {
  return p.item_id.empty() ? item_id(kForeignReasoningPrefix, resp_id, index) : p.item_id;
}

json::array responses_output(const std::vector<Part>& content, std::string_view resp_id) {
  json::array out;
  json::object* msg = nullptr;
  for (const auto& p : content) {
    switch (p.kind) {
      case PartKind::kText:
      case PartKind::kRefusal:
        if (!msg) {
          out.push_back(responses_message_item(item_id("msg_", resp_id, out.size()), "completed"));
          msg = &out.back().as_object();
        }
        (*msg)["content"].as_array().push_back(responses_text_part(p.kind, p.text));
        break;
      case PartKind::kThinking:
        msg = nullptr;
        out.push_back(responses_reasoning_item(reasoning_item_id(p, resp_id, out.size()), p));
        break;
      case PartKind::kToolCall:
        msg = nullptr;
        out.push_back(responses_call_item(item_id("fc_", resp_id, out.size()), p, "completed"));
        break;
      default: break;  // redacted thinking has no Responses form
    }
  }
  return out;
}

json::object responses_object(const Response& r, std::string_view status, json::array output,
                              int64_t created) {
  json::object o;
  o["id"] = response_id(Format::kResponses, r.id);
  o["object"] = "response";
  o["created_at"] = created;
  o["status"] = status;
  if (status == "failed" && r.error) {
    o["error"] = json::object{{"code", r.error->code.empty() ? "server_error" : r.error->code},
                              {"message", r.error->message}};
  } else {
    o["error"] = nullptr;
  }
  std::string_view reason = incomplete_reason_to_responses(r.stop);
  if (status == "incomplete" && !reason.empty()) {
    o["incomplete_details"] = json::object{{"reason", reason}};
  } else {
    o["incomplete_details"] = nullptr;
  }
  o["model"] = r.model;
  o["output"] = std::move(output);
  o["parallel_tool_calls"] = true;
  o["tool_choice"] = "auto";
  o["tools"] = json::array{};
  o["usage"] = status == "in_progress" ? json::value(nullptr) : json::value(usage_to_responses(r.usage));
  return o;
}

}  // namespace detail

namespace responses {

using namespace detail;

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::array* output = arr_or_null(o, "output");
  if (!output) {
    return make_error("bad_upstream_response", "response has no `output`", "output", 502,
                      ErrorSide::kUpstream);
  }
  Response r;
  r.id = str_or(o, "id");
  r.model = str_or(o, "model");
  r.created = int_or(o, "created_at");
  bool had_call = false;
  for (const auto& iv : *output) {
    if (!iv.is_object()) continue;
    const json::object& it = iv.as_object();
    std::string_view type = str_or(it, "type");
    if (type == "message") {
      const json::array* content = arr_or_null(it, "content");
      if (!content) continue;
      for (const auto& cv : *content) {
        if (!cv.is_object()) continue;
        const json::object& c = cv.as_object();
        std::string_view ct = str_or(c, "type");
        Part p;
        if (ct == "output_text") {
          p.text = str_or(c, "text");  // annotations are dropped
        } else if (ct == "refusal") {
          p.kind = PartKind::kRefusal;
          p.text = str_or(c, "refusal");
        } else {
          continue;
        }
        r.content.push_back(std::move(p));
      }
    } else if (type == "function_call") {
      had_call = true;
      Part p;
      p.kind = PartKind::kToolCall;
      p.id = str_or(it, "call_id");
      p.name = str_or(it, "name");
      p.arguments = str_or(it, "arguments");
      r.content.push_back(std::move(p));
    } else if (type == "reasoning") {
      Part p;
      p.kind = PartKind::kThinking;
      p.item_id = str_or(it, "id");
      if (is_foreign_reasoning_id(p.item_id)) p.item_id.clear();
      p.signature = str_or(it, "encrypted_content");
      for (std::string_view key : {"summary", "content"}) {
        if (const json::array* parts = arr_or_null(it, key)) {
          for (const auto& sv : *parts) {
            if (!sv.is_object()) continue;
            if (!p.text.empty()) p.text.append("\n\n");
            p.text.append(str_or(sv.as_object(), "text"));
          }
        }
        if (!p.text.empty()) break;
      }
      r.content.push_back(std::move(p));
    }
  }
  std::string_view status = str_or(o, "status", "completed");
  std::string_view reason;
  if (const json::object* inc = obj_or_null(o, "incomplete_details")) reason = str_or(*inc, "reason");
  r.stop = stop_from_responses(status, reason, had_call);
  if (status == "failed") {
    ErrorInfo e;
    e.type = "api_error";
    if (const json::object* err = obj_or_null(o, "error")) {
      e.code = str_or(*err, "code");
      e.message = str_or(*err, "message");
    }
    r.error = e;
  }
  if (const json::object* u = obj_or_null(o, "usage")) usage_from_responses(*u, r.usage);
  return r;
}

std::string write_response(const Response& r, const WriteOptions& opt) {
  std::string rid = response_id(Format::kResponses, r.id);
  json::object o = responses_object(r, status_to_responses(r.stop), responses_output(r.content, rid),
                                    created_or_now(r.created, opt.created));
  return dump(o);
}

}  // namespace responses
}  // namespace gatehouse::ai
