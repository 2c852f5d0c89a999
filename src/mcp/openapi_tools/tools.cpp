#include "mcp/openapi_tools/tools.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/json.hpp"

namespace gatehouse::mcp::openapi_tools {

namespace {

constexpr size_t kMaxToolName = 128;  // the MCP tool-name limit
constexpr std::string_view kComponentRef = "#/components/schemas/";

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool is_json(std::string_view type) {
  return type == "application/json" || type.ends_with("+json");
}

const oa::MediaType* json_media(const std::vector<oa::MediaType>& content) {
  for (const auto& m : content)
    if (is_json(m.type)) return &m;
  return nullptr;
}

constexpr std::string_view kForm = "application/x-www-form-urlencoded";

bool is_text(std::string_view type) {
  return type.starts_with("text/");
}

// Header parameters a call does not take: the ones OpenAPI says to ignore
// (Accept, Content-Type, Authorization: the media types and the security
// schemes say those) and the message's framing and routing, which are the
// gateway's.
bool gateway_header(std::string_view name) {
  for (std::string_view h : {"accept", "content-type", "authorization", "host", "content-length",
                             "transfer-encoding", "connection", "te", "upgrade", "x-request-id"})
    if (name.size() == h.size() &&
        std::equal(name.begin(), name.end(), h.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return true;
  return false;
}

// The argument name of each sent parameter: its own name, or "<in>_<name>"
// when two parameters (say a path and a query one) share it.
std::vector<std::pair<const oa::Parameter*, std::string>> sent_parameters(const oa::Operation& op) {
  std::vector<std::pair<const oa::Parameter*, std::string>> out;
  std::set<std::string> names;
  for (const auto& p : op.parameters) {
    if (p.in == "cookie") continue;
    if (p.in == "header" && gateway_header(p.name)) continue;
    std::string key = names.count(p.name) || p.name == "body" ? p.in + "_" + p.name : p.name;
    names.insert(key);
    out.emplace_back(&p, std::move(key));
  }
  return out;
}

// Copies `v` with component references pointed at $defs, noting the names.
json::value rewrite_refs(const json::value& v, std::set<std::string>& refs) {
  if (v.is_array()) {
    json::array a;
    for (const auto& x : v.as_array()) a.push_back(rewrite_refs(x, refs));
    return a;
  }
  if (!v.is_object()) return v;
  json::object o;
  for (const auto& [k, x] : v.as_object()) {
    if (k == "$ref" && x.is_string() && x.as_string().starts_with(kComponentRef)) {
      std::string name(std::string_view(x.as_string()).substr(kComponentRef.size()));
      refs.insert(name);
      o["$ref"] = "#/$defs/" + name;
    } else {
      o[k] = rewrite_refs(x, refs);
    }
  }
  return o;
}

// $defs holding every schema reached from `refs`, transitively.
json::object collect_defs(const oa::Document& d, std::set<std::string> refs) {
  json::object defs;
  std::set<std::string> done;
  while (!refs.empty()) {
    std::string name = *refs.begin();
    refs.erase(refs.begin());
    if (!done.insert(name).second) continue;
    auto it = d.schemas.find(name);
    if (it == d.schemas.end()) continue;  // dangling: left for the client to report
    std::set<std::string> more;
    defs[name] = rewrite_refs(it->second, more);
    for (auto& m : more)
      if (!done.count(m)) refs.insert(m);
  }
  return defs;
}

std::string scalar_text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);  // numbers, booleans as written in JSON
}

}  // namespace

std::string tool_name(const oa::Operation& op) {
  if (!op.operation_id.empty() && op.operation_id.size() <= kMaxToolName &&
      std::all_of(op.operation_id.begin(), op.operation_id.end(), name_char))
    return op.operation_id;
  std::string n;
  for (char c : op.method) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool last_sep = false;
  for (char c : op.path) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (keep) {
      if (last_sep || n.size() == op.method.size()) n += '_';
      n += c;
      last_sep = false;
    } else {
      last_sep = true;
    }
  }
  if (n.size() > kMaxToolName) n.resize(kMaxToolName);
  return n;
}

json::object input_schema(const oa::Document& d, const oa::Operation& op) {
  json::object props;
  json::array required;
  std::set<std::string> refs;
  for (const auto& [p, key] : sent_parameters(op)) {
    json::value schema = p->schema.is_null() ? json::value(json::object{}) : p->schema;
    json::value s = rewrite_refs(schema, refs);
    if (s.is_object() && !s.as_object().contains("description"))
      s.as_object()["description"] = p->in + " parameter " + p->name;
    props[key] = std::move(s);
    if (p->required || p->in == "path") required.emplace_back(key);
  }
  if (op.request_body && !op.request_body->content.empty()) {
    const oa::MediaType* m = body_media(*op.request_body);
    json::value s =
        m && !is_text(m->type)
            ? rewrite_refs(m->schema.is_null() ? json::value(json::object{}) : m->schema, refs)
            : json::value(json::object{{"type", "string"}});
    if (s.is_object() && !s.as_object().contains("description"))
      s.as_object()["description"] =
          "request body (" + (m ? m->type : op.request_body->content.front().type) + ")";
    props["body"] = std::move(s);
    if (op.request_body->required) required.emplace_back("body");
  }
  json::object schema{{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) schema["required"] = std::move(required);
  json::object defs = collect_defs(d, std::move(refs));
  if (!defs.empty()) schema["$defs"] = std::move(defs);
  return schema;
}

namespace {

// OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [T, "null"]`): MCP
// clients validate structuredContent with a JSON Schema validator that does
// not know the OpenAPI keyword, and would refuse a null the API documents.
void nullable_to_type(json::value& v) {
  if (v.is_array()) {
    for (auto& x : v.as_array()) nullable_to_type(x);
    return;
  }
  if (!v.is_object()) return;
  json::object& o = v.as_object();
  if (const json::value* n = o.if_contains("nullable"); n && n->is_bool()) {
    const bool nullable = n->as_bool();
    o.erase("nullable");
    if (json::value* t = o.if_contains("type"); nullable && t && t->is_string())
      *t = json::array{*t, "null"};
  }
  for (auto& [k, x] : o) nullable_to_type(x);
}

}  // namespace

json::object output_schema(const oa::Document& d, const oa::Operation& op) {
  const json::value* found = nullptr;
  for (const auto& r : op.responses) {
    if (r.status.size() != 3 || r.status[0] != '2') continue;  // "200", "201", "2XX"
    const oa::MediaType* m = json_media(r.content);
    if (!m || m->schema.is_null()) continue;      // no body (204) or not JSON
    if (found && *found != m->schema) return {};  // two success shapes: no one schema
    found = &m->schema;
  }
  if (!found) return {};
  // The SDKs want `type: "object"` at the root: a root reference is inlined.
  json::value root = *found;
  for (int hops = 0; root.is_object() && hops < 8; ++hops) {
    const json::value* ref = root.as_object().if_contains("$ref");
    if (!ref || !ref->is_string() || !ref->as_string().starts_with(kComponentRef)) break;
    auto it = d.schemas.find(
        std::string(std::string_view(ref->as_string()).substr(kComponentRef.size())));
    if (it == d.schemas.end()) return {};
    root = it->second;
  }
  if (!root.is_object()) return {};
  const json::value* type = root.as_object().if_contains("type");
  if (!type || !type->is_string() || type->as_string() != "object") return {};
  std::set<std::string> refs;
  json::value schema = rewrite_refs(root, refs);
  json::object out = std::move(schema.as_object());
  json::object defs = collect_defs(d, std::move(refs));
  if (!defs.empty()) out["$defs"] = std::move(defs);
  json::value v = std::move(out);
  nullable_to_type(v);
  return std::move(v.as_object());
}

std::vector<Tool> build_tools(const oa::Document& d, const Options& o, std::string& error) {
  std::vector<Tool> out;
  std::set<std::string> wanted(o.operations.begin(), o.operations.end());
  for (const auto& id : o.operations) {
    bool found = std::any_of(d.operations.begin(), d.operations.end(),
                             [&](const oa::Operation& op) { return op.operation_id == id; });
    if (!found) {
      error = "operation \"" + id + "\" is not in the document";
      return {};
    }
  }
  std::set<std::string> names;
  for (const auto& op : d.operations) {
    if (!wanted.empty() && !wanted.count(op.operation_id)) continue;
    Tool t;
    t.name = tool_name(op);
    t.operation = &op;
    if (!names.insert(t.name).second) {
      error = "two operations make the tool name \"" + t.name + "\" (" + op.method + " " + op.path +
              "); give them distinct operationIds";
      return {};
    }
    std::string description = !op.summary.empty() ? op.summary : op.method + " " + op.path;
    if (auto it = op.extensions.find("x-mcp-description");
        it != op.extensions.end() && it->value().is_string())
      description = it->value().as_string();  // an operator's own wording
    if (op.deprecated) description += " (deprecated)";
    t.definition["name"] = t.name;
    t.definition["description"] = description;
    t.definition["inputSchema"] = input_schema(d, op);
    if (json::object os = output_schema(d, op); !os.empty())
      t.definition["outputSchema"] = std::move(os);
    out.push_back(std::move(t));
  }
  return out;
}

const oa::MediaType* body_media(const oa::RequestBody& b) {
  if (const oa::MediaType* m = json_media(b.content)) return m;
  for (const auto& m : b.content)
    if (m.type == kForm) return &m;
  for (const auto& m : b.content)
    if (is_text(m.type)) return &m;
  return nullptr;
}

std::optional<std::string> form_encode(const json::value& body, std::string& error) {
  if (!body.is_object()) {
    error = "argument \"body\" must be an object (" + std::string(kForm) + " request body)";
    return std::nullopt;
  }
  std::string out;
  auto add = [&out](std::string_view k, const json::value& v) {
    if (!out.empty()) out += '&';
    out += percent_encode(k) + "=" + percent_encode(scalar_text(v));
  };
  for (const auto& [k, v] : body.as_object()) {
    if (v.is_null()) continue;  // an absent optional field
    if (v.is_object()) {
      error = "body field \"" + std::string(k) + "\" cannot be an object in a form body";
      return std::nullopt;
    }
    if (!v.is_array()) {
      add(k, v);
      continue;
    }
    for (const auto& x : v.as_array()) {
      if (x.is_object() || x.is_array()) {
        error = "body field \"" + std::string(k) +
                "\" can only hold scalars in a form body (no nested arrays or objects)";
        return std::nullopt;
      }
      add(k, x);
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<HttpCall> build_call(const oa::Operation& op, std::string_view base_path,
                                   const json::object& arguments, std::string& error) {
  HttpCall call;
  call.method = op.method;
  std::string path = op.path;
  std::string query;
  for (const auto& [p, key] : sent_parameters(op)) {
    const json::value* v = arguments.if_contains(key);
    if (!v || v->is_null()) {
      if (p->required || p->in == "path") {
        error = "missing required argument \"" + key + "\" (" + p->in + " parameter)";
        return std::nullopt;
      }
      continue;
    }
    if (p->in == "path") {
      if (v->is_object() || v->is_array()) {
        error = "argument \"" + key + "\" must be a string, number or boolean";
        return std::nullopt;
      }
      std::string raw = scalar_text(*v);
      // The call goes through the gateway, whose path rules refuse an
      // encoded slash or backslash and resolve dot-segments: either would
      // let an argument change which path (and route) is called.
      if (raw.find_first_of("/\\") != std::string::npos || raw == "." || raw == "..") {
        error = "argument \"" + key +
                "\" cannot hold '/' or '\\' or be a dot-segment (path "
                "parameter)";
        return std::nullopt;
      }
      std::string token = "{" + p->name + "}";
      std::string value = percent_encode(raw);
      for (size_t at = path.find(token); at != std::string::npos;
           at = path.find(token, at + value.size()))
        path.replace(at, token.size(), value);
    } else if (p->in == "query") {
      // Arrays explode (form style, the OpenAPI default): k=a&k=b.
      const std::string& qname = p->name;  // (structured bindings are not captured)
      auto add = [&query, &qname](const json::value& x) {
        query += query.empty() ? '?' : '&';
        query += percent_encode(qname) + "=" + percent_encode(scalar_text(x));
      };
      if (v->is_array()) {
        for (const auto& x : v->as_array()) add(x);
      } else {
        add(*v);
      }
    } else if (p->in == "header") {
      std::string value = scalar_text(*v);
      if (value.find_first_of("\r\n") != std::string::npos) {
        error = "argument \"" + key + "\" cannot hold a line break (header parameter)";
        return std::nullopt;
      }
      call.headers.emplace_back(p->name, std::move(value));
    }
  }
  if (op.request_body) {
    const json::value* b = arguments.if_contains("body");
    if (!b || b->is_null()) {
      if (op.request_body->required) {
        error = "missing required argument \"body\" (request body)";
        return std::nullopt;
      }
    } else if (op.request_body->content.empty()) {
      call.body = json::serialize(*b);  // a body without media types: JSON, as clients assume
      call.headers.emplace_back("Content-Type", "application/json");
    } else {
      const oa::MediaType* m = body_media(*op.request_body);
      if (!m) {
        std::string offered;
        for (const auto& c : op.request_body->content)
          offered += (offered.empty() ? "" : ", ") + c.type;
        error = "the request body's media type (" + offered +
                ") cannot be sent by a tool call: JSON, " + std::string(kForm) + " or text/* only";
        return std::nullopt;
      }
      if (is_json(m->type)) {
        call.body = json::serialize(*b);
      } else if (m->type == kForm) {
        auto form = form_encode(*b, error);
        if (!form) return std::nullopt;
        call.body = std::move(*form);
      } else if (b->is_string()) {
        call.body = std::string(b->as_string());
      } else {
        error = "argument \"body\" must be a string (" + m->type + " request body)";
        return std::nullopt;
      }
      call.headers.emplace_back("Content-Type", m->type);
    }
  }
  std::string base(base_path);
  while (!base.empty() && base.back() == '/') base.pop_back();
  call.target = base + path + query;
  return call;
}

json::object to_result(int status, std::string_view content_type, std::string_view body,
                       bool structured) {
  bool ok = status >= 200 && status < 300;
  json::object r;
  std::string text =
      ok ? std::string(body)
         : "HTTP " + std::to_string(status) + (body.empty() ? "" : ": ") + std::string(body);
  r["content"] = json::array{json::object{{"type", "text"}, {"text", text}}};
  if (ok && is_json(content_type.substr(0, content_type.find(';')))) {
    boost::system::error_code ec;
    json::value v = parse_json(body, ec);
    if (!ec && v.is_object()) r["structuredContent"] = std::move(v);
  }
  if (ok && structured && !r.contains("structuredContent")) {
    // The tool promised structured output (its outputSchema): a success
    // without a JSON object cannot keep that promise, so it is a tool error.
    std::string why = "HTTP " + std::to_string(status) +
                      ": the API answered no JSON object, but the operation documents one";
    r["content"] = json::array{json::object{{"type", "text"}, {"text", why + "\n" + text}}};
    ok = false;
  }
  if (!ok) r["isError"] = true;
  return r;
}

json::object answer_result(const HttpAnswer& a, bool structured) {
  std::string_view type = std::string_view(a.content_type).substr(0, a.content_type.find(';'));
  if (a.status < 400 || type != "application/problem+json") {
    json::object r = to_result(a.status, a.content_type, a.body, structured);
    if (!a.retry_after.empty() && r.contains("isError")) {
      auto& text = r["content"].as_array()[0].as_object()["text"];
      std::string t(text.as_string());
      std::string lead = "HTTP " + std::to_string(a.status);
      if (t.starts_with(lead)) t.insert(lead.size(), " (Retry-After: " + a.retry_after + ")");
      text = t;
    }
    return r;
  }
  // A problem the gateway route made (its policies) or the API sent: the
  // code and detail lead the text, so the model reads why at once; the whole
  // problem document follows.
  boost::system::error_code ec;
  json::value p = parse_json(a.body, ec);
  std::string lead = "HTTP " + std::to_string(a.status);
  if (!ec && p.is_object()) {
    const json::object& o = p.as_object();
    const json::value* code = o.if_contains("code");
    const json::value* detail = o.if_contains("detail");
    if (!detail || !detail->is_string()) detail = o.if_contains("title");
    if (code && code->is_string()) lead += " " + std::string(code->as_string());
    if (detail && detail->is_string()) lead += ": " + std::string(detail->as_string());
  }
  if (!a.retry_after.empty()) lead += " (Retry-After: " + a.retry_after + ")";
  json::object r;
  r["content"] = json::array{json::object{{"type", "text"}, {"text", lead + "\n" + a.body}}};
  r["isError"] = true;
  return r;
}

}  // namespace gatehouse::mcp::openapi_tools
