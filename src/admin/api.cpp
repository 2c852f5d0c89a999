#include "admin/api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/mcp_registry.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "common/percent.hpp"
#include "common/strings.hpp"
#include "proxy/http_util.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') {
      ++i;
      continue;
    }
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.emplace_back(p.substr(i, j - i));
    i = j;
  }
  return out;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& vars) {
  auto ps = split_path(pattern), xs = split_path(path);
  if (ps.size() != xs.size()) return false;
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].size() > 2 && ps[i].front() == '{' && ps[i].back() == '}') {
      got[ps[i].substr(1, ps[i].size() - 2)] = percent_decode(xs[i], true);
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  vars = std::move(got);
  return true;
}

std::string_view title_of(int status) {
  return proxy::reason_phrase(status);
}

int rank(store::Role r) {
  switch (r) {
    case store::Role::kViewer:
      return 0;
    case store::Role::kEditor:
      return 1;
    case store::Role::kAdmin:
      return 2;
  }
  return 0;
}

}  // namespace

const std::string* ApiRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

std::vector<std::string> ApiRequest::params(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = part.find('=');
    std::string key = percent_decode(part.substr(0, eq), true);
    if (key != name) continue;
    out.push_back(eq == std::string_view::npos ? std::string()
                                               : percent_decode(part.substr(eq + 1), true));
  }
  return out;
}

std::optional<std::string> ApiRequest::param(std::string_view name) const {
  auto v = params(name);
  if (v.empty()) return std::nullopt;
  return v.front();
}

store::Store& Ctx::store() const {
  return *api.host().store;
}

Result<std::string> Ctx::workspace() const {
  auto ws = req.param("workspace");
  if (!who.workspace.empty()) {
    if (ws && *ws != who.workspace)
      return make_error("forbidden_workspace",
                        "this token is scoped to workspace \"" + who.workspace + "\"", "workspace",
                        403, ErrorSide::kDownstream);
    return who.workspace;
  }
  if (ws && !ws->empty()) return *ws;
  return std::string(store::kDefaultWorkspace);
}

Api::Api(ApiHost host) : host_(std::move(host)) {
  register_entity_routes(*this);
  register_credential_routes(*this);
  register_token_routes(*this);
  register_audit_routes(*this);
  register_config_routes(*this);
  register_api_routes(*this);
  register_cache_routes(*this);
  register_llm_usage_routes(*this);
  register_mcp_registry_routes(*this);
  register_openapi_routes(*this);
  if (!host_.mcp_registry)
    host_.mcp_registry = std::make_shared<McpRegistry>(McpRegistry::Host{host_.store, {}, {}});
}

Result<Principal> Api::authenticate(const ApiRequest& req) {
  const std::string* auth = req.header("authorization");
  auto unauthorized = [](std::string msg) {
    return make_error("unauthorized", std::move(msg), {}, 401, ErrorSide::kDownstream);
  };
  if (!auth) return unauthorized("an admin token is required (Authorization: Bearer TOKEN)");
  std::string_view a = *auth;
  if (a.size() < 7 || !iequals(a.substr(0, 7), "bearer "))
    return unauthorized("use Authorization: Bearer TOKEN");
  std::string_view token = a.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (!host_.store) {
    if (!host_.env_token.empty() && store::constant_time_equal(token, host_.env_token))
      return Principal{"token:GATEHOUSE_ADMIN_TOKEN", store::Role::kAdmin, ""};
    return unauthorized("invalid admin token");
  }
  auto t = host_.store->authenticate(token);
  if (!t) {
    Error e = t.error();
    if (e.status != 401) return e;
    return unauthorized(e.message);
  }
  return Principal{"token:" + t->name, t->role, t->workspace};
}

AdminResponse Api::handle(const ApiRequest& req) {
  std::map<std::string, std::string> vars;
  const Route* found = nullptr;
  std::string allow;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> v;
    if (!match_pattern(r.pattern, req.path, v)) continue;
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      found = &r;
      vars = std::move(v);
      break;
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (!found) {
    if (!allow.empty()) {
      auto resp =
          problem(405, "method_not_allowed", req.method + " is not allowed here; use " + allow);
      resp.headers.emplace_back("Allow", allow);
      return resp;
    }
    return problem(404, "not_found", "no admin resource at " + req.path);
  }
  Principal who{"anonymous", store::Role::kViewer, ""};
  bool open = found->pattern == "/api/v1/openapi.json";
  if (!open) {
    auto p = authenticate(req);
    if (!p) {
      auto resp = error_response(p.error());
      if (p.error().status == 401)
        resp.headers.emplace_back("WWW-Authenticate",
                                  req.header("authorization")
                                      ? "Bearer realm=\"gatehouse-admin\", error=\"invalid_token\""
                                      : "Bearer realm=\"gatehouse-admin\"");
      return resp;
    }
    who = std::move(p.value());
    if (rank(who.role) < rank(found->min_role))
      return problem(403, "forbidden",
                     "this token's role (" + std::string(store::role_name(who.role)) +
                         ") may not do this; it needs " +
                         std::string(store::role_name(found->min_role)));
  }
  if (found->writes && host_.file_mode)
    return problem(409, "config_managed_by_file",
                   "the config is managed by the file " + host_.file_path +
                       "; edit the file (or run without -c to manage it through the API)");
  if (!host_.store && found->pattern != "/api/v1/openapi.json" &&
      found->pattern != "/api/v1/config" && found->pattern != "/api/v1/status" &&
      !found->pattern.starts_with("/api/v1/cache"))
    return problem(503, "store_unavailable", "no config store is available");
  Ctx ctx{*this, req, std::move(who), std::move(vars)};
  try {
    return found->handler(ctx);
  } catch (const std::exception& ex) {
    log::error("admin api handler failed", {log::f("path", req.path), log::f("error", ex.what())});
    return problem(500, "internal_error", "internal error");
  }
}

AdminResponse json_response(int status, const json::value& v) {
  AdminResponse r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += '\n';
  return r;
}

AdminResponse problem(int status, std::string_view code, std::string_view detail,
                      std::string_view field) {
  json::object o;
  o["type"] = "https://gatehouse.dev/problems/" + std::string(code);
  o["title"] = title_of(status);
  o["status"] = status;
  o["detail"] = detail;
  o["code"] = code;
  if (!field.empty()) o["field"] = field;
  AdminResponse r = json_response(status, o);
  r.content_type = "application/problem+json";
  return r;
}

AdminResponse error_response(const Error& e, std::string_view target_kind,
                             std::string_view target_id, std::string_view field_prefix) {
  int status = e.status ? e.status : 500;
  std::string field = e.field;
  std::string detail = e.message;
  json::object entity;
  if (!e.file.empty()) {
    // "kind/id/name" from config_bridge: the entity the problem is in.
    auto s1 = e.file.find('/');
    auto s2 = s1 == std::string::npos ? s1 : e.file.find('/', s1 + 1);
    if (s2 != std::string::npos) {
      std::string kind = e.file.substr(0, s1), id = e.file.substr(s1 + 1, s2 - s1 - 1),
                  name = e.file.substr(s2 + 1);
      entity = json::object{{"kind", kind}, {"id", id}, {"name", name}};
      if (kind == target_kind && (target_id.empty() || id == target_id)) {
        field = std::string(field_prefix) + field;
      } else {
        field = kind + ":" + name + (field.empty() ? "" : "." + field);
        detail = kind + " \"" + name + "\": " + detail;
      }
    }
  }
  AdminResponse r = problem(status, e.code.empty() ? "error" : e.code, detail, field);
  if (!entity.empty()) {
    auto v = parse_json(r.body);
    v.get_object()["entity"] = entity;
    r.body = json::serialize(v) + "\n";
  }
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Result<json::value> parse_json_body(const ApiRequest& req) {
  if (req.body.empty())
    return make_error("invalid_body", "a JSON request body is required", {}, 400,
                      ErrorSide::kDownstream);
  boost::system::error_code ec;
  json::value v = parse_json(req.body, ec);
  if (ec)
    return make_error("invalid_json", "the body is not valid JSON: " + ec.message(), {}, 400,
                      ErrorSide::kDownstream);
  return v;
}

std::string etag(int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

Result<int64_t> if_match(const ApiRequest& req) {
  const std::string* h = req.header("if-match");
  if (!h) return int64_t{0};
  std::string_view v = *h;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v == "*") return int64_t{0};
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 3 && v.front() == '"' && v.back() == '"') {
    std::string n(v.substr(1, v.size() - 2));
    if (n.size() <= 18 && n.find_first_not_of("0123456789") == std::string::npos)
      return static_cast<int64_t>(std::stoll(n));
  }
  return make_error("invalid_if_match", "If-Match must be an ETag this API sent, e.g. \"3\"",
                    "If-Match", 400, ErrorSide::kDownstream);
}

Result<size_t> limit_param(const ApiRequest& req) {
  auto l = req.param("limit");
  if (!l) return size_t{100};
  if (l->empty() || l->size() > 4 || l->find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(*l) < 1 || std::stoul(*l) > 1000)
    return make_error("invalid_query", "limit must be 1..1000", "limit", 400,
                      ErrorSide::kDownstream);
  return static_cast<size_t>(std::stoul(*l));
}

bool is_uuid(std::string_view s) {
  return store::normalize_uuid(s).has_value();
}

void merge_patch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  auto& t = target.get_object();
  for (const auto& kv : patch.get_object()) {
    if (kv.value().is_null()) {
      t.erase(kv.key());
    } else {
      merge_patch(t[kv.key()], kv.value());
    }
  }
}

}  // namespace gatehouse::admin
