// Ollama's native chat API (provider side only): IR -> POST /api/chat body,
// the answer object -> IR, and the NDJSON stream decoder (one JSON object per
// line, the last one with "done": true and the counts).
#include <cctype>

#include "ai/translate/block_cursor.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::ollama {

using namespace detail;

namespace {

std::string call_name(const Request& r, const std::string& id) {
  for (const auto& m : r.messages)
    for (const auto& p : m.parts)
      if (p.kind == PartKind::kToolCall && p.id == id) return p.name;
  return id;
}

std::string text_of(const std::vector<Part>& parts) {
  std::string t;
  for (const auto& p : parts)
    if (p.kind == PartKind::kText || p.kind == PartKind::kRefusal) t += p.text;
  return t;
}

StopReason stop_from_ollama(std::string_view reason, bool had_tool_call) {
  if (had_tool_call) return StopReason::kToolUse;
  if (reason == "length") return StopReason::kMaxTokens;
  return StopReason::kEndTurn;  // "stop", "load", "unload", absent
}

// prompt_eval_count and eval_count are whole-request counts (Ollama reports no
// cache split: a prompt served from its KV cache is simply counted lower).
void usage_from_ollama(const json::object& o, Usage& out) {
  if (!has_int(o, "prompt_eval_count") && !has_int(o, "eval_count")) return;
  out.input_uncached = int_or(o, "prompt_eval_count");
  out.output = int_or(o, "eval_count");
  out.known = true;
}

// Ollama answers carry no id: `created_at` (nanosecond timestamp) with its
// punctuation removed stands in, so ids are deterministic, differ between
// answers, and are safe inside other ids.
std::string answer_id(std::string_view created_at) {
  std::string id;
  for (char c : created_at)
    if (std::isalnum(static_cast<unsigned char>(c))) id.push_back(c);
  return id.empty() ? std::string("ollama") : id;
}

// Unique across the turns of a conversation, since a tool result finds its
// function by the call id.
std::string minted_call_id(std::string_view answer, size_t n) {
  return "call_ollama_" + std::string(answer) + "_" + std::to_string(n);
}

Part tool_call_part(const json::object& tc, std::string_view answer, size_t n) {
  Part p;
  p.kind = PartKind::kToolCall;
  const json::object* fn = obj_or_null(tc, "function");
  p.id = str_or(tc, "id");
  if (p.id.empty()) p.id = minted_call_id(answer, n);
  if (fn) {
    p.name = str_or(*fn, "name");
    const json::value* args = find(*fn, "arguments");
    // Ollama sends an object; a string (OpenAI style) passes as is.
    if (args && args->is_string())
      p.arguments = std::string(args->as_string());
    else
      p.arguments = args ? dump(*args) : "{}";
  }
  return p;
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions&) {
  json::object o;
  o["model"] = r.model;
  json::array msgs;
  for (const auto& m : r.messages) {
    // Tool results are one message each, named by their function, ahead of
    // whatever else the turn says (Anthropic puts both in one user turn).
    bool other = false;
    for (const auto& p : m.parts) {
      if (p.kind != PartKind::kToolResult) {
        other = true;
        continue;
      }
      std::string text = text_of(p.content);
      if (p.is_error) text = "[tool error] " + text;
      msgs.push_back(
          json::object{{"role", "tool"}, {"content", text}, {"tool_name", call_name(r, p.id)}});
    }
    if (!other || m.role == Role::kTool) continue;
    const char* role = m.role == Role::kAssistant ? "assistant"
                       : m.role == Role::kUser    ? "user"
                                                  : "system";
    json::object jm{{"role", role}, {"content", text_of(m.parts)}};
    json::array images;
    json::array calls;
    for (const auto& p : m.parts) {
      // Ollama takes inline base64 images only; URL images are not fetched.
      if (p.kind == PartKind::kImage && p.image.url.empty()) images.emplace_back(p.image.data);
      if (p.kind == PartKind::kToolCall) {
        json::value args = json::object{};
        boost::system::error_code ec;
        json::value v = parse_json(p.arguments.empty() ? "{}" : p.arguments, ec);
        if (!ec && v.is_object()) args = std::move(v);
        calls.push_back(json::object{
            {"function", json::object{{"name", p.name}, {"arguments", std::move(args)}}}});
      }
    }
    if (!images.empty()) jm["images"] = std::move(images);
    if (!calls.empty()) jm["tool_calls"] = std::move(calls);
    msgs.push_back(std::move(jm));
  }
  o["messages"] = std::move(msgs);
  if (!r.tools.empty()) {
    json::array tools;
    for (const auto& t : r.tools) {
      json::object fn{{"name", t.name}};
      if (!t.description.empty()) fn["description"] = t.description;
      fn["parameters"] =
          t.parameters.is_object() ? t.parameters : json::value(json::object{{"type", "object"}});
      tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
    }
    o["tools"] = std::move(tools);
  }
  // Ollama streams unless told not to.
  o["stream"] = r.stream;
  if (r.reasoning) o["think"] = r.reasoning->effort != "none";
  json::object opts;
  if (r.max_tokens) opts["num_predict"] = *r.max_tokens;
  if (r.temperature) opts["temperature"] = *r.temperature;
  if (r.top_p) opts["top_p"] = *r.top_p;
  if (r.top_k) opts["top_k"] = *r.top_k;
  if (!r.stop.empty()) {
    json::array s;
    for (const auto& x : r.stop) s.emplace_back(x);
    opts["stop"] = std::move(s);
  }
  if (!opts.empty()) o["options"] = std::move(opts);
  return dump(o);
}

Result<Response> parse_response(std::string_view body) {
  auto doc = parse_object(body, "upstream response");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  const json::object* msg = obj_or_null(o, "message");
  if (!msg) {
    return make_error("bad_upstream_response", "not an Ollama chat response", "message", 502,
                      ErrorSide::kUpstream);
  }
  Response r;
  r.model = str_or(o, "model");
  r.id = answer_id(str_or(o, "created_at"));
  if (std::string_view th = str_or(*msg, "thinking"); !th.empty()) {
    Part p;
    p.kind = PartKind::kThinking;
    p.text = th;
    r.content.push_back(std::move(p));
  }
  if (std::string_view t = str_or(*msg, "content"); !t.empty()) {
    Part p;
    p.text = t;
    r.content.push_back(std::move(p));
  }
  size_t calls = 0;
  if (const json::array* tcs = arr_or_null(*msg, "tool_calls"))
    for (const auto& tc : *tcs)
      if (tc.is_object()) r.content.push_back(tool_call_part(tc.as_object(), r.id, calls++));
  r.stop = stop_from_ollama(str_or(o, "done_reason"), calls > 0);
  usage_from_ollama(o, r.usage);
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
      return make_error("bad_upstream_event", "upstream Ollama line is not a JSON object", {}, 502,
                        ErrorSide::kUpstream);
    }
    const json::object& o = v.as_object();
    if (const json::value* err = find(o, "error")) {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      ev.error.type = "api_error";
      ev.error.status = 502;
      ev.error.message = err->is_string() ? std::string(err->as_string()) : dump(*err);
      out.push_back(std::move(ev));
      terminated_ = true;
      return Ok{};
    }
    if (!started_) {
      started_ = true;
      StreamEvent ev;
      ev.kind = EventKind::kStart;
      id_ = answer_id(str_or(o, "created_at"));
      ev.id = id_;
      ev.model = str_or(o, "model");
      out.push_back(std::move(ev));
    }
    if (const json::object* msg = obj_or_null(o, "message")) {
      blocks_.text(PartKind::kThinking, str_or(*msg, "thinking"), out);
      blocks_.text(PartKind::kText, str_or(*msg, "content"), out);
      if (const json::array* tcs = arr_or_null(*msg, "tool_calls")) {
        for (const auto& tc : *tcs) {
          if (!tc.is_object()) continue;
          // Calls come whole: one block, one arguments delta.
          Part p = tool_call_part(tc.as_object(), id_, calls_++);
          blocks_.whole_call(std::move(p.id), std::move(p.name), p.arguments, out);
        }
      }
    }
    const json::value* done = find(o, "done");
    if (done && done->is_bool() && done->as_bool()) {
      blocks_.close(out);
      Usage u;
      usage_from_ollama(o, u);
      if (u.known) {
        StreamEvent ev;
        ev.kind = EventKind::kUsage;
        ev.usage = u;
        out.push_back(std::move(ev));
      }
      StreamEvent stop;
      stop.kind = EventKind::kStop;
      stop.stop = stop_from_ollama(str_or(o, "done_reason"), calls_ > 0);
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
  bool started_ = false;
  bool terminated_ = false;
  BlockCursor blocks_;
  size_t calls_ = 0;
  std::string id_;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() {
  return std::make_unique<Decoder>();
}

}  // namespace gatehouse::ai::ollama
