// AWS Bedrock Converse (provider side only): IR -> Converse request body,
// Converse response -> IR, and the ConverseStream decoder. The stream's
// binary event-stream framing is undone by StreamTranslator
// (ai/eventstream); each message reaches decode() as an sse::Event whose
// `event` is the `:event-type` header (messageStart, contentBlockDelta, ...)
// or, for an exception message, the `:exception-type` (throttlingException,
// ...), and whose `data` is the JSON payload.
#include "ai/translate/block_cursor.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::bedrock {

using namespace detail;

namespace {

// Bedrock returns no response id in the body (only x-amzn-RequestId, which
// the translator does not see); every answer is "bedrock", as Ollama's
// fallback. Tool call ids are Bedrock's own toolUseIds.
constexpr std::string_view kAnswerId = "bedrock";

// Converse image formats are names, not media types.
std::string_view image_format(std::string_view media_type) {
  if (media_type == "image/png") return "png";
  if (media_type == "image/gif") return "gif";
  if (media_type == "image/webp") return "webp";
  return "jpeg";
}

std::string_view format_from_name(std::string_view name) {
  std::string_view ext = name.substr(name.rfind('.') + 1);
  if (ext == "png" || ext == "gif" || ext == "webp") return ext;
  return "jpeg";
}

json::object image_block(const Image& img) {
  if (img.url.empty())
    return json::object{{"image", json::object{{"format", image_format(img.media_type)},
                                               {"source", json::object{{"bytes", img.data}}}}}};
  if (img.url.rfind("s3://", 0) == 0)
    return json::object{
        {"image", json::object{{"format", format_from_name(img.url)},
                               {"source", json::object{{"s3Location",
                                                        json::object{{"uri", img.url}}}}}}}};
  // Converse takes image bytes or S3 objects only; an http(s) image is not
  // fetched by the gateway, so the model is told where it was instead of
  // silently losing it.
  return json::object{{"text", "[image: " + img.url + "]"}};
}

json::value tool_input(const std::string& arguments) {
  boost::system::error_code ec;
  json::value v = parse_json(arguments.empty() ? "{}" : arguments, ec);
  if (ec || !v.is_object()) return json::object{};
  return v;
}

void cache_point(const Part& p, json::array& out) {
  // Anthropic cache_control breakpoints become Converse cache points.
  if (!p.cache_control.is_null()) out.push_back(json::object{{"cachePoint", json::object{{"type", "default"}}}});
}

void append_part(const Part& p, json::array& out) {
  switch (p.kind) {
    case PartKind::kText:
    case PartKind::kRefusal:
      if (!p.text.empty()) out.push_back(json::object{{"text", p.text}});
      break;
    case PartKind::kImage: out.push_back(image_block(p.image)); break;
    case PartKind::kToolCall:
      out.push_back(json::object{{"toolUse", json::object{{"toolUseId", p.id},
                                                          {"name", p.name},
                                                          {"input", tool_input(p.arguments)}}}});
      break;
    case PartKind::kToolResult: {
      json::array content;
      for (const auto& c : p.content) {
        if (c.kind == PartKind::kText) content.push_back(json::object{{"text", c.text}});
        else if (c.kind == PartKind::kImage) content.push_back(image_block(c.image));
      }
      if (content.empty()) content.push_back(json::object{{"text", ""}});
      json::object tr{{"toolUseId", p.id}, {"content", std::move(content)}};
      if (p.is_error) tr["status"] = "error";
      out.push_back(json::object{{"toolResult", std::move(tr)}});
      break;
    }
    case PartKind::kThinking: {
      // Only reasoning a Bedrock (Anthropic) model signed goes back; OpenAI
      // reasoning wrapped as "ghrs:" and unsigned thinking are not its own.
      std::string item;
      std::string enc;
      if (p.signature.empty() || unwrap_openai_reasoning(p.signature, item, enc)) break;
      out.push_back(json::object{
          {"reasoningContent",
           json::object{{"reasoningText",
                         json::object{{"text", p.text}, {"signature", p.signature}}}}}});
      break;
    }
    case PartKind::kRedactedThinking:
      out.push_back(json::object{
          {"reasoningContent", json::object{{"redactedContent", p.text}}}});
      break;
  }
  cache_point(p, out);
}

StopReason stop_from_bedrock(std::string_view s) {
  if (s == "end_turn") return StopReason::kEndTurn;
  if (s == "tool_use") return StopReason::kToolUse;
  if (s == "max_tokens" || s == "model_context_window_exceeded") return StopReason::kMaxTokens;
  if (s == "stop_sequence") return StopReason::kStopSequence;
  if (s == "guardrail_intervened" || s == "content_filtered") return StopReason::kContentFilter;
  return s.empty() ? StopReason::kUnknown : StopReason::kEndTurn;
}

// Converse counts like Anthropic: inputTokens excludes the cache reads and writes.
void usage_from_bedrock(const json::object& u, Usage& out) {
  out.input_uncached = int_or(u, "inputTokens");
  out.cache_read = int_or(u, "cacheReadInputTokens");
  out.cache_write = int_or(u, "cacheWriteInputTokens");
  out.output = int_or(u, "outputTokens");
  out.known = true;
}

Part part_from_block(const json::object& b) {
  Part p;
  if (const json::object* tu = obj_or_null(b, "toolUse")) {
    p.kind = PartKind::kToolCall;
    p.id = str_or(*tu, "toolUseId");
    p.name = str_or(*tu, "name");
    const json::value* in = find(*tu, "input");
    p.arguments = in ? dump(*in) : "{}";
  } else if (const json::object* rc = obj_or_null(b, "reasoningContent")) {
    if (const json::object* rt = obj_or_null(*rc, "reasoningText")) {
      p.kind = PartKind::kThinking;
      p.text = str_or(*rt, "text");
      p.signature = str_or(*rt, "signature");
    } else {
      p.kind = PartKind::kRedactedThinking;
      p.text = str_or(*rc, "redactedContent");
    }
  } else {
    p.text = str_or(b, "text");
  }
  return p;
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions&) {
  json::object o;
  json::array system;
  for (const auto& m : r.messages) {
    if (m.role != Role::kSystem && m.role != Role::kDeveloper) continue;
    for (const auto& p : m.parts) {
      if (p.kind != PartKind::kText) continue;
      system.push_back(json::object{{"text", p.text}});
      cache_point(p, system);
    }
  }
  if (!system.empty()) o["system"] = std::move(system);

  json::array messages;
  for (const auto& m : r.messages) {
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    const char* role = m.role == Role::kAssistant ? "assistant" : "user";
    json::array content;
    for (const auto& p : m.parts) append_part(p, content);
    if (content.empty()) continue;
    // Converse wants user and assistant turns to alternate: same-role turns
    // (OpenAI's one tool message per result) merge.
    if (!messages.empty() && messages.back().as_object()["role"].as_string() == role) {
      json::array& prev = messages.back().as_object()["content"].as_array();
      for (auto& x : content) prev.push_back(std::move(x));
      continue;
    }
    messages.push_back(json::object{{"role", role}, {"content", std::move(content)}});
  }
  o["messages"] = std::move(messages);

  // Converse has no "none" tool choice: tools are left out instead.
  bool no_tools = r.tool_choice && r.tool_choice->mode == ToolChoiceMode::kNone;
  if (!r.tools.empty() && !no_tools) {
    json::array tools;
    for (const auto& t : r.tools) {
      json::object spec{{"name", t.name}};
      if (!t.description.empty()) spec["description"] = t.description;
      spec["inputSchema"] = json::object{
          {"json", t.parameters.is_object() ? t.parameters : json::value(json::object{
                                                                 {"type", "object"}})}};
      tools.push_back(json::object{{"toolSpec", std::move(spec)}});
      if (!t.cache_control.is_null())
        tools.push_back(json::object{{"cachePoint", json::object{{"type", "default"}}}});
    }
    json::object tc{{"tools", std::move(tools)}};
    if (r.tool_choice) {
      switch (r.tool_choice->mode) {
        case ToolChoiceMode::kAuto: tc["toolChoice"] = json::object{{"auto", json::object{}}}; break;
        case ToolChoiceMode::kRequired: tc["toolChoice"] = json::object{{"any", json::object{}}}; break;
        case ToolChoiceMode::kTool:
          tc["toolChoice"] = json::object{{"tool", json::object{{"name", r.tool_choice->name}}}};
          break;
        case ToolChoiceMode::kNone: break;
      }
    }
    o["toolConfig"] = std::move(tc);
  }

  json::object ic;
  if (r.max_tokens) ic["maxTokens"] = *r.max_tokens;
  if (r.temperature) ic["temperature"] = *r.temperature;
  if (r.top_p) ic["topP"] = *r.top_p;
  if (!r.stop.empty()) {
    json::array s;
    for (const auto& x : r.stop) s.emplace_back(x);
    ic["stopSequences"] = std::move(s);
  }
  if (!ic.empty()) o["inferenceConfig"] = std::move(ic);
  // Model-specific fields go through additionalModelRequestFields, in the
  // shape Anthropic's models on Bedrock read.
  json::object extra;
  if (r.top_k) extra["top_k"] = *r.top_k;
  if (r.reasoning) {
    int64_t budget = r.reasoning->budget_tokens > 0 ? r.reasoning->budget_tokens
                                                    : effort_to_budget(r.reasoning->effort);
    if (budget > 0)
      extra["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", budget}};
  }
  if (!extra.empty()) o["additionalModelRequestFields"] = std::move(extra);
  return dump(o);
}

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::object* output = obj_or_null(o, "output");
  const json::object* msg = output ? obj_or_null(*output, "message") : nullptr;
  if (!msg) {
    return make_error("bad_upstream_response", "not a Bedrock Converse response",
                      "output.message", 502, ErrorSide::kUpstream);
  }
  Response r;
  r.id = kAnswerId;
  if (const json::array* content = arr_or_null(*msg, "content"))
    for (const auto& b : *content)
      if (b.is_object()) r.content.push_back(part_from_block(b.as_object()));
  r.stop = stop_from_bedrock(str_or(o, "stopReason"));
  if (const json::object* u = obj_or_null(o, "usage")) usage_from_bedrock(*u, r.usage);
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
      return make_error("bad_upstream_event", "upstream Bedrock event is not a JSON object", {},
                        502, ErrorSide::kUpstream);
    }
    const json::object& o = v.as_object();
    const std::string& type = e.event;
    if (type.size() > 9 && type.compare(type.size() - 9, 9, "Exception") == 0) {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      ev.error = exception_error(type, str_or(o, "message"));
      out.push_back(std::move(ev));
      terminated_ = true;
      return Ok{};
    }
    start(out);
    if (type == "contentBlockStart") {
      const json::object* st = obj_or_null(o, "start");
      const json::object* tu = st ? obj_or_null(*st, "toolUse") : nullptr;
      if (tu) {
        StreamEvent& ev = blocks_.open(PartKind::kToolCall, out);
        ev.id = str_or(*tu, "toolUseId");
        ev.name = str_or(*tu, "name");
        src_index_ = int_or(o, "contentBlockIndex");
      }
    } else if (type == "contentBlockDelta") {
      delta(o, out);
    } else if (type == "contentBlockStop") {
      blocks_.close(out);
    } else if (type == "messageStop") {
      blocks_.close(out);
      StreamEvent stop;
      stop.kind = EventKind::kStop;
      stop.stop = stop_from_bedrock(str_or(o, "stopReason"));
      out.push_back(std::move(stop));
    } else if (type == "metadata") {
      // The last event: usage (and latency) after messageStop.
      blocks_.close(out);
      if (const json::object* u = obj_or_null(o, "usage")) {
        StreamEvent ev;
        ev.kind = EventKind::kUsage;
        usage_from_bedrock(*u, ev.usage);
        out.push_back(std::move(ev));
      }
      StreamEvent end;
      end.kind = EventKind::kEnd;
      out.push_back(std::move(end));
      terminated_ = true;
    }
    return Ok{};  // messageStart and unknown event types carry nothing we act on
  }

  bool terminated() const override { return terminated_; }

 private:
  static ErrorInfo exception_error(std::string_view type, std::string_view message) {
    ErrorInfo e;
    e.code = type;
    e.message = message.empty() ? std::string(type) : std::string(message);
    if (type == "throttlingException") {
      e.type = "rate_limit";
      e.status = 429;
    } else if (type == "serviceUnavailableException" || type == "modelNotReadyException") {
      e.type = "overloaded";
      e.status = 503;
    } else if (type == "validationException") {
      e.type = "invalid_request";
      e.status = 400;
    } else {
      e.type = "api_error";
      e.status = 502;
    }
    return e;
  }

  void start(std::vector<StreamEvent>& out) {
    if (started_) return;
    started_ = true;
    StreamEvent ev;
    ev.kind = EventKind::kStart;
    ev.id = kAnswerId;
    out.push_back(std::move(ev));
  }

  // Text and reasoning blocks have no contentBlockStart: a delta for another
  // Bedrock block index, or of another kind, opens the IR block.
  void delta(const json::object& o, std::vector<StreamEvent>& out) {
    const json::object* d = obj_or_null(o, "delta");
    if (!d) return;
    int64_t idx = int_or(o, "contentBlockIndex");
    auto open_as = [&](PartKind kind) {
      if (!blocks_.is_open() || blocks_.open_kind() != kind || src_index_ != idx) {
        blocks_.open(kind, out);
        src_index_ = idx;
      }
    };
    if (const json::value* t = find(*d, "text"); t && t->is_string()) {
      open_as(PartKind::kText);
      blocks_.delta(DeltaKind::kText, str_or(*d, "text"), out);
    } else if (const json::object* tu = obj_or_null(*d, "toolUse")) {
      if (!blocks_.is_open() || src_index_ != idx) return;  // no contentBlockStart: unreadable
      blocks_.delta(DeltaKind::kArguments, str_or(*tu, "input"), out);
    } else if (const json::object* rc = obj_or_null(*d, "reasoningContent")) {
      if (const json::value* rd = find(*rc, "redactedContent"); rd && rd->is_string()) {
        StreamEvent& ev = blocks_.open(PartKind::kRedactedThinking, out);
        ev.text = str_or(*rc, "redactedContent");
        src_index_ = idx;
        return;
      }
      open_as(PartKind::kThinking);
      blocks_.delta(DeltaKind::kThinking, str_or(*rc, "text"), out);
      blocks_.delta(DeltaKind::kSignature, str_or(*rc, "signature"), out);
    }
  }

  bool started_ = false;
  bool terminated_ = false;
  BlockCursor blocks_;
  int64_t src_index_ = -1;  // the Bedrock contentBlockIndex of the open block
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() { return std::make_unique<Decoder>(); }

}  // namespace gatehouse::ai::bedrock
