// /api/v1/{upstreams,routes,consumers,policies} and /api/v1/llm/{providers,
// models}: the config resources share one handler set, parameterised by kind:
// they differ only in their body, which the config validator
// (config_bridge.cpp) checks. LLM providers and models are node-wide (default
// workspace only); the --settings file's are listed read-only beside them.
#include <boost/json/serialize.hpp>

#include "admin/api.hpp"
#include "admin/certificates.hpp"
#include "admin/config_bridge.hpp"
#include "admin/llm_entities.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;
using store::Ref;

namespace {

Ref ref_for(const std::string& kind, const std::string& ws, const std::string& key) {
  if (auto id = store::normalize_uuid(key)) return Ref::by_id(kind, *id, ws);
  return Ref::by_name(kind, key, ws);
}

// LLM providers, models and server certificates belong to the node, not to
// a workspace: they live in the default one only.
bool is_node_wide(const std::string& kind) {
  return is_llm_kind(kind) || kind == kCertificateKind;
}

// The request's workspace; node-wide entities exist in the default one only.
Result<std::string> kind_workspace(Ctx& c, const std::string& kind) {
  auto ws = c.workspace();
  if (ws && is_node_wide(kind) && *ws != store::kDefaultWorkspace)
    return make_error("node_wide",
                      kind == kCertificateKind
                          ? "certificates are node-wide: they live in workspace \"default\""
                          : "LLM providers and models are node-wide: they live in workspace "
                            "\"default\"",
                      "workspace", 400, ErrorSide::kDownstream);
  return ws;
}

std::string_view llm_section(const std::string& kind) {
  return kind == kLlmProviderKind ? "providers" : "models";
}

// The --settings file's item of that name, if any (LLM kinds only).
std::optional<json::object> settings_item(Ctx& c, const std::string& kind,
                                          const std::string& name) {
  if (!is_llm_kind(kind)) return std::nullopt;
  for (auto& v : settings_items(c.api.host().settings_llm, llm_section(kind)))
    if (auto* n = v.get_object().if_contains("name");
        n && n->is_string() && n->get_string() == name)
      return std::move(v.get_object());
  return std::nullopt;
}

AdminResponse settings_owned(const std::string& kind, const std::string& name) {
  return problem(409, "managed_by_settings",
                 kind + " \"" + name +
                     "\" comes from the --settings file; edit the file and restart to change it",
                 "name");
}

AdminResponse entity_response(int status, const Entity& e) {
  auto r = json_response(status, entity_to_json(e, true));
  r.headers.emplace_back("ETag", etag(e.version));
  if (status == 201) r.headers.emplace_back("Location", "/api/v1/" + plural(e.kind) + "/" + e.id);
  return r;
}

// The workspace a body names, checked against the token; else the request's.
Result<std::string> body_workspace(Ctx& c, const json::object& body) {
  auto ws = c.workspace();
  if (!ws) return ws;
  if (auto* w = body.if_contains("workspace"); w && w->is_string()) {
    std::string b(w->get_string());
    if (!c.who.workspace.empty() && b != c.who.workspace)
      return make_error("forbidden_workspace",
                        "this token is scoped to workspace \"" + c.who.workspace + "\"",
                        "workspace", 403, ErrorSide::kDownstream);
    return b;
  }
  return ws;
}

Result<json::object> body_object(Ctx& c) {
  auto v = parse_json_body(c.req);
  if (!v) return v.error();
  if (!v->is_object())
    return make_error("invalid_body", "the body must be a JSON object", {}, 400,
                      ErrorSide::kDownstream);
  return std::move(v->get_object());
}

AdminResponse list(Ctx& c, const std::string& kind) {
  auto ws = kind_workspace(c, kind);
  if (!ws) return error_response(ws.error());
  auto limit = limit_param(c.req);
  if (!limit) return error_response(limit.error());
  json::array items;
  std::string next;
  if (auto name = c.req.param("name")) {
    auto e = c.store().get(Ref::by_name(kind, *name, *ws));
    if (e)
      items.push_back(entity_to_json(*e, true));
    else if (e.error().status != 404)
      return error_response(e.error());
    else if (auto s = settings_item(c, kind, *name))
      items.push_back(std::move(*s));
  } else {
    store::ListQuery q;
    q.kind = kind;
    q.workspace = *ws;
    q.name_prefix = c.req.param("name_prefix").value_or("");
    for (const auto& t : c.req.params("tag")) {
      size_t i = 0;
      while (i <= t.size()) {
        size_t j = t.find(',', i);
        if (j == std::string::npos) j = t.size();
        if (j > i) q.tags.push_back(t.substr(i, j - i));
        i = j + 1;
      }
    }
    q.limit = *limit;
    q.cursor = c.req.param("cursor").value_or("");
    auto page = c.store().list(q);
    if (!page) return error_response(page.error());
    for (const auto& e : page->items) items.push_back(entity_to_json(e, true));
    next = page->next_cursor;
    // The settings file's come first, on the first page (they are few and
    // not in the store, so they take no part in the cursor).
    if (is_llm_kind(kind) && q.cursor.empty()) {
      json::array all;
      for (auto& v : settings_items(c.api.host().settings_llm, llm_section(kind))) {
        auto* n = v.get_object().if_contains("name");
        if (n && n->is_string() && n->get_string().starts_with(q.name_prefix) && q.tags.empty())
          all.push_back(std::move(v));
      }
      for (auto& v : items) all.push_back(std::move(v));
      items = std::move(all);
    }
  }
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = next.empty() ? json::value(nullptr) : json::value(next);
  return json_response(200, out);
}

AdminResponse get_one(Ctx& c, const std::string& kind) {
  auto ws = kind_workspace(c, kind);
  if (!ws) return error_response(ws.error());
  auto e = c.store().get(ref_for(kind, *ws, c.vars["id"]));
  if (!e && e.error().status == 404)
    if (auto s = settings_item(c, kind, c.vars["id"])) return json_response(200, *s);
  if (!e) return error_response(e.error());
  return entity_response(200, *e);
}

AdminResponse commit_and_answer(Ctx& c, store::Transaction& tx, const Entity& e, int status) {
  auto res = tx.commit();
  if (!res) return error_response(res.error(), e.kind, e.id);
  auto got = c.store().get(Ref::by_id(e.kind, e.id, e.workspace));
  if (!got) return error_response(got.error());
  return entity_response(status, *got);
}

AdminResponse create(Ctx& c, const std::string& kind) {
  auto body = body_object(c);
  if (!body) return error_response(body.error());
  auto ws = body_workspace(c, *body);
  if (ws && is_node_wide(kind) && *ws != store::kDefaultWorkspace) ws = kind_workspace(c, kind);
  if (!ws) return error_response(ws.error());
  auto e = entity_from_json(kind, *body);
  if (!e) return error_response(e.error());
  if (settings_item(c, kind, e->name)) return settings_owned(kind, e->name);
  e->workspace = *ws;
  if (e->id.empty()) e->id = store::new_uuid();
  if (auto n = normalize_for_write(*e, nullptr); !n) return error_response(n.error());
  auto tx = c.store().begin(c.who.actor);
  tx.create(*e);
  return commit_and_answer(c, tx, *e, 201);
}

AdminResponse replace_once(Ctx& c, const std::string& kind, bool patch);

// A PATCH without If-Match re-reads and retries when another writer changed
// the entity between its read and its commit; with If-Match the client asked
// for that version only.
AdminResponse replace(Ctx& c, const std::string& kind, bool patch) {
  for (int attempt = 0;; ++attempt) {
    AdminResponse r = replace_once(c, kind, patch);
    if (!patch || r.status != 412 || c.req.header("if-match") || attempt == 2) return r;
  }
}

AdminResponse replace_once(Ctx& c, const std::string& kind, bool patch) {
  auto ws = kind_workspace(c, kind);
  if (!ws) return error_response(ws.error());
  auto expected = if_match(c.req);
  if (!expected) return error_response(expected.error());
  const std::string& key = c.vars["id"];
  auto existing = c.store().get(ref_for(kind, *ws, key));
  if (!existing && existing.error().status != 404) return error_response(existing.error());
  if (!existing && settings_item(c, kind, key)) return settings_owned(kind, key);
  if (patch && !existing) return error_response(existing.error());
  auto raw = parse_json_body(c.req);
  if (!raw) return error_response(raw.error());
  json::value doc;
  if (patch) {
    doc = entity_to_json(*existing, false);
    merge_patch(doc, *raw);
  } else {
    doc = std::move(*raw);
  }
  if (!doc.is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  auto& obj = doc.get_object();
  if (patch) obj.erase("workspace");  // moving between workspaces is delete + create
  auto e = entity_from_json(kind, obj);
  if (!e) return error_response(e.error());
  e->workspace = *ws;
  if (existing) {
    if (!e->id.empty() && store::normalize_uuid(e->id) != existing->id)
      return problem(400, "invalid_entity", "the body's id differs from the resource's", "id");
    e->id = existing->id;
    if (!patch && !obj.contains("name")) e->name = existing->name;
    // Credentials have their own resource; a consumer PUT without them keeps them.
    if (kind == "consumer" && !obj.contains("credentials") && existing->body.is_object())
      if (auto* creds = existing->body.get_object().if_contains("credentials"))
        e->body.get_object()["credentials"] = *creds;
    if (auto n = normalize_for_write(*e, &*existing); !n) return error_response(n.error());
    auto tx = c.store().begin(c.who.actor);
    tx.update(*e, *expected ? *expected : (patch ? existing->version : 0));
    return commit_and_answer(c, tx, *e, 200);
  }
  if (*expected)
    return problem(412, "version_conflict",
                   "If-Match names a version of a resource that does not exist");
  // PUT to a missing resource creates it under that id or name.
  if (auto id = store::normalize_uuid(key)) {
    e->id = *id;
  } else {
    if (!e->name.empty() && e->name != key)
      return problem(400, "invalid_entity", "the body's name differs from the URL's", "name");
    e->name = key;
    if (e->id.empty()) e->id = store::new_uuid();
  }
  if (auto n = normalize_for_write(*e, nullptr); !n) return error_response(n.error());
  auto tx = c.store().begin(c.who.actor);
  tx.create(*e);
  return commit_and_answer(c, tx, *e, 201);
}

AdminResponse remove(Ctx& c, const std::string& kind) {
  auto ws = kind_workspace(c, kind);
  if (!ws) return error_response(ws.error());
  auto expected = if_match(c.req);
  if (!expected) return error_response(expected.error());
  auto existing = c.store().get(ref_for(kind, *ws, c.vars["id"]));
  if (!existing && existing.error().status == 404 && settings_item(c, kind, c.vars["id"]))
    return settings_owned(kind, c.vars["id"]);
  if (!existing) return error_response(existing.error());
  auto tx = c.store().begin(c.who.actor);
  tx.remove(Ref::by_id(kind, existing->id, *ws), *expected);
  auto res = tx.commit();
  if (!res && is_llm_kind(kind) &&
      (res.error().code == "unknown_provider" || res.error().code == "unknown_model")) {
    // Something still names it (a model's target, a fallback, a route, a
    // consumer's allow-list): the error points there.
    Error e = res.error();
    e.status = 409;
    e.code = "in_use";
    e.message = kind + " \"" + existing->name + "\" is in use (" + e.message + ")";
    return error_response(e, kind, existing->id);
  }
  if (!res) return error_response(res.error(), kind, existing->id);
  AdminResponse r;
  r.status = 204;
  return r;
}

// Re-seals every stored provider secret under the current key (the first of
// --secret-key-file), so an old key can then be dropped. One commit.
AdminResponse rekey(Ctx& c) {
  const auto& ring = secrets::process_keyring();
  if (!ring.current())
    return problem(409, "secret_key_missing",
                   "no key-encryption key: start with --secret-key-file or GATEHOUSE_SECRET_KEY");
  auto tx = c.store().begin(c.who.actor);
  size_t changed = 0;
  // Provider secrets and certificate keys share the keyring.
  for (std::string_view kind : {kLlmProviderKind, kCertificateKind}) {
    store::ListQuery q;
    q.kind = std::string(kind);
    q.workspace = store::kDefaultWorkspace;
    q.limit = 1000;
    for (;;) {
      auto page = c.store().list(q);
      if (!page) return error_response(page.error());
      for (auto e : page->items) {
        auto r =
            e.kind == kCertificateKind ? reseal_certificate(e, ring) : reseal_provider(e, ring);
        if (!r) return error_response(r.error(), e.kind, e.id);
        if (!*r) continue;
        tx.update(e, e.version);
        ++changed;
      }
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
  }
  if (changed) {
    auto res = tx.commit();
    if (!res) return error_response(res.error());
  }
  return json_response(200, json::object{{"key_id", ring.current()->id}, {"resealed", changed}});
}

}  // namespace

void register_entity_routes(Api& api) {
  using store::Role;
  std::vector<std::string_view> kinds(std::begin(kConfigKinds), std::end(kConfigKinds));
  kinds.insert(kinds.end(), std::begin(kLlmKinds), std::end(kLlmKinds));
  kinds.push_back(kCertificateKind);
  for (auto kv : kinds) {
    std::string kind(kv);
    std::string base = "/api/v1/" + plural(kind);
    std::string tag = is_llm_kind(kind) ? "llm" : plural(kind);
    api.add({"GET", base, Role::kViewer, false,
             "List " + plural(kind) + " (?limit, cursor, name, name_prefix, tag)", tag,
             [kind](Ctx& c) { return list(c, kind); }});
    api.add({"POST", base, Role::kEditor, true, "Create a " + kind, tag,
             [kind](Ctx& c) { return create(c, kind); }});
    api.add({"GET", base + "/{id}", Role::kViewer, false, "Get a " + kind + " by id or name", tag,
             [kind](Ctx& c) { return get_one(c, kind); }});
    api.add({"PUT", base + "/{id}", Role::kEditor, true,
             "Replace (or create) a " + kind + "; If-Match honoured", tag,
             [kind](Ctx& c) { return replace(c, kind, false); }});
    api.add({"PATCH", base + "/{id}", Role::kEditor, true,
             "Update a " + kind + " with a JSON merge patch (RFC 7396); If-Match honoured", tag,
             [kind](Ctx& c) { return replace(c, kind, true); }});
    api.add({"DELETE", base + "/{id}", Role::kEditor, true,
             "Delete a " + kind + "; If-Match honoured", tag,
             [kind](Ctx& c) { return remove(c, kind); }});
  }
  api.add({"POST", "/api/v1/llm/rekey", Role::kAdmin, true,
           "Re-encrypt every stored provider secret and certificate key under the current "
           "key-encryption key",
           "llm", rekey});
}

}  // namespace gatehouse::admin
