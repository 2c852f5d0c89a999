#include "admin/mcp_registry.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "common/log.hpp"
#include "proxy/snapshot.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;
namespace reg = mcp::registry;

namespace {

Error bad(std::string field, std::string message, std::string code = "invalid_entity") {
  return make_error(std::move(code), std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

bool name_char(char c, bool allow_underscore) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
         (allow_underscore && c == '_');
}

// "namespace/name" as the MCP registry's server.json wants it.
bool valid_registry_name(std::string_view s) {
  if (s.size() < 3 || s.size() > 200) return false;
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return false;
  if (s.find('/', slash + 1) != std::string_view::npos) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (i != slash && !name_char(s[i], i > slash)) return false;
  return true;
}

bool http_url(std::string_view s) {
  return (s.starts_with("http://") && s.size() > 7) || (s.starts_with("https://") && s.size() > 8);
}

Result<void> check_string(const json::object& o, std::string_view key, size_t max,
                          const std::string& field) {
  const json::value* v = o.if_contains(key);
  if (!v) return Ok{};
  if (!v->is_string()) return bad(field, std::string(key) + " must be a string");
  if (v->get_string().size() > max)
    return bad(field, std::string(key) + " is longer than " + std::to_string(max) + " characters");
  return Ok{};
}

}  // namespace

int latest_index(const McpEntry& e) {
  int best = -1;
  for (const char* want : {"published", "deprecated"}) {
    for (size_t i = 0; i < e.versions.size(); ++i) {
      if (e.versions[i].status != want) continue;
      if (best < 0 || compare_versions(e.versions[i].version, e.versions[best].version) > 0)
        best = static_cast<int>(i);
    }
    if (best >= 0) return best;
  }
  return -1;
}

Result<void> check_mcp_entry(json::object& body, const json::object* existing) {
  static const std::set<std::string, std::less<>> kFields = {
      "registry_name", "title",     "description", "owner",   "website_url",
      "repository",    "on_change", "remotes",     "versions"};
  for (const auto& kv : body)
    if (!kFields.count(kv.key()))
      return bad(std::string(kv.key()), "unknown field \"" + std::string(kv.key()) + "\"",
                 "unknown_field");
  if (auto r = check_string(body, "title", 100, "title"); !r) return r;
  if (auto r = check_string(body, "description", 100, "description"); !r) return r;
  if (auto r = check_string(body, "owner", 200, "owner"); !r) return r;
  if (auto r = check_string(body, "registry_name", 200, "registry_name"); !r) return r;
  if (body.contains("registry_name") && !valid_registry_name(str(body, "registry_name")))
    return bad("registry_name",
               "registry_name must be \"namespace/name\" (reverse-DNS namespace, one '/', letters, "
               "digits, '.', '-', and '_' after the slash)");
  if (auto r = check_string(body, "website_url", 2000, "website_url"); !r) return r;
  if (body.contains("website_url") && !http_url(str(body, "website_url")))
    return bad("website_url", "website_url must be an http:// or https:// URL");
  if (const json::value* oc = body.if_contains("on_change")) {
    if (!oc->is_string() || !reg::parse_on_change(oc->get_string()))
      return bad("on_change", "on_change must be allow, warn or block");
  }
  if (const json::value* repo = body.if_contains("repository")) {
    if (!repo->is_object()) return bad("repository", "repository must be a map {url, source}");
    const auto& ro = repo->get_object();
    for (const auto& kv : ro) {
      std::string k(kv.key());
      if (k != "url" && k != "source" && k != "id" && k != "subfolder")
        return bad("repository." + k, "unknown field \"" + k + "\"", "unknown_field");
      if (!kv.value().is_string()) return bad("repository." + k, k + " must be a string");
    }
    if (!http_url(str(ro, "url"))) return bad("repository.url", "repository.url must be a URL");
    if (str(ro, "source").empty()) return bad("repository.source", "repository.source is required");
  }
  if (const json::value* rem = body.if_contains("remotes")) {
    if (!rem->is_array()) return bad("remotes", "remotes must be a list of URLs");
    for (size_t i = 0; i < rem->get_array().size(); ++i) {
      const auto& u = rem->get_array()[i];
      if (!u.is_string() || !http_url(u.get_string()))
        return bad("remotes[" + std::to_string(i) + "]", "a remote must be an http(s) URL");
    }
  }
  json::array out;
  const json::value* vs = body.if_contains("versions");
  if (!vs && existing)
    if (const json::value* old = existing->if_contains("versions")) vs = old;
  if (vs && !vs->is_array()) return bad("versions", "versions must be a list");
  int64_t now = store::now_ms();
  std::set<std::string> seen;
  for (size_t i = 0; vs && i < vs->get_array().size(); ++i) {
    std::string f = "versions[" + std::to_string(i) + "]";
    const auto& item = vs->get_array()[i];
    if (!item.is_object()) return bad(f, "a version must be a map {version, status}");
    const auto& vo = item.get_object();
    for (const auto& kv : vo) {
      std::string k(kv.key());
      if (k != "version" && k != "status" && k != "description" && k != "status_message" &&
          k != "created_at" && k != "updated_at" && k != "published_at")
        return bad(f + "." + k, "unknown field \"" + k + "\"", "unknown_field");
    }
    std::string version = str(vo, "version");
    if (!valid_version(version))
      return bad(f + ".version",
                 "version must be a specific version (1-255 characters, not \"latest\" or a "
                 "range such as ^1.2 or 1.x)");
    if (!seen.insert(version).second)
      return bad(f + ".version", "version \"" + version + "\" is listed twice");
    std::string status = vo.contains("status") ? str(vo, "status") : "draft";
    if (status != "draft" && status != "published" && status != "deprecated")
      return bad(f + ".status", "status must be draft, published or deprecated");
    if (auto r = check_string(vo, "description", 100, f + ".description"); !r) return r;
    if (auto r = check_string(vo, "status_message", 500, f + ".status_message"); !r) return r;
    // Timestamps are the registry's: kept from the stored version, else now.
    const json::object* before = nullptr;
    if (existing)
      if (const json::value* old = existing->if_contains("versions"); old && old->is_array())
        for (const auto& o : old->get_array())
          if (o.is_object() && str(o.get_object(), "version") == version) before = &o.get_object();
    json::object v{{"version", version}, {"status", status}};
    if (vo.contains("description")) v["description"] = vo.at("description");
    if (vo.contains("status_message")) v["status_message"] = vo.at("status_message");
    v["created_at"] = before ? num(*before, "created_at") : now;
    bool same = before && str(*before, "status") == status &&
                str(*before, "description") == str(v, "description") &&
                str(*before, "status_message") == str(v, "status_message");
    v["updated_at"] = same ? num(*before, "updated_at") : now;
    int64_t published = before ? num(*before, "published_at") : 0;
    if (published == 0 && status != "draft") published = now;
    v["published_at"] = published;
    out.push_back(std::move(v));
  }
  body["versions"] = std::move(out);
  return Ok{};
}

McpRegistry::McpRegistry(Host host) : host_(std::move(host)) {}

void McpRegistry::on_report(const reg::Report& r) {
  if (r.type == reg::Report::Type::kHealth) {
    auto& h = health_[r.server];
    if (h.checked_at != 0 && h.ok != r.ok)
      log::info("mcp server health changed",
                {log::f("server", r.server), log::f("ok", r.ok ? "true" : "false"),
                 log::f("error", r.error)});
    h = McpHealth{r.ok, r.error, store::now_ms()};
    return;
  }
  if (!host_.store) return;
  auto rows = host_.store->mcp_definitions(r.server);
  if (!rows) {
    log::warn("mcp registry: cannot read definitions", {log::f("error", rows.error().message)});
    return;
  }
  store::McpDefinition d;
  bool found = false;
  for (auto& row : *rows)
    if (row.kind == r.kind && row.name == r.name) {
      d = std::move(row);
      found = true;
      break;
    }
  int64_t now = store::now_ms();
  bool pins_changed = false;
  if (!found) {
    // Trust on first use: a definition never seen before is pinned as it is.
    d.server = r.server;
    d.kind = r.kind;
    d.name = r.name;
    d.pinned_sha256 = d.seen_sha256 = r.sha256;
    d.pinned = d.seen = r.definition;
    d.first_seen = d.last_seen = now;
    d.approved_by = "first-seen";
    d.approved_at = now;
    pins_changed = r.kind == "tool";
  } else {
    d.last_seen = now;
    if (d.seen_sha256 != r.sha256) {
      d.seen_sha256 = r.sha256;
      d.seen = r.definition;
      d.changed_at = d.seen_sha256 == d.pinned_sha256 ? 0 : now;
    }
    bool pending = d.seen_sha256 != d.pinned_sha256;
    // Only tools are pinned; other kinds (and tools of `allow` servers)
    // follow what the server lists.
    bool follow = r.kind != "tool" || reg::current()->policy(r.server) == reg::OnChange::kAllow;
    if (pending && follow) {
      d.pinned_sha256 = d.seen_sha256;
      d.pinned = d.seen;
      d.changed_at = 0;
      d.approved_by = r.kind == "tool" ? "on_change:allow" : "recorded";
      d.approved_at = now;
      pins_changed = r.kind == "tool";
    }
  }
  if (auto w = host_.store->put_mcp_definition(d); !w)
    log::warn("mcp registry: cannot record a definition",
              {log::f("server", r.server), log::f("error", w.error().message)});
  if (pins_changed) (void)refresh_pins();
}

Result<void> McpRegistry::refresh_pins() {
  if (!host_.store) return Ok{};
  auto defs = host_.store->mcp_definitions("");
  if (!defs) return defs.error();
  store::ListQuery q;
  q.kind = kMcpServerKind;
  q.limit = 1000;
  auto entries = host_.store->list(q);
  if (!entries) return entries.error();
  auto pins = std::make_shared<reg::PinSet>();
  // The file's mcp.servers[].on_change, overridden by a stored entry's.
  if (auto snap = host_.snapshot ? host_.snapshot() : nullptr)
    for (const auto& s : snap->config.mcp.servers)
      if (auto p = reg::parse_on_change(s.on_change)) pins->servers[s.name].on_change = *p;
  for (const auto& e : entries->items) {
    if (!e.body.is_object()) continue;
    if (auto p = reg::parse_on_change(str(e.body.get_object(), "on_change")))
      pins->servers[e.name].on_change = *p;
  }
  for (auto& d : *defs) {
    if (d.kind != "tool") continue;
    // A server switched to `allow` accepts what waits for approval.
    if (d.seen_sha256 != d.pinned_sha256 && pins->policy(d.server) == reg::OnChange::kAllow) {
      d.pinned_sha256 = d.seen_sha256;
      d.pinned = d.seen;
      d.changed_at = 0;
      d.approved_by = "on_change:allow";
      d.approved_at = store::now_ms();
      if (auto w = host_.store->put_mcp_definition(d); !w) return w.error();
    }
    pins->servers[d.server].tools[d.name] = d.pinned_sha256;
  }
  reg::publish(std::move(pins));
  return Ok{};
}

Result<std::vector<McpEntry>> McpRegistry::entries(std::vector<store::Entity>& storage) {
  storage.clear();
  if (host_.store) {
    store::ListQuery q;
    q.kind = kMcpServerKind;
    q.limit = 1000;
    for (;;) {
      auto page = host_.store->list(q);
      if (!page) return page.error();
      for (auto& e : page->items) storage.push_back(std::move(e));
      if (page->next_cursor.empty()) break;
      q.cursor = page->next_cursor;
    }
  }
  auto snap = host_.snapshot ? host_.snapshot() : nullptr;
  std::string base = host_.public_url ? host_.public_url() : std::string();
  std::map<std::string, McpEntry> out;
  static const int64_t kStarted = store::now_ms();
  if (snap) {
    for (const auto& s : snap->config.mcp.servers) {
      McpEntry e;
      e.name = s.name;
      e.origin = "config";
      e.transport = s.transport == config::McpTransport::kStdio            ? "stdio"
                    : s.transport == config::McpTransport::kStreamableHttp ? "streamable-http"
                                                                           : "openapi";
      if (s.transport == config::McpTransport::kStreamableHttp) e.url = s.url;
      e.on_change = s.on_change;
      // A config server without an entry is published as version 1.0.0.
      e.versions.push_back(McpVersion{"1.0.0", "published", {}, {}, kStarted, kStarted, kStarted});
      out[s.name] = std::move(e);
    }
    for (const auto& r : snap->config.routes) {
      if (!r.mcp) continue;
      for (const auto& server : r.mcp->servers) {
        auto it = out.find(server);
        if (it == out.end()) continue;
        it->second.routes.push_back(r.name);
        for (const auto& p : r.match.paths)
          if (p.kind != config::PathKind::kRegex && !base.empty())
            it->second.remotes.push_back(base + p.value);
      }
    }
  }
  for (const auto& ent : storage) {
    if (ent.workspace != store::kDefaultWorkspace || !ent.body.is_object()) continue;
    auto [it, fresh] = out.try_emplace(ent.name);
    McpEntry& e = it->second;
    if (fresh) {
      e.name = ent.name;
      e.origin = "api";
    }
    e.entity = &ent;
    const json::object& b = ent.body.as_object();
    e.registry_name = str(b, "registry_name");
    e.title = str(b, "title");
    e.description = str(b, "description");
    e.owner = str(b, "owner");
    e.website_url = str(b, "website_url");
    if (const json::value* r = b.if_contains("repository")) e.repository = *r;
    if (b.contains("on_change")) e.on_change = str(b, "on_change");
    if (const json::value* rem = b.if_contains("remotes"); rem && rem->is_array())
      for (const auto& u : rem->get_array())
        if (u.is_string()) e.extra_remotes.emplace_back(u.get_string());
    e.versions.clear();
    if (const json::value* vs = b.if_contains("versions"); vs && vs->is_array())
      for (const auto& v : vs->get_array()) {
        if (!v.is_object()) continue;
        const auto& vo = v.get_object();
        e.versions.push_back(McpVersion{str(vo, "version"), str(vo, "status"),
                                        str(vo, "description"), str(vo, "status_message"),
                                        num(vo, "created_at"), num(vo, "updated_at"),
                                        num(vo, "published_at")});
      }
  }
  std::vector<McpEntry> list;
  auto pins = reg::current();
  for (auto& [name, e] : out) {
    if (e.registry_name.empty()) e.registry_name = "local.gatehouse/" + name;
    if (e.on_change.empty())
      e.on_change = std::string(reg::on_change_name(pins->default_on_change));
    list.push_back(std::move(e));
  }
  return list;
}

std::optional<McpHealth> McpRegistry::health(const std::string& server) const {
  auto it = health_.find(server);
  if (it == health_.end()) return std::nullopt;
  return it->second;
}

Result<store::McpDefinition> McpRegistry::approve(const std::string& server,
                                                  const std::string& kind, const std::string& name,
                                                  const std::string& expected,
                                                  const std::string& actor) {
  auto rows = host_.store->mcp_definitions(server);
  if (!rows) return rows.error();
  for (auto& d : *rows) {
    if (d.kind != kind || d.name != name) continue;
    if (!expected.empty() && expected != d.seen_sha256)
      return make_error("definition_changed",
                        "the definition seen now has sha256 " + d.seen_sha256 +
                            ", not the one given; review the new diff and approve that",
                        "sha256", 409, ErrorSide::kDownstream);
    d.pinned_sha256 = d.seen_sha256;
    d.pinned = d.seen;
    d.changed_at = 0;
    d.approved_by = actor;
    d.approved_at = store::now_ms();
    if (auto w = host_.store->put_mcp_definition(d); !w) return w.error();
    if (auto r = refresh_pins(); !r) return r.error();
    log::info("mcp definition approved",
              {log::f("server", server), log::f("kind", kind), log::f("name", name),
               log::f("sha256", d.pinned_sha256), log::f("actor", actor)});
    return d;
  }
  return make_error(
      "not_found",
      "no " + kind + " \"" + name + "\" has been seen on MCP server \"" + server + "\"", {}, 404,
      ErrorSide::kDownstream);
}

}  // namespace gatehouse::admin
