#include "ai/tokenizer/prompt_estimate.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "ai/tokenizer/model_encoding.hpp"
#include "common/json.hpp"

namespace gatehouse::ai {
namespace {

namespace json = boost::json;

Error bad_request(std::string message, std::string field) {
  return make_error("invalid_request_body", std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

Result<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec) return bad_request("request body is not JSON: " + ec.message(), "");
  if (!v.is_object()) return bad_request("request body is not a JSON object", "");
  return std::move(v.get_object());
}

const json::array* messages_of(const json::object& request, Error& err) {
  const json::value* m = request.if_contains("messages");
  if (!m || !m->is_array()) {
    err = bad_request("\"messages\" must be an array", "messages");
    return nullptr;
  }
  return &m->get_array();
}

std::string_view str_or_empty(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

// The tokens of a JSON value's serialization: how tool schemas and arguments
// objects reach the model is not documented, their text is the best proxy.
uint64_t count_json(const Tokenizer& t, const json::value& v) {
  if (v.is_string()) return t.count(v.get_string());
  return t.count(json::serialize(v));
}

struct OpenAiCounter {
  const Tokenizer& t;
  PromptEstimate est;

  void content_parts(const json::array& parts) {
    for (const auto& p : parts) {
      if (!p.is_object()) continue;
      const auto& part = p.get_object();
      std::string_view type = str_or_empty(part, "type");
      if (type == "text" || type == "refusal") {
        est.tokens += t.count(str_or_empty(part, type == "text" ? "text" : "refusal"));
        continue;
      }
      est.exact = false;
      if (type == "image_url") {
        const json::value* img = part.if_contains("image_url");
        bool low = img && img->is_object() && str_or_empty(img->get_object(), "detail") == "low";
        est.tokens += low ? kOpenAiImageLowDetail : kOpenAiImageDefault;
      }
      // Audio and files: their size is not knowable from the request; 0.
    }
  }

  void call(const json::object& fn) {
    est.exact = false;
    est.tokens += t.count(str_or_empty(fn, "name"));
    if (const json::value* a = fn.if_contains("arguments")) est.tokens += count_json(t, *a);
  }

  void message(const json::object& m) {
    est.tokens += kOpenAiTokensPerMessage;
    for (const auto& kv : m) {
      const json::value& v = kv.value();
      if (v.is_string()) {
        est.tokens += t.count(v.get_string());
        if (kv.key() == "name") est.tokens += kOpenAiTokensPerName;
      } else if (kv.key() == "content" && v.is_array()) {
        content_parts(v.get_array());
      } else if (kv.key() == "tool_calls" && v.is_array()) {
        for (const auto& c : v.get_array()) {
          const json::value* fn = c.is_object() ? c.get_object().if_contains("function") : nullptr;
          if (fn && fn->is_object()) call(fn->get_object());
        }
      } else if (kv.key() == "function_call" && v.is_object()) {
        call(v.get_object());
      }
    }
  }
};

}  // namespace

Result<PromptEstimate> estimate_openai_chat(const Tokenizers& tk,
                                            const json::object& request) {
  Error err;
  const json::array* messages = messages_of(request, err);
  if (!messages) return err;
  ModelEncoding me = encoding_for_model(str_or_empty(request, "model"));
  OpenAiCounter c{tk.get(me.encoding), {}};
  c.est.encoding = me.encoding;
  c.est.exact = me.known;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json::value& m = (*messages)[i];
    if (!m.is_object()) {
      return bad_request("each message must be an object", "messages[" + std::to_string(i) + "]");
    }
    c.message(m.get_object());
  }
  for (std::string_view key : {"tools", "functions"}) {
    const json::value* defs = request.if_contains(key);
    if (!defs || !defs->is_array() || defs->get_array().empty()) continue;
    c.est.exact = false;
    for (const auto& d : defs->get_array()) c.est.tokens += count_json(c.t, d);
  }
  c.est.tokens += kOpenAiReplyPriming;
  return c.est;
}

Result<PromptEstimate> estimate_openai_chat(const Tokenizers& tk, std::string_view body) {
  auto obj = parse_object(body);
  if (!obj) return obj.error();
  return estimate_openai_chat(tk, *obj);
}

namespace {

// One Anthropic content value: a string or an array of blocks.
uint64_t anthropic_content(const Tokenizer& t, const json::value& content) {
  if (content.is_string()) return t.count(content.get_string());
  if (!content.is_array()) return 0;
  uint64_t n = 0;
  for (const auto& b : content.get_array()) {
    if (!b.is_object()) continue;
    const auto& block = b.get_object();
    std::string_view type = str_or_empty(block, "type");
    if (type == "text") {
      n += t.count(str_or_empty(block, "text"));
    } else if (type == "thinking") {
      n += t.count(str_or_empty(block, "thinking"));
    } else if (type == "image") {
      n += kAnthropicImageTokens;
    } else if (type == "tool_use" || type == "server_tool_use") {
      n += t.count(str_or_empty(block, "name"));
      if (const json::value* in = block.if_contains("input")) n += count_json(t, *in);
    } else if (type == "tool_result") {
      if (const json::value* c = block.if_contains("content")) n += anthropic_content(t, *c);
    } else if (type != "redacted_thinking") {
      n += count_json(t, b);  // documents and future block types: their JSON
    }
  }
  return n;
}

}  // namespace

Result<PromptEstimate> estimate_anthropic_messages(const Tokenizers& tk,
                                                   const json::object& request) {
  Error err;
  const json::array* messages = messages_of(request, err);
  if (!messages) return err;
  const Tokenizer& t = tk.get(Encoding::kO200kBase);
  PromptEstimate est;
  est.exact = false;
  if (const json::value* sys = request.if_contains("system")) {
    est.tokens += kOpenAiTokensPerMessage + anthropic_content(t, *sys);
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const json::value& m = (*messages)[i];
    if (!m.is_object()) {
      return bad_request("each message must be an object", "messages[" + std::to_string(i) + "]");
    }
    const auto& msg = m.get_object();
    est.tokens += kOpenAiTokensPerMessage + t.count(str_or_empty(msg, "role"));
    if (const json::value* c = msg.if_contains("content")) est.tokens += anthropic_content(t, *c);
  }
  if (const json::value* tools = request.if_contains("tools"); tools && tools->is_array()) {
    for (const auto& d : tools->get_array()) est.tokens += count_json(t, d);
  }
  est.tokens += kOpenAiReplyPriming;
  return est;
}

Result<PromptEstimate> estimate_anthropic_messages(const Tokenizers& tk, std::string_view body) {
  auto obj = parse_object(body);
  if (!obj) return obj.error();
  return estimate_anthropic_messages(tk, *obj);
}

}  // namespace gatehouse::ai
