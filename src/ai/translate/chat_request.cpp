// OpenAI Chat Completions requests <-> IR.
#include <algorithm>
#include <set>

#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::chat {

using namespace detail;

namespace {

// Top-level fields this parser reads; anything else is reported in Request::dropped.
const std::set<std::string, std::less<>> kKnown = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
    "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "user",
    "metadata", "reasoning_effort"};

Result<void> parse_image_part(const json::object& p, const std::string& path, Part& out) {
  const json::value* iu = find(p, "image_url");
  std::string ip = path_key(path, "image_url");
  if (!iu) return field_error(ip, "`" + ip + "` is required", "missing_field");
  std::string url, detail;
  if (iu->is_string()) {
    url.assign(iu->as_string().c_str());
  } else {
    auto o = get_object(*iu, ip);
    if (!o) return o.error();
    auto u = req_string(**o, "url", ip);
    if (!u) return u.error();
    url.assign(*u);
    GH_AI_TRY(opt_string(**o, "detail", ip, detail));
  }
  out.kind = PartKind::kImage;
  out.image.detail = detail;
  if (!parse_data_url(url, out.image.media_type, out.image.data)) out.image.url = url;
  return Ok{};
}

// content: a string or an array of text (and, when `images`, image_url) parts.
Result<void> parse_content(const json::value& v, const std::string& path, bool images,
                           std::vector<Part>& out) {
  return parse_content_list(
      v, path, "a string or an array of content parts", out,
      [images](const json::object& o, const std::string& pp) -> Result<Part> {
        auto type = req_string(o, "type", pp);
        if (!type) return type.error();
        Part part;
        if (*type == "text") {
          auto t = req_string(o, "text", pp);
          if (!t) return t.error();
          part.text.assign(*t);
        } else if (*type == "image_url" && images) {
          GH_AI_TRY(parse_image_part(o, pp, part));
        } else if (*type == "refusal") {
          auto t = req_string(o, "refusal", pp);
          if (!t) return t.error();
          part.kind = PartKind::kRefusal;
          part.text.assign(*t);
        } else {
          std::string tp = path_key(pp, "type");
          return field_error(tp, "content part type `" + std::string(*type) +
                                     "` is not supported here", "unsupported_content");
        }
        return part;
      });
}

Result<void> parse_tool_calls(const json::value& v, const std::string& path,
                              std::vector<Part>& out) {
  auto arr = get_array(v, path);
  if (!arr) return arr.error();
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    std::string pp = path_index(path, i);
    auto o = get_object((**arr)[i], pp);
    if (!o) return o.error();
    std::string type = "function";
    GH_AI_TRY(opt_string(**o, "type", pp, type));
    if (type != "function") {
      return field_error(path_key(pp, "type"), "tool call type `" + type + "` is not supported",
                         "unsupported_content");
    }
    Part call;
    call.kind = PartKind::kToolCall;
    auto id = req_string(**o, "id", pp);
    if (!id) return id.error();
    call.id.assign(*id);
    const json::value* fn = find(**o, "function");
    std::string fp = path_key(pp, "function");
    if (!fn) return field_error(fp, "`" + fp + "` is required", "missing_field");
    auto fo = get_object(*fn, fp);
    if (!fo) return fo.error();
    auto name = req_string(**fo, "name", fp);
    if (!name) return name.error();
    call.name.assign(*name);
    GH_AI_TRY(opt_string(**fo, "arguments", fp, call.arguments));
    out.push_back(std::move(call));
  }
  return Ok{};
}

Result<Message> parse_message(const json::value& v, const std::string& path) {
  auto o = get_object(v, path);
  if (!o) return o.error();
  const json::object& m = **o;
  auto role = req_string(m, "role", path);
  if (!role) return role.error();
  Message msg;
  GH_AI_TRY(opt_string(m, "name", path, msg.name));
  const json::value* content = find(m, "content");
  std::string cp = path_key(path, "content");
  if (*role == "system" || *role == "developer") {
    msg.role = *role == "system" ? Role::kSystem : Role::kDeveloper;
    if (!content) return field_error(cp, "`" + cp + "` is required", "missing_field");
    GH_AI_TRY(parse_content(*content, cp, false, msg.parts));
  } else if (*role == "user") {
    msg.role = Role::kUser;
    if (!content) return field_error(cp, "`" + cp + "` is required", "missing_field");
    GH_AI_TRY(parse_content(*content, cp, true, msg.parts));
  } else if (*role == "assistant") {
    msg.role = Role::kAssistant;
    // Reasoning first: that is the order the model produced it in.
    for (std::string_view key : {"reasoning_content", "reasoning"}) {
      if (const json::value* r = find(m, key)) {
        auto s = get_string(*r, path_key(path, key));
        if (!s) return s.error();
        if (!s->empty()) {
          Part t;
          t.kind = PartKind::kThinking;
          t.text.assign(*s);
          msg.parts.push_back(std::move(t));
        }
        break;
      }
    }
    if (content) GH_AI_TRY(parse_content(*content, cp, false, msg.parts));
    std::string refusal;
    GH_AI_TRY(opt_string(m, "refusal", path, refusal));
    if (!refusal.empty()) {
      Part r;
      r.kind = PartKind::kRefusal;
      r.text = refusal;
      msg.parts.push_back(std::move(r));
    }
    if (const json::value* tc = find(m, "tool_calls"))
      GH_AI_TRY(parse_tool_calls(*tc, path_key(path, "tool_calls"), msg.parts));
  } else if (*role == "tool") {
    msg.role = Role::kTool;
    Part res;
    res.kind = PartKind::kToolResult;
    auto id = req_string(m, "tool_call_id", path);
    if (!id) return id.error();
    res.id.assign(*id);
    if (content) GH_AI_TRY(parse_content(*content, cp, false, res.content));
    msg.parts.push_back(std::move(res));
  } else {
    std::string rp = path_key(path, "role");
    return field_error(rp, "role `" + std::string(*role) + "` is not supported",
                       "unsupported_role");
  }
  return msg;
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
    const json::value* fn = find(**o, "function");
    std::string fp = path_key(pp, "function");
    if (!fn) return field_error(fp, "`" + fp + "` is required", "missing_field");
    auto fo = get_object(*fn, fp);
    if (!fo) return fo.error();
    Tool t;
    auto name = req_string(**fo, "name", fp);
    if (!name) return name.error();
    t.name.assign(*name);
    GH_AI_TRY(opt_string(**fo, "description", fp, t.description));
    if (const json::value* p = find(**fo, "parameters")) {
      if (!p->is_object()) return type_error(path_key(fp, "parameters"), "an object");
      t.parameters = *p;
    }
    GH_AI_TRY(opt_bool(**fo, "strict", fp, t.strict));
    r.tools.push_back(std::move(t));
  }
  return Ok{};
}

Result<void> parse_tool_choice(const json::value& v, Request& r) {
  ToolChoice tc;
  if (v.is_string()) {
    std::string_view s(v.as_string().data(), v.as_string().size());
    if (s == "auto") tc.mode = ToolChoiceMode::kAuto;
    else if (s == "none") tc.mode = ToolChoiceMode::kNone;
    else if (s == "required") tc.mode = ToolChoiceMode::kRequired;
    else return field_error("tool_choice", "`tool_choice` must be auto, none, required or an object");
  } else {
    auto o = get_object(v, "tool_choice");
    if (!o) return o.error();
    const json::object* fn = obj_or_null(**o, "function");
    if (!fn) return field_error("tool_choice.function", "`tool_choice.function` is required", "missing_field");
    auto name = req_string(*fn, "name", "tool_choice.function");
    if (!name) return name.error();
    tc.mode = ToolChoiceMode::kTool;
    tc.name.assign(*name);
  }
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
  const json::value* msgs = find(o, "messages");
  if (!msgs) return field_error("messages", "`messages` is required", "missing_field");
  auto arr = get_array(*msgs, "messages");
  if (!arr) return arr.error();
  if ((*arr)->empty()) return field_error("messages", "`messages` must not be empty");
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    auto m = parse_message((**arr)[i], path_index("messages", i));
    if (!m) return m.error();
    r.messages.push_back(std::move(*m));
  }
  GH_AI_TRY(opt_int(o, "max_tokens", "", r.max_tokens));
  GH_AI_TRY(opt_int(o, "max_completion_tokens", "", r.max_tokens));  // wins when both
  GH_AI_TRY(opt_number(o, "temperature", "", r.temperature));
  GH_AI_TRY(opt_number(o, "top_p", "", r.top_p));
  if (const json::value* stop = find(o, "stop")) {
    if (stop->is_string()) {
      r.stop.emplace_back(stop->as_string().c_str());
    } else {
      auto sa = get_array(*stop, "stop");
      if (!sa) return type_error("stop", "a string or an array of strings");
      for (size_t i = 0; i < (*sa)->size(); ++i) {
        auto s = get_string((**sa)[i], path_index("stop", i));
        if (!s) return s.error();
        r.stop.emplace_back(*s);
      }
    }
  }
  std::optional<bool> stream;
  GH_AI_TRY(opt_bool(o, "stream", "", stream));
  r.stream = stream.value_or(false);
  if (const json::value* so = find(o, "stream_options")) {
    auto soo = get_object(*so, "stream_options");
    if (!soo) return soo.error();
    std::optional<bool> iu;
    GH_AI_TRY(opt_bool(**soo, "include_usage", "stream_options", iu));
    r.include_usage = iu.value_or(false);
  }
  if (const json::value* t = find(o, "tools")) GH_AI_TRY(parse_tools(*t, r));
  if (const json::value* tc = find(o, "tool_choice")) GH_AI_TRY(parse_tool_choice(*tc, r));
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
  std::string effort;
  GH_AI_TRY(opt_string(o, "reasoning_effort", "", effort));
  if (!effort.empty()) r.reasoning = Reasoning{effort, 0, {}};
  for (const auto& kv : o) {
    if (!kKnown.count(kv.key())) r.dropped.emplace_back(kv.key());
  }
  return r;
}

namespace {

json::value content_value(const std::vector<Part>& parts, bool images) {
  // A lone text part is written as a plain string, the form every compatible server takes.
  size_t n = 0;
  for (const auto& p : parts)
    if (p.kind == PartKind::kText || (images && p.kind == PartKind::kImage)) ++n;
  if (n == 1 && parts.size() >= 1) {
    for (const auto& p : parts)
      if (p.kind == PartKind::kText) return json::string(p.text);
  }
  json::array arr;
  for (const auto& p : parts) {
    if (p.kind == PartKind::kText) {
      arr.push_back(json::object{{"type", "text"}, {"text", p.text}});
    } else if (p.kind == PartKind::kImage && images) {
      json::object iu{{"url", image_url(p.image)}};
      if (!p.image.detail.empty()) iu["detail"] = p.image.detail;
      arr.push_back(json::object{{"type", "image_url"}, {"image_url", std::move(iu)}});
    }
  }
  if (arr.empty()) return json::string();
  return arr;
}

std::string joined_text(const std::vector<Part>& parts, PartKind kind) {
  std::string out;
  for (const auto& p : parts) {
    if (p.kind != kind) continue;
    if (!out.empty() && kind == PartKind::kThinking) out.append("\n\n");
    out.append(p.text);
  }
  return out;
}

}  // namespace

std::string write_request(const Request& r, const WriteOptions& opt) {
  json::object o;
  o["model"] = r.model;
  json::array msgs;
  for (const auto& m : r.messages) {
    switch (m.role) {
      case Role::kSystem:
      case Role::kDeveloper: {
        json::object jm{{"role", m.role == Role::kSystem ? "system" : "developer"},
                        {"content", content_value(m.parts, false)}};
        if (!m.name.empty()) jm["name"] = m.name;
        msgs.push_back(std::move(jm));
        break;
      }
      case Role::kUser:
      case Role::kTool: {
        // Tool results become role:tool messages; they must directly follow the assistant
        // turn, so they go before any user text of the same IR message.
        for (const auto& p : m.parts) {
          if (p.kind != PartKind::kToolResult) continue;
          json::value c = content_value(p.content, false);
          if (p.is_error && c.is_string()) {
            // Chat has no error flag; say it in-band so the model still knows.
            c = json::string("[tool error] " + std::string(c.as_string().c_str()));
          }
          msgs.push_back(json::object{{"role", "tool"}, {"tool_call_id", p.id}, {"content", c}});
        }
        bool has_user = std::any_of(m.parts.begin(), m.parts.end(), [](const Part& p) {
          return p.kind == PartKind::kText || p.kind == PartKind::kImage;
        });
        if (has_user) {
          json::object jm{{"role", "user"}, {"content", content_value(m.parts, true)}};
          if (!m.name.empty()) jm["name"] = m.name;
          msgs.push_back(std::move(jm));
        }
        break;
      }
      case Role::kAssistant: {
        json::object jm{{"role", "assistant"}};
        std::string text = joined_text(m.parts, PartKind::kText);
        jm["content"] = text.empty() ? json::value(nullptr) : json::value(json::string(text));
        std::string refusal = joined_text(m.parts, PartKind::kRefusal);
        if (!refusal.empty()) jm["refusal"] = refusal;
        if (opt.chat_send_reasoning_content) {
          std::string thinking = joined_text(m.parts, PartKind::kThinking);
          if (!thinking.empty()) jm["reasoning_content"] = thinking;
        }
        json::array calls;
        for (const auto& p : m.parts) {
          if (p.kind != PartKind::kToolCall) continue;
          calls.push_back(json::object{
              {"id", p.id},
              {"type", "function"},
              {"function", json::object{{"name", p.name},
                                        {"arguments", p.arguments.empty() ? "{}" : p.arguments}}}});
        }
        if (!calls.empty()) jm["tool_calls"] = std::move(calls);
        if (!m.name.empty()) jm["name"] = m.name;
        msgs.push_back(std::move(jm));
        break;
      }
    }
  }
  o["messages"] = std::move(msgs);
  if (r.max_tokens)
    o[opt.chat_max_completion_tokens ? "max_completion_tokens" : "max_tokens"] = *r.max_tokens;
  if (r.temperature) o["temperature"] = *r.temperature;
  if (r.top_p) o["top_p"] = *r.top_p;
  if (!r.stop.empty()) {
    json::array s;
    for (const auto& x : r.stop) s.emplace_back(x);
    o["stop"] = std::move(s);
  }
  if (r.stream) {
    o["stream"] = true;
    if (opt.chat_force_include_usage || r.include_usage)
      o["stream_options"] = json::object{{"include_usage", true}};
  }
  if (!r.tools.empty()) {
    json::array tools;
    for (const auto& t : r.tools) {
      json::object fn{{"name", t.name}};
      if (!t.description.empty()) fn["description"] = t.description;
      fn["parameters"] = t.parameters.is_object() ? t.parameters
                                                  : json::value(json::object{{"type", "object"}});
      if (t.strict) fn["strict"] = *t.strict;
      tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
    }
    o["tools"] = std::move(tools);
  }
  if (r.tool_choice) {
    switch (r.tool_choice->mode) {
      case ToolChoiceMode::kAuto: o["tool_choice"] = "auto"; break;
      case ToolChoiceMode::kNone: o["tool_choice"] = "none"; break;
      case ToolChoiceMode::kRequired: o["tool_choice"] = "required"; break;
      case ToolChoiceMode::kTool:
        o["tool_choice"] = json::object{{"type", "function"},
                                        {"function", json::object{{"name", r.tool_choice->name}}}};
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
    std::string effort = r.reasoning->effort;
    if (effort.empty() && r.reasoning->budget_tokens > 0)
      effort = budget_to_effort(r.reasoning->budget_tokens);
    if (!effort.empty()) o["reasoning_effort"] = effort;
  }
  return dump(o);
}

}  // namespace gatehouse::ai::chat
