// /api/v1/mcp/servers: the MCP registry's admin resource. Entries are
// `mcp_server` entities of the default workspace (metadata, versions, the
// on_change policy), merged with the config file's mcp.servers (origin
// "config": their connection is the file's and cannot be edited or deleted
// here; an entry of the same name annotates them). Definitions, diffs and
// approvals are registry observations, not configuration: they work in file
// mode too and do not bump the config revision.
#include <boost/json.hpp>
#include <cctype>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "admin/mcp_registry.hpp"
#include "common/json.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
namespace reg = mcp::registry;
using store::Entity;
using store::Ref;

namespace {

McpRegistry& registry(Ctx& c) {
  return *c.api.host().mcp_registry;
}

bool valid_server_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.') return false;
  return true;
}

Result<void> default_workspace(Ctx& c) {
  auto ws = c.workspace();
  if (!ws) return ws.error();
  if (*ws != store::kDefaultWorkspace)
    return make_error("invalid_workspace",
                      "the MCP registry is node-wide: it lives in the default workspace",
                      "workspace", 400, ErrorSide::kDownstream);
  return Ok{};
}

json::object version_json(const McpVersion& v) {
  json::object o{{"version", v.version}, {"status", v.status}};
  if (!v.description.empty()) o["description"] = v.description;
  if (!v.status_message.empty()) o["status_message"] = v.status_message;
  o["created_at"] = v.created_at;
  o["updated_at"] = v.updated_at;
  if (v.published_at) o["published_at"] = v.published_at;
  return o;
}

struct DefinitionCounts {
  size_t tools = 0, prompts = 0, resources = 0, pending = 0;
};

json::object entry_json(Ctx& c, const McpEntry& e, const DefinitionCounts* counts) {
  json::object o;
  o["name"] = e.name;
  o["origin"] = e.origin;
  o["registry_name"] = e.registry_name;
  if (!e.title.empty()) o["title"] = e.title;
  if (!e.description.empty()) o["description"] = e.description;
  if (!e.owner.empty()) o["owner"] = e.owner;
  if (!e.website_url.empty()) o["website_url"] = e.website_url;
  if (!e.repository.is_null()) o["repository"] = e.repository;
  o["on_change"] = e.on_change;
  if (!e.transport.empty()) o["transport"] = e.transport;
  if (!e.url.empty()) o["url"] = e.url;
  json::array routes, remotes, versions;
  for (const auto& r : e.routes) routes.emplace_back(r);
  for (const auto& r : e.remotes) remotes.emplace_back(r);
  for (const auto& r : e.extra_remotes) remotes.emplace_back(r);
  for (const auto& v : e.versions) versions.push_back(version_json(v));
  o["routes"] = std::move(routes);
  o["remotes"] = std::move(remotes);
  o["versions"] = std::move(versions);
  int latest = latest_index(e);
  o["latest_version"] = latest >= 0 ? json::value(e.versions[latest].version) : json::value();
  o["status"] = latest >= 0 ? e.versions[latest].status : "draft";
  json::object health;
  if (auto h = registry(c).health(e.name)) {
    health["status"] = h->ok ? "up" : "down";
    if (!h->error.empty()) health["error"] = h->error;
    health["checked_at"] = h->checked_at;
  } else {
    health["status"] = "unknown";
  }
  o["health"] = std::move(health);
  if (counts)
    o["definitions"] = json::object{{"tools", counts->tools},
                                    {"prompts", counts->prompts},
                                    {"resources", counts->resources},
                                    {"pending_changes", counts->pending}};
  if (e.entity) {
    o["id"] = e.entity->id;
    o["etag"] = e.entity->version;
    o["created_at"] = e.entity->created_at;
    o["updated_at"] = e.entity->updated_at;
  }
  return o;
}

Result<std::map<std::string, DefinitionCounts>> counts(Ctx& c) {
  std::map<std::string, DefinitionCounts> out;
  auto defs = c.store().mcp_definitions("");
  if (!defs) return defs.error();
  for (const auto& d : *defs) {
    auto& n = out[d.server];
    if (d.kind == "tool") ++n.tools;
    if (d.kind == "prompt") ++n.prompts;
    if (d.kind == "resource" || d.kind == "resource_template") ++n.resources;
    if (d.seen_sha256 != d.pinned_sha256) ++n.pending;
  }
  return out;
}

AdminResponse answer_entry(Ctx& c, int status, const std::string& name) {
  std::vector<Entity> storage;
  auto list = registry(c).entries(storage);
  if (!list) return error_response(list.error());
  auto n = counts(c);
  if (!n) return error_response(n.error());
  for (const auto& e : *list)
    if (e.name == name) {
      auto r = json_response(status, entry_json(c, e, &(*n)[e.name]));
      if (e.entity) r.headers.emplace_back("ETag", etag(e.entity->version));
      return r;
    }
  return problem(404, "not_found", "no MCP server \"" + name + "\" in the registry");
}

AdminResponse list_entries(Ctx& c) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  std::vector<Entity> storage;
  auto list = registry(c).entries(storage);
  if (!list) return error_response(list.error());
  auto n = counts(c);
  if (!n) return error_response(n.error());
  auto status = c.req.param("status");
  json::array items;
  for (const auto& e : *list) {
    json::object o = entry_json(c, e, &(*n)[e.name]);
    if (status && o["status"].as_string() != *status) continue;
    items.push_back(std::move(o));
  }
  return json_response(200, json::object{{"items", std::move(items)}});
}

const McpEntry* find(const std::vector<McpEntry>& list, const std::string& name) {
  for (const auto& e : list)
    if (e.name == name) return &e;
  return nullptr;
}

// Creates or replaces the stored entry `name` with `body` (already merged
// for PATCH). `expected` 0 = no precondition.
AdminResponse write_entry(Ctx& c, const std::string& name, json::object body, int64_t expected,
                          bool must_exist, bool must_not_exist) {
  if (!valid_server_name(name))
    return problem(400, "invalid_entity",
                   "name must be 1-64 letters, digits, '-' or '.' (the gateway's server name)",
                   "name");
  auto existing = c.store().get(Ref::by_name(kMcpServerKind, name));
  if (!existing && existing.error().status != 404) return error_response(existing.error());
  if (must_exist && !existing)
    return problem(404, "not_found", "no stored registry entry \"" + name + "\"");
  if (must_not_exist && existing)
    return problem(409, "name_conflict", "a registry entry \"" + name + "\" exists already",
                   "name");
  for (auto k : {"id", "name", "workspace", "tags", "created_at", "updated_at", "etag", "origin",
                 "routes", "transport", "url", "health", "definitions", "status", "latest_version"})
    body.erase(k);
  // `remotes` in a GET of a config server are the gateway's; only catalog
  // entries (no config server) keep their own.
  const json::object* old =
      existing && existing->body.is_object() ? &existing->body.as_object() : nullptr;
  if (auto r = check_mcp_entry(body, old); !r) return error_response(r.error());
  Entity e;
  e.kind = kMcpServerKind;
  e.name = name;
  e.body = std::move(body);
  auto tx = c.store().begin(c.who.actor);
  if (existing) {
    e.id = existing->id;
    e.tags = existing->tags;
    tx.update(e, expected);
  } else {
    if (expected)
      return problem(412, "version_conflict",
                     "If-Match names a version of a resource that does not exist");
    e.id = store::new_uuid();
    tx.create(e);
  }
  auto res = tx.commit();
  if (!res) return error_response(res.error(), kMcpServerKind, e.id);
  (void)registry(c).refresh_pins();
  return answer_entry(c, existing ? 200 : 201, name);
}

AdminResponse create_entry(Ctx& c) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  auto body = parse_json_body(c.req);
  if (!body) return error_response(body.error());
  if (!body->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  auto& o = body->get_object();
  const json::value* n = o.if_contains("name");
  if (!n || !n->is_string()) return problem(400, "missing_field", "name is required", "name");
  std::string name(n->get_string());
  return write_entry(c, name, std::move(o), 0, false, true);
}

AdminResponse replace_entry(Ctx& c, bool patch) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  auto expected = if_match(c.req);
  if (!expected) return error_response(expected.error());
  const std::string& name = c.vars["name"];
  auto raw = parse_json_body(c.req);
  if (!raw) return error_response(raw.error());
  if (!raw->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  if (auto* n = raw->get_object().if_contains("name");
      n && (!n->is_string() || n->get_string() != name))
    return problem(400, "invalid_entity", "the body's name differs from the URL's", "name");
  if (!patch) return write_entry(c, name, std::move(raw->get_object()), *expected, false, false);
  auto existing = c.store().get(Ref::by_name(kMcpServerKind, name));
  if (!existing) return error_response(existing.error());
  json::value doc = existing->body;
  merge_patch(doc, *raw);
  if (!doc.is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  return write_entry(c, name, std::move(doc.get_object()),
                     *expected ? *expected : existing->version, true, false);
}

AdminResponse delete_entry(Ctx& c) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  auto expected = if_match(c.req);
  if (!expected) return error_response(expected.error());
  const std::string& name = c.vars["name"];
  auto existing = c.store().get(Ref::by_name(kMcpServerKind, name));
  if (!existing) {
    std::vector<Entity> storage;
    auto list = registry(c).entries(storage);
    if (list && find(*list, name))
      return problem(409, "config_server",
                     "\"" + name + "\" comes from the config file's mcp.servers; remove it there");
    return error_response(existing.error());
  }
  auto tx = c.store().begin(c.who.actor);
  tx.remove(Ref::by_id(kMcpServerKind, existing->id, store::kDefaultWorkspace), *expected);
  auto res = tx.commit();
  if (!res) return error_response(res.error(), kMcpServerKind, existing->id);
  (void)registry(c).refresh_pins();
  AdminResponse r;
  r.status = 204;
  return r;
}

// The stored entry's body, or an empty one for a config server that has
// none yet (adding a version then creates the annotation).
Result<std::pair<json::object, int64_t>> entry_body(Ctx& c, const std::string& name) {
  auto existing = c.store().get(Ref::by_name(kMcpServerKind, name));
  if (existing) return std::pair{existing->body.as_object(), existing->version};
  if (existing.error().status != 404) return existing.error();
  std::vector<Entity> storage;
  auto list = registry(c).entries(storage);
  if (!list) return list.error();
  if (!find(*list, name))
    return make_error("not_found", "no MCP server \"" + name + "\" in the registry", {}, 404,
                      ErrorSide::kDownstream);
  return std::pair{json::object{}, int64_t{0}};
}

AdminResponse add_version(Ctx& c) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  const std::string& name = c.vars["name"];
  auto raw = parse_json_body(c.req);
  if (!raw) return error_response(raw.error());
  if (!raw->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  auto cur = entry_body(c, name);
  if (!cur) return error_response(cur.error());
  auto& [body, version] = *cur;
  json::array versions;
  if (auto* v = body.if_contains("versions"); v && v->is_array()) versions = v->get_array();
  std::string wanted;
  if (auto* v = raw->get_object().if_contains("version"); v && v->is_string())
    wanted = v->get_string();
  for (const auto& v : versions)
    if (v.is_object() && v.get_object().contains("version") &&
        v.get_object().at("version") == json::value(wanted))
      return problem(409, "version_exists", "version \"" + wanted + "\" exists already", "version");
  versions.push_back(*raw);
  body["versions"] = std::move(versions);
  AdminResponse r = write_entry(c, name, body, version, false, false);
  if (r.status == 400) {  // re-express versions[N].x relative to this body
    auto doc = parse_json(r.body);
    if (auto* f = doc.get_object().if_contains("field"); f && f->is_string()) {
      std::string s(f->get_string());
      auto dot = s.find("].");
      if (s.starts_with("versions[") && dot != std::string::npos) {
        doc.get_object()["field"] = s.substr(dot + 2);
        r.body = json::serialize(doc) + "\n";
      }
    }
  }
  if (r.status == 200) r.status = 201;
  return r;
}

AdminResponse patch_version(Ctx& c) {
  if (auto w = default_workspace(c); !w) return error_response(w.error());
  const std::string& name = c.vars["name"];
  const std::string& wanted = c.vars["version"];
  auto raw = parse_json_body(c.req);
  if (!raw) return error_response(raw.error());
  if (!raw->is_object()) return problem(400, "invalid_body", "the body must be a JSON object");
  auto cur = entry_body(c, name);
  if (!cur) return error_response(cur.error());
  auto& [body, version] = *cur;
  auto* vs = body.if_contains("versions");
  if (vs && vs->is_array())
    for (auto& v : vs->get_array())
      if (v.is_object() && v.get_object().contains("version") &&
          v.get_object().at("version") == json::value(wanted)) {
        raw->get_object().erase("version");
        merge_patch(v, *raw);
        return write_entry(c, name, body, version, false, false);
      }
  return problem(404, "not_found", "MCP server \"" + name + "\" has no version \"" + wanted + "\"");
}

json::object definition_json(const store::McpDefinition& d, bool with_diff) {
  bool pending = d.seen_sha256 != d.pinned_sha256;
  json::object o{{"kind", d.kind},
                 {"name", d.name},
                 {"status", pending ? "changed" : "pinned"},
                 {"sha256", d.seen_sha256},
                 {"pinned_sha256", d.pinned_sha256},
                 {"definition", d.seen},
                 {"first_seen", d.first_seen},
                 {"last_seen", d.last_seen},
                 {"approved_by", d.approved_by},
                 {"approved_at", d.approved_at}};
  if (pending) {
    o["changed_at"] = d.changed_at;
    o["pinned_definition"] = d.pinned;
    if (with_diff) o["diff"] = reg::diff(d.pinned, d.seen);
  }
  return o;
}

AdminResponse list_definitions(Ctx& c, bool pending_only) {
  const std::string& name = c.vars["name"];
  auto defs = c.store().mcp_definitions(name);
  if (!defs) return error_response(defs.error());
  auto kind = c.req.param("kind");
  json::array items;
  for (const auto& d : *defs) {
    if (kind && d.kind != *kind) continue;
    if (pending_only && d.seen_sha256 == d.pinned_sha256) continue;
    items.push_back(definition_json(d, pending_only));
  }
  if (items.empty() && defs->empty()) {
    std::vector<Entity> storage;
    auto list = registry(c).entries(storage);
    if (list && !find(*list, name))
      return problem(404, "not_found", "no MCP server \"" + name + "\" in the registry");
  }
  return json_response(200, json::object{{"server", name}, {"items", std::move(items)}});
}

AdminResponse tool_diff(Ctx& c) {
  auto defs = c.store().mcp_definitions(c.vars["name"]);
  if (!defs) return error_response(defs.error());
  for (const auto& d : *defs)
    if (d.kind == "tool" && d.name == c.vars["tool"])
      return json_response(200, definition_json(d, true));
  return problem(
      404, "not_found",
      "no tool \"" + c.vars["tool"] + "\" has been seen on MCP server \"" + c.vars["name"] + "\"");
}

AdminResponse approve_tool(Ctx& c) {
  std::string expected;
  if (!c.req.body.empty()) {
    auto raw = parse_json_body(c.req);
    if (!raw) return error_response(raw.error());
    const json::value* s = raw->is_object() ? raw->get_object().if_contains("sha256") : nullptr;
    if (s && !s->is_string())
      return problem(400, "invalid_body", "sha256 must be a string", "sha256");
    if (s) expected = std::string(s->get_string());
  }
  auto d = registry(c).approve(c.vars["name"], "tool", c.vars["tool"], expected, c.who.actor);
  if (!d) return error_response(d.error());
  return json_response(200, definition_json(*d, false));
}

}  // namespace

void register_mcp_registry_routes(Api& api) {
  using store::Role;
  const std::string base = "/api/v1/mcp/servers";
  const std::string tag = "mcp-registry";
  api.add({"GET", base, Role::kViewer, false,
           "List the MCP registry (config-file servers and stored entries; ?status)", tag,
           list_entries});
  api.add({"POST", base, Role::kEditor, true, "Create a registry entry", tag, create_entry});
  api.add({"GET", base + "/{name}", Role::kViewer, false, "Get a registry entry", tag,
           [](Ctx& c) { return answer_entry(c, 200, c.vars["name"]); }});
  api.add({"PUT", base + "/{name}", Role::kEditor, true,
           "Replace (or create) a registry entry; If-Match honoured", tag,
           [](Ctx& c) { return replace_entry(c, false); }});
  api.add({"PATCH", base + "/{name}", Role::kEditor, true,
           "Update a registry entry with a JSON merge patch; If-Match honoured", tag,
           [](Ctx& c) { return replace_entry(c, true); }});
  api.add({"DELETE", base + "/{name}", Role::kEditor, true,
           "Delete a stored registry entry (config-file servers stay)", tag, delete_entry});
  api.add({"POST", base + "/{name}/versions", Role::kEditor, true,
           "Add a version {version, status, description}", tag, add_version});
  api.add({"PATCH", base + "/{name}/versions/{version}", Role::kEditor, true,
           "Change a version's status (draft, published, deprecated) or description", tag,
           patch_version});
  api.add({"GET", base + "/{name}/definitions", Role::kViewer, false,
           "Tools, prompts and resources last seen on the server, with their pins (?kind)", tag,
           [](Ctx& c) { return list_definitions(c, false); }});
  api.add({"GET", base + "/{name}/changes", Role::kViewer, false,
           "Definitions that differ from their pin, with a diff", tag,
           [](Ctx& c) { return list_definitions(c, true); }});
  api.add({"GET", base + "/{name}/tools/{tool}/diff", Role::kViewer, false,
           "One tool's pinned and seen definitions and their diff", tag, tool_diff});
  api.add({"POST", base + "/{name}/tools/{tool}/approve", Role::kEditor, false,
           "Pin the tool's definition seen now (optional {sha256} of the reviewed one)", tag,
           approve_tool});
}

}  // namespace gatehouse::admin
