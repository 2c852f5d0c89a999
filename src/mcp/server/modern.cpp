#include "mcp/server/modern.hpp"

#include <cctype>

#include "common/json.hpp"
#include "mcp/upstream/upstream.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::mcp::modern {

std::vector<std::string> supported_versions() {
  std::vector<std::string> v{std::string(kVersion)};
  for (const char* s : kSupportedVersions) v.emplace_back(s);
  return v;
}

bool is_modern_version(std::string_view v) {
  // Dated revisions compare as strings; anything from 2026-07-28 on is of
  // the per-request-metadata era (a later one we do not speak is refused
  // with -32022 rather than taken for legacy).
  return v.size() == 10 && v >= kVersion;
}

std::optional<std::string> body_version(const jsonrpc::Message& msg) {
  const json::object* p = msg.params();
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  const json::value* v =
      meta && meta->is_object() ? meta->as_object().if_contains(kMetaVersion) : nullptr;
  if (!v) return std::nullopt;
  return v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::string> decode_header_value(std::string_view v) {
  constexpr std::string_view kOpen = "=?base64?", kClose = "?=";
  if (v.size() >= kOpen.size() + kClose.size() && v.starts_with(kOpen) && v.ends_with(kClose)) {
    std::string_view enc = v.substr(kOpen.size(), v.size() - kOpen.size() - kClose.size());
    // Standard alphabet with its padding, strictly: a value cut short or
    // carrying other characters is not taken for something else.
    if (enc.size() % 4 != 0) return std::nullopt;
    size_t pad = enc.find('=');
    if (pad != std::string_view::npos &&
        (enc.size() - pad > 2 || enc.find_first_not_of('=', pad) != std::string_view::npos))
      return std::nullopt;
    for (unsigned char c : enc.substr(0, pad))
      if (!std::isalnum(c) && c != '+' && c != '/') return std::nullopt;
    bool ok = false;
    std::string out = policy::base64_decode(enc, false, &ok);
    if (!ok) return std::nullopt;
    return out;
  }
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c > 0x7e) return std::nullopt;
  return std::string(v);
}

namespace {
std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}
}  // namespace

std::string check_headers(const jsonrpc::Message& msg, const Headers& h) {
  std::optional<std::string> body_v = body_version(msg);
  if (!h.protocol_version) return "the MCP-Protocol-Version header is required";
  if (!body_v)
    return "the body has no _meta[\"" + std::string(kMetaVersion) +
           "\"] for MCP-Protocol-Version " + quoted(*h.protocol_version);
  if (*body_v != *h.protocol_version)
    return "MCP-Protocol-Version header value " + quoted(*h.protocol_version) +
           " does not match body value " + quoted(*body_v);
  if (!msg.is_request()) return {};  // notification POSTs: no header rules (2026-07-28)
  if (!h.method) return "the Mcp-Method header is required";
  if (*h.method != msg.method)
    return "Mcp-Method header value " + quoted(*h.method) + " does not match body value " +
           quoted(msg.method);
  // SEP-2663: tasks/get, tasks/update and tasks/cancel name their task.
  bool task =
      msg.method == "tasks/get" || msg.method == "tasks/update" || msg.method == "tasks/cancel";
  std::string_view key = msg.method == "resources/read" ? "uri" : task ? "taskId" : "name";
  if (msg.method != "tools/call" && msg.method != "prompts/get" && msg.method != "resources/read" &&
      !task)
    return {};
  if (!h.name) return "the Mcp-Name header is required for " + msg.method;
  std::optional<std::string> name = decode_header_value(*h.name);
  if (!name) return "the Mcp-Name header value is not valid header text or base64";
  const json::object* p = msg.params();
  const json::value* v = p ? p->if_contains(key) : nullptr;
  std::string body = v && v->is_string() ? std::string(v->as_string()) : std::string();
  if (*name != body)
    return "Mcp-Name header value " + quoted(*name) + " does not match body value " + quoted(body);
  return {};
}

std::string check_meta(const jsonrpc::Message& msg) {
  const json::object* p = msg.params();
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  if (!meta || !meta->is_object()) return "params._meta is required (MCP 2026-07-28)";
  const json::object& m = meta->as_object();
  const json::value* v = m.if_contains(kMetaVersion);
  if (!v || !v->is_string())
    return "params._meta[\"" + std::string(kMetaVersion) + "\"] (a string) is required";
  const json::value* c = m.if_contains(kMetaCapabilities);
  if (!c || !c->is_object())
    return "params._meta[\"" + std::string(kMetaCapabilities) + "\"] (an object) is required";
  return {};
}

bool removed_method(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "logging/setLevel" ||
         method == "resources/subscribe" || method == "resources/unsubscribe";
}

namespace {
bool cacheable(std::string_view method) {
  return method == "server/discover" || method == "tools/list" || method == "prompts/list" ||
         method == "resources/list" || method == "resources/templates/list" ||
         method == "resources/read";
}
}  // namespace

std::string shape_result(std::string_view body, std::string_view method, bool private_scope) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  json::object* o = ec ? nullptr : v.if_object();
  json::value* r = o ? o->if_contains("result") : nullptr;
  if (!r || !r->is_object()) return std::string(body);
  json::object& result = r->as_object();
  if (!result.contains("resultType")) result["resultType"] = "complete";
  // Interim (input_required) results are not cacheable and carry no hints.
  const json::value* type = result.if_contains("resultType");
  bool complete = type->is_string() && type->as_string() == "complete";
  if (complete && cacheable(method)) {
    // The gateway does not know how long an upstream's list stays as it is
    // (list_changed may come at any time): immediately stale, so a client
    // asks again and the gateway's own list cache answers.
    if (!result.contains("ttlMs")) result["ttlMs"] = 0;
    if (!result.contains("cacheScope")) result["cacheScope"] = private_scope ? "private" : "public";
  }
  return json::serialize(v);
}

std::string check_param_headers(const json::object& tool, const json::object* arguments,
                                const std::function<const std::string*(std::string_view)>& header) {
  const json::value* schema = tool.if_contains("inputSchema");
  const json::value* props =
      schema && schema->is_object() ? schema->as_object().if_contains("properties") : nullptr;
  if (!props || !props->is_object()) return {};
  for (const auto& [param, def] : props->as_object()) {
    const json::value* h = def.is_object() ? def.as_object().if_contains("x-mcp-header") : nullptr;
    if (!h || !h->is_string() || h->as_string().empty()) continue;
    std::string name = "Mcp-Param-" + std::string(h->as_string());
    const json::value* arg = arguments ? arguments->if_contains(param) : nullptr;
    if (arg && arg->is_null()) arg = nullptr;
    const std::string* got = header(name);
    if (!got && !arg) continue;
    if (!got)
      return "the " + name + " header is required when arguments." + std::string(param) +
             " is given";
    if (!arg)
      return "the " + name + " header is given but arguments." + std::string(param) + " is not";
    std::optional<std::string> decoded = decode_header_value(*got);
    if (!decoded) return "the " + name + " header value is not valid header text or base64";
    // The body's value as the client wrote it into the header: strings as
    // they are, numbers and booleans as JSON text.
    std::string body = arg->is_string() ? std::string(arg->as_string())
                       : arg->is_int64() || arg->is_uint64() || arg->is_bool()
                           ? json::serialize(*arg)
                           : std::string();
    if (!arg->is_string() && body.empty() && arg->is_double()) {
      double d = arg->as_double();
      body = d == static_cast<double>(static_cast<int64_t>(d))
                 ? std::to_string(static_cast<int64_t>(d))
                 : json::serialize(*arg);
    }
    if (*decoded != body)
      return name + " header value " + quoted(*decoded) + " does not match body value " +
             quoted(body);
  }
  return {};
}

namespace {
// RFC 5424 severities, least severe first (the MCP LoggingLevel).
int severity(const json::value* v) {
  static constexpr std::string_view kLevels[] = {"debug", "info",     "notice", "warning",
                                                 "error", "critical", "alert",  "emergency"};
  if (!v || !v->is_string()) return -1;
  for (int i = 0; i < 8; ++i)
    if (v->as_string() == kLevels[i]) return i;
  return -1;
}
const json::value* log_level(const jsonrpc::Message& req) {
  const json::object* p = req.params();
  const json::value* meta = p ? p->if_contains("_meta") : nullptr;
  return meta && meta->is_object() ? meta->as_object().if_contains(kMetaLogLevel) : nullptr;
}
}  // namespace

bool wants_logs(const jsonrpc::Message& req) {
  return severity(log_level(req)) >= 0;
}

bool note_wanted(const jsonrpc::Message& req, const json::object& note) {
  const json::value* m = note.if_contains("method");
  if (!m || !m->is_string() || m->as_string() != "notifications/message") return true;
  int wanted = severity(log_level(req));
  if (wanted < 0) return false;
  const json::value* p = note.if_contains("params");
  int level = severity(p && p->is_object() ? p->as_object().if_contains("level") : nullptr);
  return level >= wanted;
}

json::object discover_result() {
  json::array versions;
  for (const auto& v : supported_versions()) versions.emplace_back(v);
  json::object r;
  r["resultType"] = "complete";
  r["supportedVersions"] = std::move(versions);
  r["capabilities"] = json::object{{"tools", json::object{{"listChanged", true}}},
                                   {"resources", json::object{{"listChanged", true}}},
                                   {"prompts", json::object{{"listChanged", true}}}};
  r["capabilities"].as_object()["completions"] = json::object{};
  // The tasks extension (server/tasks.hpp), done by the gateway itself.
  r["capabilities"].as_object()["extensions"] =
      json::object{{"io.modelcontextprotocol/tasks", json::object{}}};
  json::object info{{"name", kClientName}, {"version", mcp::kVersion}};
  r["_meta"] = json::object{{kMetaServerInfo, info}};
  r["serverInfo"] = std::move(info);  // where clients before spec PR #3002 look
  return r;
}

std::optional<ListenFilter> ListenFilter::parse(const json::object* params, std::string& error) {
  const json::value* n = params ? params->if_contains("notifications") : nullptr;
  if (!n || !n->is_object()) {
    error = "params.notifications (an object) is required";
    return std::nullopt;
  }
  ListenFilter f;
  for (const auto& [k, v] : n->as_object()) {
    bool* slot = k == "toolsListChanged"       ? &f.tools
                 : k == "promptsListChanged"   ? &f.prompts
                 : k == "resourcesListChanged" ? &f.resources
                                               : nullptr;
    if (slot) {
      if (!v.is_bool()) {
        error = "params.notifications." + std::string(k) + " must be a boolean";
        return std::nullopt;
      }
      *slot = v.as_bool();
    }
  }
  return f;
}

json::object ListenFilter::acknowledged() const {
  json::object o;
  if (tools) o["toolsListChanged"] = true;
  if (prompts) o["promptsListChanged"] = true;
  if (resources) o["resourcesListChanged"] = true;
  return o;
}

bool ListenFilter::wants(std::string_view method) const {
  return (tools && method == "notifications/tools/list_changed") ||
         (prompts && method == "notifications/prompts/list_changed") ||
         (resources && method == "notifications/resources/list_changed");
}

std::string stamp(json::object note, const json::value& listen_id) {
  json::value& params = note["params"];
  if (!params.is_object()) params = json::object{};
  json::value& meta = params.as_object()["_meta"];
  if (!meta.is_object()) meta = json::object{};
  meta.as_object()[kMetaSubscription] =
      listen_id.is_string() ? listen_id.as_string() : json::string(json::serialize(listen_id));
  return json::serialize(note);
}

}  // namespace gatehouse::mcp::modern
