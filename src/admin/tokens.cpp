// /api/v1/tokens: admin tokens (admin role). A created token's secret is in
// the 201 response only; the store keeps its SHA-256.
#include "admin/api.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

json::object token_json(const store::AdminToken& t) {
  return json::object{
      {"id", t.id},
      {"name", t.name},
      {"role", store::role_name(t.role)},
      {"workspace", t.workspace.empty() ? json::value(nullptr) : json::value(t.workspace)},
      {"created_by", t.created_by},
      {"created_at", t.created_at},
      {"expires_at", t.expires_at ? json::value(t.expires_at) : json::value(nullptr)},
      {"revoked_at", t.revoked_at ? json::value(t.revoked_at) : json::value(nullptr)}};
}

bool visible(const Principal& who, const store::AdminToken& t) {
  return who.workspace.empty() || t.workspace == who.workspace;
}

AdminResponse list(Ctx& c) {
  auto tokens = c.store().list_tokens();
  if (!tokens) return error_response(tokens.error());
  json::array items;
  for (const auto& t : *tokens)
    if (visible(c.who, t)) items.push_back(token_json(t));
  return json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
}

AdminResponse create(Ctx& c) {
  auto v = parse_json_body(c.req);
  if (!v) return error_response(v.error());
  if (!v->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  const auto& o = v->get_object();
  for (const auto& kv : o)
    if (kv.key() != "name" && kv.key() != "role" && kv.key() != "workspace" &&
        kv.key() != "expires_at")
      return problem(400, "unknown_field", "unknown field \"" + std::string(kv.key()) + "\"",
                     std::string(kv.key()));
  auto* name = o.if_contains("name");
  if (!name || !name->is_string() || name->get_string().empty())
    return problem(400, "missing_field", "a token needs a name", "name");
  store::Role role = store::Role::kViewer;
  if (auto* r = o.if_contains("role")) {
    auto parsed = r->is_string() ? store::parse_role(r->get_string()) : std::nullopt;
    if (!parsed)
      return problem(400, "invalid_value", "role must be admin, editor or viewer", "role");
    role = *parsed;
  }
  std::string ws;
  if (auto* w = o.if_contains("workspace"); w && !w->is_null()) {
    if (!w->is_string())
      return problem(400, "invalid_value", "workspace must be a string", "workspace");
    ws = w->get_string();
  }
  // A workspace admin can only mint tokens for its own workspace.
  if (!c.who.workspace.empty()) {
    if (!ws.empty() && ws != c.who.workspace)
      return problem(403, "forbidden_workspace",
                     "this token is scoped to workspace \"" + c.who.workspace + "\"", "workspace");
    ws = c.who.workspace;
  }
  int64_t expires = 0;
  if (auto* e = o.if_contains("expires_at"); e && !e->is_null()) {
    if (!e->is_int64() || e->get_int64() <= store::now_ms())
      return problem(400, "invalid_value", "expires_at must be a future time in unix milliseconds",
                     "expires_at");
    expires = e->get_int64();
  }
  auto t = c.store().create_token(c.who.actor, std::string(name->get_string()), role, ws, expires);
  if (!t) return error_response(t.error());
  json::object out = token_json(t->token);
  out["token"] = t->secret;
  auto r = json_response(201, out);
  r.headers.emplace_back("Location", "/api/v1/tokens/" + t->token.id);
  return r;
}

AdminResponse revoke(Ctx& c) {
  auto tokens = c.store().list_tokens();
  if (!tokens) return error_response(tokens.error());
  const std::string& id = c.vars["id"];
  bool found = false;
  for (const auto& t : *tokens)
    if (t.id == id && visible(c.who, t)) found = true;
  if (!found) return problem(404, "not_found", "admin token " + id + " not found");
  if (auto r = c.store().revoke_token(c.who.actor, id); !r) return error_response(r.error());
  AdminResponse r;
  r.status = 204;
  return r;
}

}  // namespace

void register_token_routes(Api& api) {
  using store::Role;
  api.add({"GET", "/api/v1/tokens", Role::kAdmin, false, "List admin tokens (never their secrets)",
           "tokens", list});
  api.add({"POST", "/api/v1/tokens", Role::kAdmin, true,
           "Create an admin token {name, role, workspace?, expires_at?}; the secret is shown once",
           "tokens", create});
  api.add({"DELETE", "/api/v1/tokens/{id}", Role::kAdmin, true, "Revoke an admin token", "tokens",
           revoke});
}

}  // namespace gatehouse::admin
