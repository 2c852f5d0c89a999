// /api/v1/apis: APIs as assets. An `api` entity (owner team, tags), its
// `api_version` entities (state, upstream settings, deployed revision) and
// immutable `api_revision` entities naming an OpenAPI document kept in the
// store's api_documents table. Deploying a revision turns its operations into
// routes (src/apim/openapi/to_routes) owned by the tag "api:NAME@VERSION" and
// commits them with the version in one transaction, through the same
// validator as every other config change; rollback deploys an earlier one.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/api.hpp"
#include "admin/apis_internal.hpp"
#include "admin/config_bridge.hpp"
#include "apim/lifecycle.hpp"
#include "apim/openapi/diff.hpp"
#include "apim/openapi/loader.hpp"
#include "apim/openapi/to_routes.hpp"
#include "apim/spec_set.hpp"
#include "common/json.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
using store::Entity;
using store::Ref;
namespace oa = apim::openapi;

namespace apis_detail {

std::string str(const json::value& body, std::string_view key) {
  if (!body.is_object()) return {};
  auto* v = body.get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t num(const json::value& body, std::string_view key) {
  if (!body.is_object()) return 0;
  auto* v = body.get_object().if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

bool flag(const json::value& body, std::string_view key) {
  if (!body.is_object()) return false;
  auto* v = body.get_object().if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

std::string owner_tag(const std::string& api, const std::string& version) {
  return "api:" + api + "@" + version;
}

json::object meta(const Entity& e) {
  return json::object{{"id", e.id},
                      {"created_at", e.created_at},
                      {"updated_at", e.updated_at},
                      {"etag", e.version}};
}

json::object api_view(const Entity& e) {
  json::object o = meta(e);
  o["name"] = e.name;
  json::array tags;
  for (const auto& t : e.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  o["owner_team"] = str(e.body, "owner_team");
  o["description"] = str(e.body, "description");
  return o;
}

json::object version_view(const Entity& e) {
  json::object o = meta(e);
  for (const auto& kv : e.body.get_object()) o[kv.key()] = kv.value();
  if (auto st = apim::parse_state(str(e.body, "state"))) {
    json::array next;
    for (auto s : apim::next_states(*st)) next.emplace_back(apim::state_name(s));
    o["next_states"] = std::move(next);
  }
  return o;
}

json::object revision_view(const Entity& e) {
  json::object o = meta(e);
  for (const auto& kv : e.body.get_object()) o[kv.key()] = kv.value();
  return o;
}

AdminResponse fail(const Error& e) {
  return error_response(e);
}

Error bad(std::string code, std::string message, std::string field, int status) {
  return make_error(std::move(code), std::move(message), std::move(field), status,
                    ErrorSide::kDownstream);
}

// A problem in the OpenAPI document: the JSON pointer and line:column.
AdminResponse document_problem(const Error& e) {
  std::string detail = e.message;
  if (e.line > 0)
    detail += " (line " + std::to_string(e.line) + ", column " + std::to_string(e.column) + ")";
  AdminResponse r = problem(400, e.code, detail, "document" + e.field);
  auto v = parse_json(r.body);
  auto& o = v.get_object();
  o["pointer"] = e.field;
  if (e.line > 0) {
    o["line"] = e.line;
    o["column"] = e.column;
  }
  r.body = json::serialize(v) + "\n";
  return r;
}

Result<Loaded> load(Ctx& c, bool with_version) {
  Loaded l;
  auto ws = c.workspace();
  if (!ws) return ws.error();
  l.ws = *ws;
  auto api = c.store().get(Ref::by_name("api", c.vars["api"], l.ws));
  if (!api) return api.error();
  l.api = std::move(*api);
  if (with_version) {
    auto v = c.store().get(Ref::by_name("api_version", l.api.name + "@" + c.vars["version"], l.ws));
    if (!v) return v.error();
    l.version = std::move(*v);
  }
  return l;
}

Result<Entity> get_revision(Ctx& c, const Loaded& l, int64_t n) {
  return c.store().get(Ref::by_name(
      "api_revision", l.api.name + "@" + str(l.version->body, "version") + "#" + std::to_string(n),
      l.ws));
}

Result<oa::Document> revision_document(Ctx& c, const Entity& rev) {
  auto text = c.store().get_document(str(rev.body, "sha256"));
  if (!text) return text.error();
  return oa::load_document(*text, "document");
}

// Adds to `tx` what deploying `rev` of `version` means: the version's body
// (already holding its new state) records the revision, and the routes owned
// by the version become exactly the revision's operations.
Result<void> stage_deploy(Ctx& c, store::Transaction& tx, const Loaded& l, Entity version,
                          const Entity& rev) {
  auto doc = revision_document(c, rev);
  if (!doc) return doc.error();
  // The commit's validation builds the deployed spec: parsed once, here.
  apim::DocumentCache::instance().put(str(rev.body, "sha256"),
                                      std::make_shared<const oa::Document>(*doc));
  const auto& vb = version.body;
  std::string vname = str(vb, "version");
  oa::ImportOptions o;
  o.api = l.api.name;
  o.version = vname;
  o.upstream = str(vb, "upstream");
  o.upstream_url = str(vb, "upstream_url");
  o.tags = {owner_tag(l.api.name, vname)};
  if (!str(vb, "oauth2_policy").empty()) o.oauth2_policy = str(vb, "oauth2_policy");
  if (auto* oc = vb.get_object().if_contains("oauth2_config"); oc && oc->is_object())
    o.oauth2_config = oc->get_object();
  if (auto* a = vb.get_object().if_contains("auth"); a && a->is_object())
    for (const auto& kv : a->get_object())
      if (kv.value().is_object()) o.auth[std::string(kv.key())] = kv.value().get_object();
  apim::LifecyclePolicyInput lp;
  lp.state = apim::parse_state(str(vb, "state")).value_or(apim::State::kDraft);
  lp.api_label = l.api.name + " " + vname;
  lp.deprecated_at_ms = num(vb, "deprecated_at");
  lp.sunset = str(vb, "sunset");
  lp.successor_version = str(vb, "successor");
  lp.successor_url = str(vb, "successor_url");
  if (lp.successor_url.empty() && !lp.successor_version.empty()) {
    auto succ =
        c.store().get(Ref::by_name("api_version", l.api.name + "@" + lp.successor_version, l.ws));
    if (succ) lp.successor_url = str(succ->body, "base_path");
  }
  if (auto p = apim::lifecycle_policy(lp); !p.empty()) o.policies.push_back(std::move(p));
  const bool mock = flag(vb, "mock");
  if (auto* val = vb.get_object().if_contains("validation"); val && val->is_object()) {
    std::string req = str(*val, "requests"), resp = str(*val, "responses");
    o.validate_requests = req == "on";
    o.validation_responses = resp.empty() ? "off" : resp;
    // The deployed revision is in the running config's SpecSet as API@VERSION.
    if (o.validate_requests || o.validation_responses != "off")
      o.validation_spec = l.api.name + "@" + vname;
  }
  auto res = oa::to_routes(*doc, o);
  if (!res && mock && res.error().code == "no_upstream") {
    // A mock needs no upstream: import against a placeholder, dropped below.
    o.upstream = "mock";
    res = oa::to_routes(*doc, o);
  }
  if (!res) return res.error();
  if (mock) {
    // The same routes, answered from this revision's document (docs/mock.md).
    for (auto& r : res->routes) {
      auto& ro = r.as_object();
      ro.erase("upstream");
      ro["mock"] = json::object{{"spec", l.api.name + "@" + vname}};
    }
  }
  json::object items{{"upstreams", res->upstreams}, {"routes", res->routes}};
  auto entities = document_entities(items, l.ws, nullptr);
  if (!entities) return entities.error();
  store::ReplaceSpec spec;
  spec.workspace = l.ws;
  spec.kinds = {"upstream", "route"};
  spec.owner_tag = owner_tag(l.api.name, vname);
  spec.entities = std::move(*entities);
  tx.replace_all(std::move(spec));
  auto& body = version.body.get_object();
  body["deployed_revision"] = num(rev.body, "number");
  body["base_path"] = res->base_path;
  json::array warnings;
  for (const auto& w : res->warnings) warnings.emplace_back(w);
  body["deploy_warnings"] = std::move(warnings);
  tx.update(version, version.version);
  return Ok{};
}

// The breaking-change rule: a published (or deprecated) version's deployed
// document may only change compatibly, unless forced.
Result<void> check_compatible(Ctx& c, const Loaded& l, const Entity& next_rev, bool force) {
  if (force) return Ok{};
  auto state = apim::parse_state(str(l.version->body, "state"));
  if (state != apim::State::kPublished && state != apim::State::kDeprecated) return Ok{};
  int64_t deployed = num(l.version->body, "deployed_revision");
  if (deployed == 0 || deployed == num(next_rev.body, "number")) return Ok{};
  auto cur = get_revision(c, l, deployed);
  if (!cur) return cur.error();
  auto old_doc = revision_document(c, *cur);
  auto new_doc = revision_document(c, next_rev);
  if (!old_doc) return old_doc.error();
  if (!new_doc) return new_doc.error();
  auto changes = oa::diff(*old_doc, *new_doc);
  std::string first;
  int breaking = 0;
  for (const auto& ch : changes)
    if (ch.level == oa::Level::kError) {
      if (first.empty()) first = ch.location + ": " + ch.message;
      ++breaking;
    }
  if (breaking == 0) return Ok{};
  return bad("breaking_change",
             std::to_string(breaking) + " breaking change(s) against deployed revision " +
                 std::to_string(deployed) + " of a published version (first: " + first +
                 "); publish a new major version, or pass force: true",
             "revision", 409);
}

AdminResponse answer(int status, json::object o) {
  return json_response(status, o);
}

constexpr const char* kVersionSettings[] = {"upstream",      "upstream_url", "oauth2_policy",
                                            "oauth2_config", "auth",         "successor",
                                            "successor_url"};

Result<void> read_version_settings(const json::object& b, json::object& body) {
  for (const char* k : kVersionSettings) {
    auto* v = b.if_contains(k);
    if (!v) continue;
    bool object_field = std::string_view(k) == "oauth2_config" || std::string_view(k) == "auth";
    if (object_field ? !v->is_object() : !v->is_string())
      return bad("invalid_entity",
                 std::string(k) + (object_field ? " must be an object" : " must be a string"), k);
    body[k] = *v;
  }
  if (auto* m = b.if_contains("mock")) {
    if (!m->is_bool()) return bad("invalid_entity", "mock must be true or false", "mock");
    body["mock"] = *m;
  }
  if (auto* p = b.if_contains("oauth2_policy");
      p && p->is_string() && p->get_string() != "jwt" && p->get_string() != "oauth2-introspection")
    return bad("invalid_entity", "oauth2_policy must be jwt or oauth2-introspection",
               "oauth2_policy");
  if (auto* sv = b.if_contains("successor");
      sv && sv->is_string() && !sv->get_string().empty() && !apim::version_kind(sv->get_string()))
    return bad("invalid_entity", "successor must be a version string", "successor");
  // validation: {requests: on|off, responses: off|report} (request-validation on deploy).
  if (auto* v = b.if_contains("validation")) {
    if (!v->is_object()) return bad("invalid_entity", "validation must be an object", "validation");
    for (const auto& kv : v->get_object()) {
      std::string k(kv.key());
      bool requests = k == "requests";
      if (!requests && k != "responses")
        return bad("invalid_entity", "validation has requests and responses only",
                   "validation." + k);
      std::string_view val =
          kv.value().is_string() ? std::string_view(kv.value().get_string()) : std::string_view{};
      if (requests ? (val != "on" && val != "off") : (val != "off" && val != "report"))
        return bad("invalid_entity",
                   requests ? "validation.requests must be on or off"
                            : "validation.responses must be off or report",
                   "validation." + k);
    }
    body["validation"] = *v;
  }
  return Ok{};
}

Result<std::vector<Entity>> version_revisions(Ctx& c, const Loaded& l) {
  std::vector<Entity> all;
  store::ListQuery q;
  q.kind = "api_revision";
  q.workspace = l.ws;
  q.name_prefix = l.version->name + "#";
  q.limit = 1000;
  for (;;) {
    auto page = c.store().list(q);
    if (!page) return page.error();
    for (auto& e : page->items) all.push_back(std::move(e));
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  return all;
}

Result<void> stage_version_update(Ctx& c, store::Transaction& tx, const Loaded& l,
                                  const Entity& v) {
  if (int64_t dep = num(v.body, "deployed_revision")) {
    auto rev = get_revision(c, l, dep);
    if (!rev) return rev.error();
    return stage_deploy(c, tx, l, v, *rev);
  }
  tx.update(v, v.version);
  return Ok{};
}

AdminResponse commit_version(Ctx& c, store::Transaction& tx, const Loaded& l, int status) {
  if (auto r = tx.commit(); !r) {
    // Deploy problems name a generated route; say which revision made it.
    return error_response(r.error());
  }
  auto got = c.store().get(Ref::by_id("api_version", l.version->id, l.ws));
  if (!got) return fail(got.error());
  return answer(status, version_view(*got));
}

}  // namespace apis_detail

namespace {

using namespace apis_detail;

// ---- /apis ----------------------------------------------------------------

AdminResponse list_apis(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return fail(ws.error());
  store::ListQuery q;
  q.kind = "api";
  q.workspace = *ws;
  q.tags = c.req.params("tag");
  auto limit = limit_param(c.req);
  if (!limit) return fail(limit.error());
  q.limit = *limit;
  q.cursor = c.req.param("cursor").value_or("");
  auto page = c.store().list(q);
  if (!page) return fail(page.error());
  json::array items;
  for (const auto& e : page->items) items.push_back(api_view(e));
  return answer(200, {{"items", std::move(items)},
                      {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                                : json::value(page->next_cursor)}});
}

Result<void> read_api_fields(const json::object& b, Entity& e, bool partial) {
  if (auto* t = b.if_contains("owner_team")) {
    if (!t->is_string() || t->get_string().empty())
      return bad("invalid_entity", "owner_team must be a non-empty string", "owner_team");
    e.body.get_object()["owner_team"] = *t;
  } else if (!partial) {
    return bad("missing_field", "owner_team is required: the team that owns the API", "owner_team");
  }
  if (auto* d = b.if_contains("description")) {
    if (!d->is_string())
      return bad("invalid_entity", "description must be a string", "description");
    e.body.get_object()["description"] = *d;
  }
  if (auto* t = b.if_contains("tags")) {
    if (!t->is_array()) return bad("invalid_entity", "tags must be a list of strings", "tags");
    e.tags.clear();
    for (size_t i = 0; i < t->get_array().size(); ++i) {
      const auto& v = t->get_array()[i];
      if (!v.is_string() || v.get_string().empty())
        return bad("invalid_entity", "tags must be non-empty strings",
                   "tags[" + std::to_string(i) + "]");
      e.tags.emplace_back(v.get_string());
    }
  }
  return Ok{};
}

AdminResponse create_api(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return fail(ws.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  const auto& b = body->get_object();
  Entity e;
  e.kind = "api";
  e.workspace = *ws;
  e.name = str(*body, "name");
  if (!oa::valid_name(e.name))
    return problem(400, "invalid_entity", "name must be 1 to 128 of [A-Za-z0-9._-]", "name");
  if (auto r = read_api_fields(b, e, false); !r) return fail(r.error());
  auto tx = c.store().begin(c.who.actor);
  tx.create(e);
  if (auto r = tx.commit(); !r) return fail(r.error());
  auto got = c.store().get(Ref::by_name("api", e.name, *ws));
  if (!got) return fail(got.error());
  auto r = answer(201, api_view(*got));
  r.headers.emplace_back("Location", "/api/v1/apis/" + e.name);
  return r;
}

AdminResponse get_api(Ctx& c) {
  auto l = load(c, false);
  if (!l) return fail(l.error());
  json::object o = api_view(l->api);
  store::ListQuery q;
  q.kind = "api_version";
  q.workspace = l->ws;
  q.name_prefix = l->api.name + "@";
  q.limit = 1000;
  auto page = c.store().list(q);
  if (!page) return fail(page.error());
  json::array versions;
  for (const auto& v : page->items)
    if (str(v.body, "api") == l->api.name) versions.push_back(version_view(v));
  o["versions"] = std::move(versions);
  return answer(200, std::move(o));
}

AdminResponse patch_api(Ctx& c) {
  auto l = load(c, false);
  if (!l) return fail(l.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  Entity e = l->api;
  if (auto r = read_api_fields(body->get_object(), e, true); !r) return fail(r.error());
  auto expected = if_match(c.req);
  if (!expected) return fail(expected.error());
  auto tx = c.store().begin(c.who.actor);
  tx.update(e, *expected ? *expected : l->api.version);
  if (auto r = tx.commit(); !r) return fail(r.error());
  auto got = c.store().get(Ref::by_id("api", e.id, l->ws));
  if (!got) return fail(got.error());
  return answer(200, api_view(*got));
}

AdminResponse delete_api(Ctx& c) {
  auto l = load(c, false);
  if (!l) return fail(l.error());
  store::ListQuery q;
  q.kind = "api_version";
  q.workspace = l->ws;
  q.name_prefix = l->api.name + "@";
  q.limit = 1;
  auto page = c.store().list(q);
  if (!page) return fail(page.error());
  if (!page->items.empty())
    return problem(409, "api_has_versions", "delete the API's versions first", "versions");
  auto tx = c.store().begin(c.who.actor);
  tx.remove(Ref::by_id("api", l->api.id, l->ws));
  if (auto r = tx.commit(); !r) return fail(r.error());
  AdminResponse r;
  r.status = 204;
  return r;
}

// ---- /apis/{api}/versions -------------------------------------------------

AdminResponse list_versions(Ctx& c) {
  auto l = load(c, false);
  if (!l) return fail(l.error());
  store::ListQuery q;
  q.kind = "api_version";
  q.workspace = l->ws;
  q.name_prefix = l->api.name + "@";
  q.limit = 1000;
  auto page = c.store().list(q);
  if (!page) return fail(page.error());
  json::array items;
  for (const auto& v : page->items)
    if (str(v.body, "api") == l->api.name) items.push_back(version_view(v));
  return answer(200, {{"items", std::move(items)}});
}

AdminResponse create_version(Ctx& c) {
  auto l = load(c, false);
  if (!l) return fail(l.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  std::string v = str(*body, "version");
  if (!apim::version_kind(v))
    return problem(400, "invalid_version",
                   "version must be semantic (1.2.3, 2.0, 1.0.0-rc.1) or dated (2024-06-01)",
                   "version");
  Entity e;
  e.kind = "api_version";
  e.workspace = l->ws;
  e.name = l->api.name + "@" + v;
  json::object vb{{"api", l->api.name},
                  {"version", v},
                  {"state", "draft"},
                  {"latest_revision", 0},
                  {"deployed_revision", 0}};
  if (auto r = read_version_settings(body->get_object(), vb); !r) return fail(r.error());
  e.body = std::move(vb);
  auto tx = c.store().begin(c.who.actor);
  tx.create(e);
  if (auto r = tx.commit(); !r) return fail(r.error());
  auto got = c.store().get(Ref::by_name("api_version", e.name, l->ws));
  if (!got) return fail(got.error());
  auto r = answer(201, version_view(*got));
  r.headers.emplace_back("Location", "/api/v1/apis/" + l->api.name + "/versions/" + v);
  return r;
}

AdminResponse get_version(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  return answer(200, version_view(*l->version));
}

AdminResponse patch_version(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  auto body = parse_json_body(c.req);
  if (!body) return fail(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  Entity v = *l->version;
  if (auto r = read_version_settings(body->get_object(), v.body.get_object()); !r)
    return fail(r.error());
  auto tx = c.store().begin(c.who.actor);
  // New upstream or auth settings take effect on the deployed revision at once.
  if (auto r = stage_version_update(c, tx, *l, v); !r) return fail(r.error());
  return commit_version(c, tx, *l, 200);
}

AdminResponse delete_version(Ctx& c) {
  auto l = load(c, true);
  if (!l) return fail(l.error());
  std::string state = str(l->version->body, "state");
  if (state != "draft" && state != "retired")
    return problem(409, "invalid_state",
                   "only draft or retired versions can be deleted (this one is " + state + ")",
                   "state");
  auto tx = c.store().begin(c.who.actor);
  store::ReplaceSpec spec;
  spec.workspace = l->ws;
  spec.kinds = {"upstream", "route"};
  spec.owner_tag = owner_tag(l->api.name, str(l->version->body, "version"));
  tx.replace_all(std::move(spec));
  auto revs = version_revisions(c, *l);
  if (!revs) return fail(revs.error());
  for (const auto& r : *revs) tx.remove(Ref::by_id("api_revision", r.id, l->ws));
  tx.remove(Ref::by_id("api_version", l->version->id, l->ws), l->version->version);
  if (auto r = tx.commit(); !r) return fail(r.error());
  AdminResponse r;
  r.status = 204;
  return r;
}

}  // namespace

void register_api_routes(Api& api) {
  using namespace apis_detail;
  using store::Role;
  const std::string base = "/api/v1/apis";
  const std::string ver = base + "/{api}/versions/{version}";
  api.add(
      {"GET", base, Role::kViewer, false, "List APIs (?tag, limit, cursor)", "apis", list_apis});
  api.add({"POST", base, Role::kEditor, true, "Create an API {name, owner_team, tags, description}",
           "apis", create_api});
  api.add({"GET", base + "/{api}", Role::kViewer, false, "Get an API and its versions", "apis",
           get_api});
  api.add({"PATCH", base + "/{api}", Role::kEditor, true,
           "Change an API's owner_team, tags or description", "apis", patch_api});
  api.add({"DELETE", base + "/{api}", Role::kEditor, true, "Delete an API without versions", "apis",
           delete_api});
  api.add({"GET", base + "/{api}/versions", Role::kViewer, false, "List an API's versions", "apis",
           list_versions});
  api.add({"POST", base + "/{api}/versions", Role::kEditor, true,
           "Create a version {version, upstream | upstream_url, oauth2_policy, oauth2_config, "
           "auth, successor, mock}",
           "apis", create_version});
  api.add({"GET", ver, Role::kViewer, false, "Get a version", "apis", get_version});
  api.add({"PATCH", ver, Role::kEditor, true,
           "Change a version's upstream, auth, successor or mock settings (redeploys)", "apis",
           patch_version});
  api.add({"DELETE", ver, Role::kEditor, true,
           "Delete a draft or retired version, its revisions and its routes", "apis",
           delete_version});
  api.add({"GET", ver + "/revisions", Role::kViewer, false, "List a version's revisions", "apis",
           list_revisions});
  api.add({"POST", ver + "/revisions", Role::kEditor, true,
           "Add an immutable revision: the body is an OpenAPI document (YAML or JSON) or "
           "{document, deploy, force, description}; ?deploy=true deploys it",
           "apis", create_revision});
  api.add({"GET", ver + "/revisions/{n}", Role::kViewer, false, "Get a revision", "apis",
           [](Ctx& c) { return get_revision_handler(c, false); }});
  api.add({"GET", ver + "/revisions/{n}/document", Role::kViewer, false,
           "The revision's OpenAPI document as it was sent", "apis",
           [](Ctx& c) { return get_revision_handler(c, true); }});
  api.add({"POST", ver + "/deploy", Role::kEditor, true,
           "Deploy a revision {revision, force}: its routes replace the version's (rollback = an "
           "earlier revision)",
           "apis", deploy});
  api.add({"POST", ver + "/lifecycle", Role::kEditor, true,
           "Change the state {state, sunset, successor, successor_url, force}", "apis", lifecycle});
}

}  // namespace gatehouse::admin
