// Google Gemini generateContent (provider side only): IR -> request body,
// GenerateContentResponse -> IR, and the streamGenerateContent?alt=sse decoder
// (every SSE `data:` is one whole GenerateContentResponse chunk).
#include <set>

#include "ai/translate/block_cursor.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::gemini {

using namespace detail;

namespace {

// Gemini's `parameters` is an OpenAPI schema subset: JSON Schema keys it
// rejects outright are removed (zod- and pydantic-made schemas carry them).
json::value schema_for_gemini(const json::value& v) {
  if (v.is_array()) {
    json::array a;
    for (const auto& x : v.as_array()) a.push_back(schema_for_gemini(x));
    return a;
  }
  if (!v.is_object()) return v;
  json::object o;
  for (const auto& kv : v.as_object()) {
    std::string_view k = kv.key();
    if (k == "$schema" || k == "additionalProperties" || k == "$id" || k == "strict") continue;
    o[k] = schema_for_gemini(kv.value());
  }
  return o;
}

// A tool result names the function it answers; the IR only keeps the call id,
// so the name is found on the call earlier in the conversation.
std::string call_name(const Request& r, const std::string& id) {
  for (const auto& m : r.messages)
    for (const auto& p : m.parts)
      if (p.kind == PartKind::kToolCall && p.id == id) return p.name;
  return id;
}

json::object function_response(const Request& r, const Part& p) {
  std::string text;
  for (const auto& c : p.content)
    if (c.kind == PartKind::kText) text += c.text;
  // A result that is itself a JSON object goes as is; anything else is
  // wrapped under "output" (or "error"), the keys Gemini's docs recommend.
  json::object response;
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (!ec && v.is_object() && !p.is_error)
    response = std::move(v.as_object());
  else
    response[p.is_error ? "error" : "output"] = text;
  json::object fr{{"name", call_name(r, p.id)}, {"response", std::move(response)}};
  if (!p.id.empty()) fr["id"] = p.id;
  return json::object{{"functionResponse", std::move(fr)}};
}

std::string guess_mime(std::string_view url) {
  auto ends = [&](std::string_view s) {
    return url.size() >= s.size() && url.substr(url.size() - s.size()) == s;
  };
  if (ends(".png")) return "image/png";
  if (ends(".webp")) return "image/webp";
  if (ends(".gif")) return "image/gif";
  return "image/jpeg";
}

void append_part(const Request& r, const Part& p, json::array& out) {
  switch (p.kind) {
    case PartKind::kText:
    case PartKind::kRefusal:
      if (!p.text.empty()) out.push_back(json::object{{"text", p.text}});
      break;
    case PartKind::kImage:
      if (p.image.url.empty())
        out.push_back(json::object{{"inlineData", json::object{{"mimeType", p.image.media_type},
                                                               {"data", p.image.data}}}});
      else
        out.push_back(json::object{{"fileData", json::object{{"mimeType", guess_mime(p.image.url)},
                                                             {"fileUri", p.image.url}}}});
      break;
    case PartKind::kToolCall: {
      json::value args = json::object{};
      boost::system::error_code ec;
      json::value v = parse_json(p.arguments.empty() ? "{}" : p.arguments, ec);
      if (!ec && v.is_object()) args = std::move(v);
      json::object fc{{"name", p.name}, {"args", std::move(args)}};
      // Ids we minted (call_gemini_...) were never Gemini's: not sent back.
      if (!p.id.empty() && p.id.rfind("call_gemini_", 0) != 0) fc["id"] = p.id;
      out.push_back(json::object{{"functionCall", std::move(fc)}});
      break;
    }
    case PartKind::kToolResult:
      out.push_back(function_response(r, p));
      for (const auto& c : p.content)
        if (c.kind == PartKind::kImage) append_part(r, c, out);
      break;
    case PartKind::kThinking:
    case PartKind::kRedactedThinking:
      break;  // Gemini takes no thought text back
  }
}

StopReason stop_from_gemini(std::string_view reason, bool had_tool_call) {
  if (had_tool_call && (reason == "STOP" || reason.empty())) return StopReason::kToolUse;
  if (reason == "STOP") return StopReason::kEndTurn;
  if (reason == "MAX_TOKENS") return StopReason::kMaxTokens;
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" ||
      reason == "PROHIBITED_CONTENT" || reason == "SPII" || reason == "IMAGE_SAFETY" ||
      reason == "LANGUAGE")
    return StopReason::kContentFilter;
  if (reason == "MALFORMED_FUNCTION_CALL" || reason == "UNEXPECTED_TOOL_CALL")
    return StopReason::kError;
  return reason.empty() ? StopReason::kUnknown
                        : StopReason::kEndTurn;  // OTHER, FINISH_REASON_UNSPECIFIED
}

// promptTokenCount includes the cached part; candidatesTokenCount excludes
// the thoughts, which are billed as output.
void usage_from_gemini(const json::object& u, Usage& out) {
  int64_t prompt = int_or(u, "promptTokenCount") + int_or(u, "toolUsePromptTokenCount");
  int64_t cached = int_or(u, "cachedContentTokenCount");
  int64_t thoughts = int_or(u, "thoughtsTokenCount");
  out.cache_read = cached;
  out.input_uncached = std::max<int64_t>(prompt - cached, 0);
  out.output = int_or(u, "candidatesTokenCount") + thoughts;
  out.reasoning = thoughts;
  out.known = true;
}

std::string minted_call_id(std::string_view response_id, size_t n) {
  return "call_gemini_" + std::string(response_id.empty() ? "0" : response_id) + "_" +
         std::to_string(n);
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions&) {
  json::object o;
  json::array system;
  for (const auto& m : r.messages) {
    if (m.role != Role::kSystem && m.role != Role::kDeveloper) continue;
    for (const auto& p : m.parts)
      if (p.kind == PartKind::kText) system.push_back(json::object{{"text", p.text}});
  }
  if (!system.empty()) o["systemInstruction"] = json::object{{"parts", std::move(system)}};

  json::array contents;
  for (const auto& m : r.messages) {
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    const char* role = m.role == Role::kAssistant ? "model" : "user";
    json::array parts;
    for (const auto& p : m.parts) append_part(r, p, parts);
    if (parts.empty()) continue;
    // Same-role turns merge (OpenAI tool messages are one per result; Gemini
    // wants all the function responses of a turn together).
    if (!contents.empty() && contents.back().as_object()["role"].as_string() == role) {
      json::array& prev = contents.back().as_object()["parts"].as_array();
      for (auto& x : parts) prev.push_back(std::move(x));
      continue;
    }
    contents.push_back(json::object{{"role", role}, {"parts", std::move(parts)}});
  }
  o["contents"] = std::move(contents);

  if (!r.tools.empty()) {
    json::array decls;
    for (const auto& t : r.tools) {
      json::object d{{"name", t.name}};
      if (!t.description.empty()) d["description"] = t.description;
      if (t.parameters.is_object() && !t.parameters.as_object().empty())
        d["parameters"] = schema_for_gemini(t.parameters);
      decls.push_back(std::move(d));
    }
    o["tools"] = json::array{json::object{{"functionDeclarations", std::move(decls)}}};
  }
  if (r.tool_choice) {
    json::object fcc;
    switch (r.tool_choice->mode) {
      case ToolChoiceMode::kAuto:
        fcc["mode"] = "AUTO";
        break;
      case ToolChoiceMode::kNone:
        fcc["mode"] = "NONE";
        break;
      case ToolChoiceMode::kRequired:
        fcc["mode"] = "ANY";
        break;
      case ToolChoiceMode::kTool:
        fcc["mode"] = "ANY";
        fcc["allowedFunctionNames"] = json::array{json::value(r.tool_choice->name)};
        break;
    }
    o["toolConfig"] = json::object{{"functionCallingConfig", std::move(fcc)}};
  }

  json::object gc;
  if (r.max_tokens) gc["maxOutputTokens"] = *r.max_tokens;
  if (r.temperature) gc["temperature"] = *r.temperature;
  if (r.top_p) gc["topP"] = *r.top_p;
  if (r.top_k) gc["topK"] = *r.top_k;
  if (!r.stop.empty()) {
    json::array s;
    for (const auto& x : r.stop) s.emplace_back(x);
    gc["stopSequences"] = std::move(s);
  }
  if (r.reasoning) {
    int64_t budget = r.reasoning->budget_tokens > 0 ? r.reasoning->budget_tokens
                                                    : effort_to_budget(r.reasoning->effort);
    json::object tc{{"thinkingBudget", budget}};
    if (budget > 0) tc["includeThoughts"] = true;
    gc["thinkingConfig"] = std::move(tc);
  }
  if (!gc.empty()) o["generationConfig"] = std::move(gc);
  return dump(o);
}

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::array* cands = arr_or_null(o, "candidates");
  const json::object* feedback = obj_or_null(o, "promptFeedback");
  if (!cands && !feedback) {
    return make_error("bad_upstream_response", "not a Gemini GenerateContentResponse", "candidates",
                      502, ErrorSide::kUpstream);
  }
  Response r;
  r.id = str_or(o, "responseId");
  r.model = str_or(o, "modelVersion");
  bool tool_call = false;
  size_t calls = 0;
  std::string_view finish;
  if (cands && !cands->empty() && (*cands)[0].is_object()) {
    const json::object& c = (*cands)[0].as_object();
    finish = str_or(c, "finishReason");
    const json::object* content = obj_or_null(c, "content");
    const json::array* parts = content ? arr_or_null(*content, "parts") : nullptr;
    for (size_t i = 0; parts && i < parts->size(); ++i) {
      if (!(*parts)[i].is_object()) continue;
      const json::object& gp = (*parts)[i].as_object();
      Part p;
      if (const json::object* fc = obj_or_null(gp, "functionCall")) {
        p.kind = PartKind::kToolCall;
        p.name = str_or(*fc, "name");
        p.id = str_or(*fc, "id");
        if (p.id.empty()) p.id = minted_call_id(r.id, calls);
        ++calls;
        const json::value* args = find(*fc, "args");
        p.arguments = args ? dump(*args) : "{}";
        tool_call = true;
      } else if (const json::value* t = find(gp, "text"); t && t->is_string()) {
        const json::value* th = find(gp, "thought");
        p.kind = th && th->is_bool() && th->as_bool() ? PartKind::kThinking : PartKind::kText;
        p.text = str_or(gp, "text");
        if (p.kind == PartKind::kThinking) p.signature = str_or(gp, "thoughtSignature");
      } else {
        continue;  // inlineData output, executableCode, ...: not translatable
      }
      r.content.push_back(std::move(p));
    }
  }
  r.stop = stop_from_gemini(finish, tool_call);
  if (finish.empty() && feedback && !str_or(*feedback, "blockReason").empty())
    r.stop = StopReason::kContentFilter;
  if (const json::object* u = obj_or_null(o, "usageMetadata")) usage_from_gemini(*u, r.usage);
  return r;
}

namespace {

class Decoder final : public StreamDecoder {
 public:
  Result<void> decode(const sse::Event& e, std::vector<StreamEvent>& out) override {
    if (terminated_) return Ok{};
    boost::system::error_code ec;
    json::value v = parse_json(e.data, ec);
    if (ec || !v.is_object()) {
      return make_error("bad_upstream_event", "upstream Gemini chunk is not a JSON object", {}, 502,
                        ErrorSide::kUpstream);
    }
    const json::object& o = v.as_object();
    if (obj_or_null(o, "error")) {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      ev.error = parse_error_json(o, static_cast<int>(int_or(*obj_or_null(o, "error"), "code")));
      out.push_back(std::move(ev));
      terminated_ = true;
      return Ok{};
    }
    if (!started_) {
      started_ = true;
      id_ = str_or(o, "responseId");
      StreamEvent ev;
      ev.kind = EventKind::kStart;
      ev.id = id_;
      ev.model = str_or(o, "modelVersion");
      out.push_back(std::move(ev));
    }
    std::string_view finish;
    const json::array* cands = arr_or_null(o, "candidates");
    if (cands && !cands->empty() && (*cands)[0].is_object()) {
      const json::object& c = (*cands)[0].as_object();
      finish = str_or(c, "finishReason");
      const json::object* content = obj_or_null(c, "content");
      const json::array* parts = content ? arr_or_null(*content, "parts") : nullptr;
      for (size_t i = 0; parts && i < parts->size(); ++i)
        if ((*parts)[i].is_object()) part(e, (*parts)[i].as_object(), out);
    }
    if (const json::object* u = obj_or_null(o, "usageMetadata")) {
      usage_from_gemini(*u, usage_);  // cumulative on every chunk: set
      StreamEvent ev;
      ev.kind = EventKind::kUsage;
      ev.usage = usage_;
      out.push_back(std::move(ev));
    }
    const json::object* fb = obj_or_null(o, "promptFeedback");
    bool blocked = fb && !str_or(*fb, "blockReason").empty();
    // Gemini has no terminal event: the chunk carrying finishReason is the
    // last one (its usage is final), so the stream is complete there.
    if (!finish.empty() || blocked) {
      blocks_.close(out);
      StreamEvent stop;
      stop.kind = EventKind::kStop;
      stop.stop =
          finish.empty() ? StopReason::kContentFilter : stop_from_gemini(finish, tool_call_);
      out.push_back(std::move(stop));
      StreamEvent end;
      end.kind = EventKind::kEnd;
      out.push_back(std::move(end));
      terminated_ = true;
    }
    return Ok{};
  }

  bool terminated() const override { return terminated_; }

 private:
  void part(const sse::Event&, const json::object& gp, std::vector<StreamEvent>& out) {
    if (const json::object* fc = obj_or_null(gp, "functionCall")) {
      // Gemini sends each call whole: one block with one arguments delta.
      tool_call_ = true;
      std::string id(str_or(*fc, "id"));
      if (id.empty()) id = minted_call_id(id_, calls_);
      ++calls_;
      const json::value* args = find(*fc, "args");
      blocks_.whole_call(std::move(id), std::string(str_or(*fc, "name")),
                         args ? dump(*args) : "{}", out);
      return;
    }
    const json::value* t = find(gp, "text");
    if (!t || !t->is_string()) return;
    const json::value* th = find(gp, "thought");
    bool thought = th && th->is_bool() && th->as_bool();
    PartKind kind = thought ? PartKind::kThinking : PartKind::kText;
    // An empty text part still opens its block (a thought may carry only its signature).
    if (!blocks_.is_open() || blocks_.open_kind() != kind) blocks_.open(kind, out);
    blocks_.text(kind, str_or(gp, "text"), out);
    if (thought) blocks_.delta(DeltaKind::kSignature, str_or(gp, "thoughtSignature"), out);
  }

  bool started_ = false;
  bool terminated_ = false;
  bool tool_call_ = false;
  BlockCursor blocks_;
  size_t calls_ = 0;
  std::string id_;
  Usage usage_;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() {
  return std::make_unique<Decoder>();
}

}  // namespace gatehouse::ai::gemini
