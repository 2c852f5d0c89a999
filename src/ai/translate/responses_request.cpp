// OpenAI Responses requests <-> IR.
#include <algorithm>
#include <set>

#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::responses {

using namespace detail;

namespace {

const std::set<std::string, std::less<>> kKnown = {
    "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "tools",
    "tool_choice", "parallel_tool_calls", "stream", "metadata", "user", "reasoning"};

Result<void> parse_parts(const json::value& v, const std::string& path, std::vector<Part>& out) {
  return parse_content_list(
      v, path, "a string or an array of content parts", out,
      [](const json::object& o, const std::string& pp) -> Result<Part> {
        auto type = req_string(o, "type", pp);
        if (!type) return type.error();
        Part p;
        if (*type == "input_text" || *type == "output_text" || *type == "text") {
          auto t = req_string(o, "text", pp);
          if (!t) return t.error();
          p.text.assign(*t);
        } else if (*type == "refusal") {
          auto t = req_string(o, "refusal", pp);
          if (!t) return t.error();
          p.kind = PartKind::kRefusal;
          p.text.assign(*t);
        } else if (*type == "input_image") {
          std::string url;
          GH_AI_TRY(opt_string(o, "image_url", pp, url));
          if (url.empty()) {
            return field_error(
                path_key(pp, "image_url"),
                "`" + path_key(pp, "image_url") + "` is required (file_id is not supported)",
                "unsupported_content");
          }
          p.kind = PartKind::kImage;
          GH_AI_TRY(opt_string(o, "detail", pp, p.image.detail));
          if (!parse_data_url(url, p.image.media_type, p.image.data)) p.image.url = url;
        } else {
          return field_error(path_key(pp, "type"),
                             "content part type `" + std::string(*type) + "` is not supported",
                             "unsupported_content");
        }
        return p;
      });
}

Message& assistant_turn(Request& r) {
  if (r.messages.empty() || r.messages.back().role != Role::kAssistant) {
    r.messages.push_back(Message{Role::kAssistant, {}, {}});
  }
  return r.messages.back();
}

Result<void> parse_item(const json::object& it, const std::string& path, Request& r) {
  std::string type;
  GH_AI_TRY(opt_string(it, "type", path, type));
  if (type.empty() || type == "message") {
    auto role = req_string(it, "role", path);
    if (!role) return role.error();
    const json::value* c = find(it, "content");
    std::string cp = path_key(path, "content");
    if (!c) return field_error(cp, "`" + cp + "` is required", "missing_field");
    if (*role == "assistant") {
      GH_AI_TRY(parse_parts(*c, cp, assistant_turn(r).parts));
      return Ok{};
    }
    Message m;
    if (*role == "user") m.role = Role::kUser;
    else if (*role == "system") m.role = Role::kSystem;
    else if (*role == "developer") m.role = Role::kDeveloper;
    else return field_error(path_key(path, "role"), "role `" + std::string(*role) + "` is not supported", "unsupported_role");
    GH_AI_TRY(parse_parts(*c, cp, m.parts));
    r.messages.push_back(std::move(m));
  } else if (type == "function_call") {
    Part p;
    p.kind = PartKind::kToolCall;
    auto id = req_string(it, "call_id", path);
    if (!id) return id.error();
    auto name = req_string(it, "name", path);
    if (!name) return name.error();
    p.id.assign(*id);
    p.name.assign(*name);
    GH_AI_TRY(opt_string(it, "arguments", path, p.arguments));
    assistant_turn(r).parts.push_back(std::move(p));
  } else if (type == "function_call_output") {
    Part p;
    p.kind = PartKind::kToolResult;
    auto id = req_string(it, "call_id", path);
    if (!id) return id.error();
    p.id.assign(*id);
    const json::value* out = find(it, "output");
    std::string op = path_key(path, "output");
    if (!out) return field_error(op, "`" + op + "` is required", "missing_field");
    GH_AI_TRY(parse_parts(*out, op, p.content));
    r.messages.push_back(Message{Role::kTool, {std::move(p)}, {}});
  } else if (type == "reasoning") {
    Part p;
    p.kind = PartKind::kThinking;
    GH_AI_TRY(opt_string(it, "id", path, p.item_id));
    if (is_foreign_reasoning_id(p.item_id)) p.item_id.clear();
    GH_AI_TRY(opt_string(it, "encrypted_content", path, p.signature));
    for (std::string_view key : {"summary", "content"}) {
      const json::array* arr = arr_or_null(it, key);
      if (!arr) continue;
      for (size_t i = 0; i < arr->size(); ++i) {
        std::string sp = path_index(path_key(path, key), i);
        auto so = get_object((*arr)[i], sp);
        if (!so) return so.error();
        auto t = req_string(**so, "text", sp);
        if (!t) return t.error();
        if (!p.text.empty()) p.text.append("\n\n");
        p.text.append(*t);
      }
      if (!p.text.empty()) break;  // summary wins; content only when there is no summary
    }
    assistant_turn(r).parts.push_back(std::move(p));
  } else {
    return field_error(path_key(path, "type"), "input item type `" + type + "` is not supported",
                       "unsupported_content");
  }
  return Ok{};
}

Result<void> parse_tools(const json::value& v, Request& r) {
  auto arr = get_array(v, "tools");
  if (!arr) return arr.error();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    std::string pp = path_index("tools", i);
    auto o = get_object((**arr)[i], pp);
    if (!o) return o.error();
    auto type = req_string(**o, "type", pp);
    if (!type) return type.error();
    if (*type != "function") {
      return field_error(path_key(pp, "type"),
                         "tool type `" + std::string(*type) + "` is not supported",
                         "unsupported_tool");
    }
    Tool t;
    auto name = req_string(**o, "name", pp);
    if (!name) return name.error();
    t.name.assign(*name);
    GH_AI_TRY(opt_string(**o, "description", pp, t.description));
    if (const json::value* p = find(**o, "parameters")) {
      if (!p->is_object()) return type_error(path_key(pp, "parameters"), "an object");
      t.parameters = *p;
    }
    GH_AI_TRY(opt_bool(**o, "strict", pp, t.strict));
    r.tools.push_back(std::move(t));
  }
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
  if (find(o, "previous_response_id") || find(o, "conversation")) {
    // Server-side conversation state lives at OpenAI; a translated route cannot see it.
    std::string f = find(o, "conversation") ? "conversation" : "previous_response_id";
    return field_error(f, "`" + f + "` is not supported on a translated route", "unsupported_field");
  }
  std::string instructions;
  GH_AI_TRY(opt_string(o, "instructions", "", instructions));
  if (!instructions.empty()) {
    Part t;
    t.text = instructions;
    r.messages.push_back(Message{Role::kSystem, {std::move(t)}, {}});
  }
  const json::value* input = find(o, "input");
  if (!input) return field_error("input", "`input` is required", "missing_field");
  if (input->is_string()) {
    Part t;
    t.text.assign(input->as_string().c_str());
    r.messages.push_back(Message{Role::kUser, {std::move(t)}, {}});
  } else {
    auto arr = get_array(*input, "input");
    if (!arr) return type_error("input", "a string or an array of input items");
    for (size_t i = 0; i < (*arr)->size(); ++i) {
      std::string ip = path_index("input", i);
      auto it = get_object((**arr)[i], ip);
      if (!it) return it.error();
      GH_AI_TRY(parse_item(**it, ip, r));
    }
  }
  if (r.messages.empty()) return field_error("input", "`input` must not be empty");
  GH_AI_TRY(opt_int(o, "max_output_tokens", "", r.max_tokens));
  GH_AI_TRY(opt_number(o, "temperature", "", r.temperature));
  GH_AI_TRY(opt_number(o, "top_p", "", r.top_p));
  std::optional<bool> stream;
  GH_AI_TRY(opt_bool(o, "stream", "", stream));
  r.stream = stream.value_or(false);
  r.include_usage = true;  // response.completed always carries usage
  if (const json::value* t = find(o, "tools")) GH_AI_TRY(parse_tools(*t, r));
  if (const json::value* tc = find(o, "tool_choice")) {
    ToolChoice c;
    if (tc->is_string()) {
      std::string_view s(tc->as_string().data(), tc->as_string().size());
      if (s == "auto") c.mode = ToolChoiceMode::kAuto;
      else if (s == "none") c.mode = ToolChoiceMode::kNone;
      else if (s == "required") c.mode = ToolChoiceMode::kRequired;
      else return field_error("tool_choice", "`tool_choice` must be auto, none, required or an object");
    } else {
      auto co = get_object(*tc, "tool_choice");
      if (!co) return co.error();
      auto type = req_string(**co, "type", "tool_choice");
      if (!type) return type.error();
      if (*type != "function") {
        return field_error("tool_choice.type", "tool_choice type `" + std::string(*type) +
                                                   "` is not supported", "unsupported_tool");
      }
      auto name = req_string(**co, "name", "tool_choice");
      if (!name) return name.error();
      c.mode = ToolChoiceMode::kTool;
      c.name.assign(*name);
    }
    r.tool_choice = c;
  }
  GH_AI_TRY(opt_bool(o, "parallel_tool_calls", "", r.parallel_tool_calls));
  GH_AI_TRY(opt_string(o, "user", "", r.user));
  if (const json::value* md = find(o, "metadata")) {
    auto mo = get_object(*md, "metadata");
    if (!mo) return mo.error();
    for (const auto& kv : **mo) {
      auto s = get_string(kv.value(), path_key("metadata", kv.key()));
      if (!s) return s.error();
      r.metadata.emplace_back(std::string(kv.key()), std::string(*s));
    }
  }
  if (const json::value* re = find(o, "reasoning")) {
    auto ro = get_object(*re, "reasoning");
    if (!ro) return ro.error();
    Reasoning rs;
    GH_AI_TRY(opt_string(**ro, "effort", "reasoning", rs.effort));
    GH_AI_TRY(opt_string(**ro, "summary", "reasoning", rs.summary));
    if (!rs.effort.empty() || !rs.summary.empty()) r.reasoning = rs;
  }
  for (const auto& kv : o) {
    if (!kKnown.count(kv.key())) r.dropped.emplace_back(kv.key());
  }
  return r;
}

namespace {

json::array input_parts(const std::vector<Part>& parts) {
  json::array arr;
  for (const auto& p : parts) {
    if (p.kind == PartKind::kText) {
      arr.push_back(json::object{{"type", "input_text"}, {"text", p.text}});
    } else if (p.kind == PartKind::kImage) {
      json::object img{{"type", "input_image"}, {"image_url", image_url(p.image)}};
      img["detail"] = p.image.detail.empty() ? "auto" : p.image.detail;
      arr.push_back(std::move(img));
    }
  }
  return arr;
}

json::value message_content(const std::vector<Part>& parts) {
  if (parts.size() == 1 && parts[0].kind == PartKind::kText) return json::string(parts[0].text);
  return input_parts(parts);
}

void write_assistant(const Message& m, json::array& input) {
  json::array content;
  auto flush = [&] {
    if (content.empty()) return;
    input.push_back(json::object{{"type", "message"}, {"role", "assistant"},
                                 {"content", std::move(content)}});
    content = json::array();
  };
  for (const auto& p : m.parts) {
    switch (p.kind) {
      case PartKind::kText:
        content.push_back(json::object{{"type", "output_text"}, {"text", p.text}});
        break;
      case PartKind::kRefusal:
        content.push_back(json::object{{"type", "refusal"}, {"refusal", p.text}});
        break;
      case PartKind::kToolCall:
        flush();
        input.push_back(json::object{{"type", "function_call"}, {"call_id", p.id},
                                     {"name", p.name},
                                     {"arguments", p.arguments.empty() ? "{}" : p.arguments}});
        break;
      case PartKind::kThinking: {
        // Only reasoning items OpenAI produced (they have an item id) can be replayed.
        if (p.item_id.empty() || is_foreign_reasoning_id(p.item_id)) break;
        flush();
        json::object it{{"type", "reasoning"}, {"id", p.item_id}};
        json::array summary;
        if (!p.text.empty()) summary.push_back(json::object{{"type", "summary_text"}, {"text", p.text}});
        it["summary"] = std::move(summary);
        if (!p.signature.empty()) it["encrypted_content"] = p.signature;
        input.push_back(std::move(it));
        break;
      }
      default: break;  // images in assistant turns and redacted thinking: not expressible
    }
  }
  flush();
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions&) {
  json::object o;
  o["model"] = r.model;
  json::array input;
  size_t first = 0;
  if (!r.messages.empty() && r.messages[0].role == Role::kSystem) {
    std::string text;
    for (const auto& p : r.messages[0].parts) {
      if (p.kind != PartKind::kText) continue;
      if (!text.empty()) text.append("\n\n");
      text.append(p.text);
    }
    o["instructions"] = text;
    first = 1;
  }
  for (size_t i = first; i < r.messages.size(); ++i) {
    const Message& m = r.messages[i];
    switch (m.role) {
      case Role::kSystem:
      case Role::kDeveloper:
        input.push_back(json::object{{"role", m.role == Role::kSystem ? "system" : "developer"},
                                     {"content", message_content(m.parts)}});
        break;
      case Role::kUser:
      case Role::kTool: {
        for (const auto& p : m.parts) {
          if (p.kind != PartKind::kToolResult) continue;
          bool plain = std::all_of(p.content.begin(), p.content.end(),
                                   [](const Part& c) { return c.kind == PartKind::kText; });
          json::value out;
          if (plain) {
            std::string text = p.is_error ? "[tool error] " : "";
            for (const auto& c : p.content) text.append(c.text);
            out = json::string(text);
          } else {
            out = input_parts(p.content);
          }
          input.push_back(json::object{{"type", "function_call_output"}, {"call_id", p.id},
                                       {"output", std::move(out)}});
        }
        bool has_user = std::any_of(m.parts.begin(), m.parts.end(), [](const Part& p) {
          return p.kind == PartKind::kText || p.kind == PartKind::kImage;
        });
        if (has_user) {
          std::vector<Part> user;
          for (const auto& p : m.parts)
            if (p.kind == PartKind::kText || p.kind == PartKind::kImage) user.push_back(p);
          input.push_back(json::object{{"role", "user"}, {"content", message_content(user)}});
        }
        break;
      }
      case Role::kAssistant: write_assistant(m, input); break;
    }
  }
  o["input"] = std::move(input);
  if (r.max_tokens) o["max_output_tokens"] = *r.max_tokens;
  if (r.temperature) o["temperature"] = *r.temperature;
  if (r.top_p) o["top_p"] = *r.top_p;
  if (r.stream) o["stream"] = true;
  if (!r.tools.empty()) {
    json::array tools;
    for (const auto& t : r.tools) {
      json::object jt{{"type", "function"}, {"name", t.name}};
      if (!t.description.empty()) jt["description"] = t.description;
      jt["parameters"] = t.parameters.is_object() ? t.parameters
                                                  : json::value(json::object{{"type", "object"}});
      // Responses defaults strict to true; keep the client's (non-strict) meaning.
      jt["strict"] = t.strict.value_or(false);
      tools.push_back(std::move(jt));
    }
    o["tools"] = std::move(tools);
  }
  if (r.tool_choice) {
    switch (r.tool_choice->mode) {
      case ToolChoiceMode::kAuto: o["tool_choice"] = "auto"; break;
      case ToolChoiceMode::kNone: o["tool_choice"] = "none"; break;
      case ToolChoiceMode::kRequired: o["tool_choice"] = "required"; break;
      case ToolChoiceMode::kTool:
        o["tool_choice"] = json::object{{"type", "function"}, {"name", r.tool_choice->name}};
        break;
    }
  }
  if (r.parallel_tool_calls && !r.tools.empty()) o["parallel_tool_calls"] = *r.parallel_tool_calls;
  if (!r.user.empty()) o["user"] = r.user;
  if (!r.metadata.empty()) {
    json::object md;
    for (const auto& [k, v] : r.metadata) md[k] = v;
    o["metadata"] = std::move(md);
  }
  if (r.reasoning) {
    json::object re;
    std::string effort = r.reasoning->effort;
    if (effort.empty() && r.reasoning->budget_tokens > 0)
      effort = budget_to_effort(r.reasoning->budget_tokens);
    if (!effort.empty()) re["effort"] = effort;
    // Anthropic clients see their thinking; ask OpenAI for a summary so there is some.
    re["summary"] = r.reasoning->summary.empty() ? "auto" : r.reasoning->summary;
    o["reasoning"] = std::move(re);
  }
  return dump(o);
}

}  // namespace gatehouse::ai::responses
