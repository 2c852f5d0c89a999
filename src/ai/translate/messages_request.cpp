// Anthropic Messages requests <-> IR.
#include <algorithm>
#include <set>

#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::messages {

using namespace detail;

namespace {

const std::set<std::string, std::less<>> kKnown = {
    "model", "messages", "system", "max_tokens", "temperature", "top_p", "top_k",
    "stop_sequences", "stream", "tools", "tool_choice", "metadata", "thinking"};

void keep_cache_control(const json::object& o, Part& p) {
  if (const json::value* cc = find(o, "cache_control")) p.cache_control = *cc;
}

Result<void> parse_image(const json::object& b, const std::string& path, Part& out) {
  const json::value* src = find(b, "source");
  std::string sp = path_key(path, "source");
  if (!src) return field_error(sp, "`" + sp + "` is required", "missing_field");
  auto so = get_object(*src, sp);
  if (!so) return so.error();
  auto type = req_string(**so, "type", sp);
  if (!type) return type.error();
  out.kind = PartKind::kImage;
  if (*type == "base64") {
    auto mt = req_string(**so, "media_type", sp);
    if (!mt) return mt.error();
    auto data = req_string(**so, "data", sp);
    if (!data) return data.error();
    out.image.media_type.assign(*mt);
    out.image.data.assign(*data);
  } else if (*type == "url") {
    auto url = req_string(**so, "url", sp);
    if (!url) return url.error();
    out.image.url.assign(*url);
  } else {
    return field_error(path_key(sp, "type"),
                       "image source type `" + std::string(*type) + "` is not supported",
                       "unsupported_content");
  }
  return Ok{};
}

Result<void> parse_blocks(const json::value& v, const std::string& path, bool in_tool_result,
                          std::vector<Part>& out);

Result<Part> parse_block(const json::object& b, const std::string& path, bool in_tool_result) {
  auto type = req_string(b, "type", path);
  if (!type) return type.error();
  Part p;
  keep_cache_control(b, p);
  if (*type == "text") {
    auto t = req_string(b, "text", path);
    if (!t) return t.error();
    p.text.assign(*t);
  } else if (*type == "image") {
    GH_AI_TRY(parse_image(b, path, p));
  } else if (!in_tool_result && *type == "tool_use") {
    p.kind = PartKind::kToolCall;
    auto id = req_string(b, "id", path);
    if (!id) return id.error();
    auto name = req_string(b, "name", path);
    if (!name) return name.error();
    p.id.assign(*id);
    p.name.assign(*name);
    const json::value* input = find(b, "input");
    if (input && !input->is_object()) return type_error(path_key(path, "input"), "an object");
    p.arguments = input ? dump(*input) : "{}";
  } else if (!in_tool_result && *type == "tool_result") {
    p.kind = PartKind::kToolResult;
    auto id = req_string(b, "tool_use_id", path);
    if (!id) return id.error();
    p.id.assign(*id);
    std::optional<bool> err;
    GH_AI_TRY(opt_bool(b, "is_error", path, err));
    p.is_error = err.value_or(false);
    if (const json::value* c = find(b, "content"))
      GH_AI_TRY(parse_blocks(*c, path_key(path, "content"), true, p.content));
  } else if (!in_tool_result && *type == "thinking") {
    p.kind = PartKind::kThinking;
    auto t = req_string(b, "thinking", path);
    if (!t) return t.error();
    p.text.assign(*t);
    GH_AI_TRY(opt_string(b, "signature", path, p.signature));
    std::string item, enc;
    if (unwrap_openai_reasoning(p.signature, item, enc)) {
      p.item_id = item;
      p.signature = enc;
    }
  } else if (!in_tool_result && *type == "redacted_thinking") {
    p.kind = PartKind::kRedactedThinking;
    auto d = req_string(b, "data", path);
    if (!d) return d.error();
    p.text.assign(*d);
  } else {
    return field_error(path_key(path, "type"),
                       "content block type `" + std::string(*type) + "` is not supported",
                       "unsupported_content");
  }
  return p;
}

Result<void> parse_blocks(const json::value& v, const std::string& path, bool in_tool_result,
                          std::vector<Part>& out) {
  return parse_content_list(v, path, "a string or an array of content blocks", out,
                            [in_tool_result](const json::object& o, const std::string& bp) {
                              return parse_block(o, bp, in_tool_result);
                            });
}

Result<void> parse_tools(const json::value& v, Request& r) {
  auto arr = get_array(v, "tools");
  if (!arr) return arr.error();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    std::string pp = path_index("tools", i);
    auto o = get_object((**arr)[i], pp);
    if (!o) return o.error();
    std::string type;
    GH_AI_TRY(opt_string(**o, "type", pp, type));
    if (!type.empty() && type != "custom") {
      // Server tools (web_search_..., bash_..., text_editor_...) run at Anthropic only.
      return field_error(path_key(pp, "type"), "tool type `" + type + "` is not supported",
                         "unsupported_tool");
    }
    Tool t;
    auto name = req_string(**o, "name", pp);
    if (!name) return name.error();
    t.name.assign(*name);
    GH_AI_TRY(opt_string(**o, "description", pp, t.description));
    const json::value* schema = find(**o, "input_schema");
    std::string sp = path_key(pp, "input_schema");
    if (!schema) return field_error(sp, "`" + sp + "` is required", "missing_field");
    if (!schema->is_object()) return type_error(sp, "an object");
    t.parameters = *schema;
    if (const json::value* cc = find(**o, "cache_control")) t.cache_control = *cc;
    r.tools.push_back(std::move(t));
  }
  return Ok{};
}

Result<void> parse_tool_choice(const json::value& v, Request& r) {
  auto o = get_object(v, "tool_choice");
  if (!o) return o.error();
  auto type = req_string(**o, "type", "tool_choice");
  if (!type) return type.error();
  ToolChoice tc;
  if (*type == "auto") tc.mode = ToolChoiceMode::kAuto;
  else if (*type == "any") tc.mode = ToolChoiceMode::kRequired;
  else if (*type == "none") tc.mode = ToolChoiceMode::kNone;
  else if (*type == "tool") {
    tc.mode = ToolChoiceMode::kTool;
    auto name = req_string(**o, "name", "tool_choice");
    if (!name) return name.error();
    tc.name.assign(*name);
  } else {
    return field_error("tool_choice.type", "`tool_choice.type` must be auto, any, tool or none");
  }
  std::optional<bool> disable;
  GH_AI_TRY(opt_bool(**o, "disable_parallel_tool_use", "tool_choice", disable));
  if (disable) r.parallel_tool_calls = !*disable;
  r.tool_choice = tc;
  return Ok{};
}

}  // namespace

Result<Request> parse_request(std::string_view body) {
  auto doc = parse_object(body, "request body");
  if (!doc) return doc.error();
  const json::object& o = *doc;
  Request r;
  auto model = req_string(o, "model", "");
  if (!model) return model.error();
  r.model.assign(*model);
  if (const json::value* sys = find(o, "system")) {
    Message m;
    m.role = Role::kSystem;
    GH_AI_TRY(parse_blocks(*sys, "system", true, m.parts));
    for (size_t i = 0; i < m.parts.size(); ++i) {
      if (m.parts[i].kind != PartKind::kText) {
        return field_error(path_index("system", i) + ".type", "system blocks must be text",
                           "unsupported_content");
      }
    }
    r.messages.push_back(std::move(m));
  }
  const json::value* msgs = find(o, "messages");
  if (!msgs) return field_error("messages", "`messages` is required", "missing_field");
  auto arr = get_array(*msgs, "messages");
  if (!arr) return arr.error();
  if ((*arr)->empty()) return field_error("messages", "`messages` must not be empty");
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    std::string mp = path_index("messages", i);
    auto mo = get_object((**arr)[i], mp);
    if (!mo) return mo.error();
    auto role = req_string(**mo, "role", mp);
    if (!role) return role.error();
    Message m;
    if (*role == "user") m.role = Role::kUser;
    else if (*role == "assistant") m.role = Role::kAssistant;
    else return field_error(path_key(mp, "role"), "role must be user or assistant", "unsupported_role");
    const json::value* c = find(**mo, "content");
    std::string cp = path_key(mp, "content");
    if (!c) return field_error(cp, "`" + cp + "` is required", "missing_field");
    GH_AI_TRY(parse_blocks(*c, cp, false, m.parts));
    r.messages.push_back(std::move(m));
  }
  GH_AI_TRY(opt_int(o, "max_tokens", "", r.max_tokens));
  GH_AI_TRY(opt_number(o, "temperature", "", r.temperature));
  GH_AI_TRY(opt_number(o, "top_p", "", r.top_p));
  GH_AI_TRY(opt_int(o, "top_k", "", r.top_k));
  if (const json::value* ss = find(o, "stop_sequences")) {
    auto sa = get_array(*ss, "stop_sequences");
    if (!sa) return sa.error();
    for (size_t i = 0; i < (*sa)->size(); ++i) {
      auto s = get_string((**sa)[i], path_index("stop_sequences", i));
      if (!s) return s.error();
      r.stop.emplace_back(*s);
    }
  }
  std::optional<bool> stream;
  GH_AI_TRY(opt_bool(o, "stream", "", stream));
  r.stream = stream.value_or(false);
  r.include_usage = true;  // Anthropic streams always carry usage
  if (const json::value* t = find(o, "tools")) GH_AI_TRY(parse_tools(*t, r));
  if (const json::value* tc = find(o, "tool_choice")) GH_AI_TRY(parse_tool_choice(*tc, r));
  if (const json::value* md = find(o, "metadata")) {
    auto mo = get_object(*md, "metadata");
    if (!mo) return mo.error();
    GH_AI_TRY(opt_string(**mo, "user_id", "metadata", r.user));
  }
  if (const json::value* th = find(o, "thinking")) {
    auto to = get_object(*th, "thinking");
    if (!to) return to.error();
    auto type = req_string(**to, "type", "thinking");
    if (!type) return type.error();
    if (*type == "enabled") {
      std::optional<int64_t> budget;
      GH_AI_TRY(opt_int(**to, "budget_tokens", "thinking", budget));
      r.reasoning = Reasoning{{}, budget.value_or(effort_to_budget("medium")), {}};
    } else if (*type == "adaptive") {
      r.reasoning = Reasoning{"medium", 0, {}};
    }
  }
  for (const auto& kv : o) {
    if (!kKnown.count(kv.key())) r.dropped.emplace_back(kv.key());
  }
  return r;
}

namespace {

json::object text_block(const Part& p) {
  json::object b{{"type", "text"}, {"text", p.text}};
  if (!p.cache_control.is_null()) b["cache_control"] = p.cache_control;
  return b;
}

json::object image_block(const Part& p) {
  json::object src;
  if (!p.image.url.empty()) {
    src = {{"type", "url"}, {"url", p.image.url}};
  } else {
    src = {{"type", "base64"}, {"media_type", p.image.media_type}, {"data", p.image.data}};
  }
  json::object b{{"type", "image"}, {"source", std::move(src)}};
  if (!p.cache_control.is_null()) b["cache_control"] = p.cache_control;
  return b;
}

json::value tool_input(std::string_view args) {
  boost::system::error_code ec;
  json::value v = parse_json(args, ec);
  if (ec || !v.is_object()) return json::object{};  // README: unparsable arguments become {}
  return v;
}

void append_block(const Part& p, json::array& out) {
  switch (p.kind) {
    case PartKind::kText: out.push_back(text_block(p)); break;
    case PartKind::kImage: out.push_back(image_block(p)); break;
    case PartKind::kRefusal: out.push_back(json::object{{"type", "text"}, {"text", p.text}}); break;
    case PartKind::kToolCall: {
      json::object b{{"type", "tool_use"}, {"id", p.id}, {"name", p.name},
                     {"input", tool_input(p.arguments)}};
      if (!p.cache_control.is_null()) b["cache_control"] = p.cache_control;
      out.push_back(std::move(b));
      break;
    }
    case PartKind::kToolResult: {
      json::object b{{"type", "tool_result"}, {"tool_use_id", p.id}};
      bool plain = std::all_of(p.content.begin(), p.content.end(), [](const Part& c) {
        return c.kind == PartKind::kText && c.cache_control.is_null();
      });
      if (plain && p.content.size() <= 1) {
        b["content"] = p.content.empty() ? "" : p.content[0].text;
      } else {
        json::array c;
        for (const auto& x : p.content) append_block(x, c);
        b["content"] = std::move(c);
      }
      if (p.is_error) b["is_error"] = true;
      if (!p.cache_control.is_null()) b["cache_control"] = p.cache_control;
      out.push_back(std::move(b));
      break;
    }
    case PartKind::kThinking:
      // Anthropic verifies signatures: unsigned thinking (from another provider) and
      // OpenAI reasoning items (item_id set, their encrypted content is not ours) are dropped.
      if (!p.signature.empty() && p.item_id.empty()) {
        out.push_back(json::object{{"type", "thinking"}, {"thinking", p.text},
                                   {"signature", p.signature}});
      }
      break;
    case PartKind::kRedactedThinking:
      out.push_back(json::object{{"type", "redacted_thinking"}, {"data", p.text}});
      break;
  }
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions& opt) {
  json::object o;
  o["model"] = r.model;
  int64_t max_tokens = r.max_tokens.value_or(opt.default_max_tokens);
  o["max_tokens"] = max_tokens;
  // System and developer messages, wherever they were, are hoisted into `system`.
  json::array system;
  bool system_plain = true;
  for (const auto& m : r.messages) {
    if (m.role != Role::kSystem && m.role != Role::kDeveloper) continue;
    for (const auto& p : m.parts) {
      if (p.kind != PartKind::kText) continue;
      if (!p.cache_control.is_null()) system_plain = false;
      system.push_back(text_block(p));
    }
  }
  if (system.size() == 1 && system_plain) o["system"] = system[0].as_object()["text"];
  else if (!system.empty()) o["system"] = std::move(system);

  json::array msgs;
  for (const auto& m : r.messages) {
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    const char* role = m.role == Role::kAssistant ? "assistant" : "user";
    json::array blocks;
    // Tool results lead a user turn, as Anthropic requires.
    for (const auto& p : m.parts)
      if (p.kind == PartKind::kToolResult) append_block(p, blocks);
    for (const auto& p : m.parts)
      if (p.kind != PartKind::kToolResult) append_block(p, blocks);
    if (blocks.empty()) continue;
    // Consecutive same-role turns (tool results then user text from Chat) are merged.
    if (!msgs.empty() && msgs.back().as_object()["role"].as_string() == role) {
      json::array& prev = msgs.back().as_object()["content"].as_array();
      if (m.role != Role::kAssistant) {
        // Keep tool_result blocks ahead of text in the merged turn.
        json::array merged;
        for (auto& b : prev) if (b.as_object()["type"] == "tool_result") merged.push_back(b);
        for (auto& b : blocks) if (b.as_object()["type"] == "tool_result") merged.push_back(b);
        for (auto& b : prev) if (b.as_object()["type"] != "tool_result") merged.push_back(b);
        for (auto& b : blocks) if (b.as_object()["type"] != "tool_result") merged.push_back(b);
        prev = std::move(merged);
      } else {
        for (auto& b : blocks) prev.push_back(std::move(b));
      }
      continue;
    }
    msgs.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
  }
  o["messages"] = std::move(msgs);
  if (r.temperature) o["temperature"] = std::min(*r.temperature, 1.0);  // Anthropic: 0..1
  if (r.top_p) o["top_p"] = *r.top_p;
  if (r.top_k) o["top_k"] = *r.top_k;
  if (!r.stop.empty()) {
    json::array s;
    for (const auto& x : r.stop) s.emplace_back(x);
    o["stop_sequences"] = std::move(s);
  }
  if (r.stream) o["stream"] = true;
  if (!r.tools.empty()) {
    json::array tools;
    for (const auto& t : r.tools) {
      json::object jt{{"name", t.name}};
      if (!t.description.empty()) jt["description"] = t.description;
      jt["input_schema"] = t.parameters.is_object() ? t.parameters
                                                    : json::value(json::object{{"type", "object"}});
      if (!t.cache_control.is_null()) jt["cache_control"] = t.cache_control;
      tools.push_back(std::move(jt));
    }
    o["tools"] = std::move(tools);
  }
  if (r.tool_choice || (r.parallel_tool_calls && !*r.parallel_tool_calls && !r.tools.empty())) {
    json::object tc;
    ToolChoice choice = r.tool_choice.value_or(ToolChoice{});
    switch (choice.mode) {
      case ToolChoiceMode::kAuto: tc["type"] = "auto"; break;
      case ToolChoiceMode::kNone: tc["type"] = "none"; break;
      case ToolChoiceMode::kRequired: tc["type"] = "any"; break;
      case ToolChoiceMode::kTool: tc["type"] = "tool"; tc["name"] = choice.name; break;
    }
    if (r.parallel_tool_calls && !*r.parallel_tool_calls && choice.mode != ToolChoiceMode::kNone)
      tc["disable_parallel_tool_use"] = true;
    o["tool_choice"] = std::move(tc);
  }
  if (!r.user.empty()) o["metadata"] = json::object{{"user_id", r.user}};
  if (r.reasoning) {
    int64_t budget = r.reasoning->budget_tokens > 0 ? r.reasoning->budget_tokens
                                                    : effort_to_budget(r.reasoning->effort);
    // budget_tokens must stay below max_tokens and at or above Anthropic's 1024 floor.
    budget = std::min(budget, max_tokens - 1);
    if (budget >= 1024) o["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", budget}};
  }
  return dump(o);
}

}  // namespace gatehouse::ai::messages
