// The MCP Registry's generic read API (GET /v0/servers ..., also under
// /v0.1): published and deprecated versions of the registry's entries as
// server.json documents, `remotes` pointing at the gateway's MCP routes.
// Open (no token), like the public registry: only what an operator
// published is shown. Server names contain '/', sent URL-encoded (%2F) as
// the API says, which the admin listener's strict path normaliser refuses,
// so these paths are parsed here from the raw request target.
#include <algorithm>
#include <boost/json.hpp>

#include "admin/mcp_registry.hpp"
#include "store/codec.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

constexpr const char* kSchema =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
constexpr size_t kDefaultLimit = 30;
constexpr size_t kMaxLimit = 100;

AdminResponse fail(int status, std::string_view code, std::string message,
                   std::string_view field = {}) {
  json::object o{{"type", "https://gatehouse.dev/problems/" + std::string(code)},
                 {"status", status},
                 {"code", code},
                 {"detail", message},
                 {"error", message}};  // the registry API's own error member
  if (!field.empty()) o["field"] = field;
  AdminResponse r = json_response(status, o);
  r.content_type = "application/problem+json";
  return r;
}

using Query = std::map<std::string, std::string>;

// One visible version of an entry as a ServerResponse.
json::object server_response(const McpEntry& e, const McpVersion& v, bool latest) {
  json::object server;
  server["$schema"] = kSchema;
  server["name"] = e.registry_name;
  if (!e.title.empty()) server["title"] = e.title;
  std::string desc = !v.description.empty()   ? v.description
                     : !e.description.empty() ? e.description
                                              : "MCP server " + e.name + " through Gatehouse";
  if (desc.size() > 100) desc.resize(100);
  server["description"] = desc;
  server["version"] = v.version;
  if (!e.website_url.empty()) server["websiteUrl"] = e.website_url;
  if (e.repository.is_object()) server["repository"] = e.repository;
  json::array remotes;
  for (const auto& u : e.remotes)
    remotes.push_back(json::object{{"type", "streamable-http"}, {"url", u}});
  for (const auto& u : e.extra_remotes)
    remotes.push_back(json::object{{"type", "streamable-http"}, {"url", u}});
  if (!remotes.empty()) server["remotes"] = std::move(remotes);
  json::object official{{"status", v.status == "deprecated" ? "deprecated" : "active"},
                        {"publishedAt", rfc3339(v.published_at ? v.published_at : v.created_at)},
                        {"updatedAt", rfc3339(v.updated_at)},
                        {"isLatest", latest}};
  if (!v.status_message.empty()) official["statusMessage"] = v.status_message;
  json::object gatehouse{{"server", e.name}, {"origin", e.origin}};
  if (!e.owner.empty()) gatehouse["owner"] = e.owner;
  json::object meta{{"io.modelcontextprotocol.registry/official", std::move(official)},
                    {"io.gatehouse/registry", std::move(gatehouse)}};
  return json::object{{"server", std::move(server)}, {"_meta", std::move(meta)}};
}

struct Row {
  const McpEntry* entry;
  const McpVersion* version;
  bool latest;
};

std::vector<Row> visible(const std::vector<McpEntry>& list) {
  std::vector<Row> rows;
  for (const auto& e : list) {
    int latest = latest_index(e);
    for (size_t i = 0; i < e.versions.size(); ++i)
      if (e.versions[i].status != "draft")
        rows.push_back({&e, &e.versions[i], static_cast<int>(i) == latest});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.entry->registry_name != b.entry->registry_name)
      return a.entry->registry_name < b.entry->registry_name;
    return compare_versions(a.version->version, b.version->version) < 0;
  });
  return rows;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

AdminResponse list_servers(const std::vector<Row>& rows, const Query& q) {
  size_t limit = kDefaultLimit;
  if (auto it = q.find("limit"); it != q.end()) {
    const std::string& l = it->second;
    if (l.empty() || l.size() > 4 || l.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(l) < 1 || std::stoul(l) > kMaxLimit)
      return fail(400, "invalid_query", "limit must be 1.." + std::to_string(kMaxLimit), "limit");
    limit = std::stoul(l);
  }
  std::vector<std::string> after;
  if (auto it = q.find("cursor"); it != q.end() && !it->second.empty()) {
    auto key = store::decode_cursor(it->second, 2);
    if (!key) return fail(400, "invalid_cursor", "cursor is not one this registry sent", "cursor");
    after = *key;
  }
  std::optional<int64_t> since;
  if (auto it = q.find("updated_since"); it != q.end()) {
    since = parse_rfc3339(it->second);
    if (!since)
      return fail(400, "invalid_query",
                  "updated_since must be an RFC 3339 date-time, e.g. 2025-08-07T13:15:04Z",
                  "updated_since");
  }
  std::string search, version;
  if (auto it = q.find("search"); it != q.end()) search = lower(it->second);
  if (auto it = q.find("version"); it != q.end()) version = it->second;
  json::array servers;
  std::string next;
  for (const auto& r : rows) {
    if (!after.empty()) {
      int c = r.entry->registry_name.compare(after[0]);
      if (c < 0 || (c == 0 && compare_versions(r.version->version, after[1]) <= 0)) continue;
    }
    if (!search.empty() && lower(r.entry->registry_name).find(search) == std::string::npos)
      continue;
    if (version == "latest" ? !r.latest : (!version.empty() && r.version->version != version))
      continue;
    if (since && r.version->updated_at <= *since) continue;
    if (servers.size() == limit) {
      // There is more: the cursor is the last row sent.
      const auto& last = servers.back().as_object();
      next = store::encode_cursor({std::string(last.at("server").at("name").as_string()),
                                   std::string(last.at("server").at("version").as_string())});
      break;
    }
    servers.push_back(server_response(*r.entry, *r.version, r.latest));
  }
  json::object metadata{{"count", servers.size()}};
  if (!next.empty()) {
    metadata["nextCursor"] = next;
    metadata["next_cursor"] = next;  // the v0 spelling
  }
  return json_response(
      200, json::object{{"servers", std::move(servers)}, {"metadata", std::move(metadata)}});
}

}  // namespace

bool is_registry_target(std::string_view target) {
  for (std::string_view p : {"/v0/servers", "/v0.1/servers"}) {
    if (!target.starts_with(p)) continue;
    std::string_view rest = target.substr(p.size());
    if (rest.empty() || rest[0] == '/' || rest[0] == '?') return true;
  }
  return false;
}

AdminResponse registry_v0(McpRegistry& registry, std::string_view method, std::string_view target) {
  if (method != "GET" && method != "HEAD") {
    auto r = fail(405, "method_not_allowed", "this registry is read-only; use GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  std::string_view path = target, query;
  if (auto qm = target.find('?'); qm != std::string_view::npos) {
    path = target.substr(0, qm);
    query = target.substr(qm + 1);
  }
  if (auto h = path.find('#'); h != std::string_view::npos) path = path.substr(0, h);
  auto q = mcp::registry::parse_query(query);
  if (!q) return fail(400, "invalid_query", "malformed percent-encoding in the query");
  path.remove_prefix(path.starts_with("/v0.1/") ? 13 : 11);  // "/v0[.1]/servers"
  auto where = mcp::registry::parse_registry_path(path);
  if (where.status)
    return fail(where.status, where.status == 404 ? "not_found" : "invalid_path", where.error);

  std::vector<store::Entity> storage;
  auto list = registry.entries(storage);
  if (!list)
    return fail(list.error().status ? list.error().status : 500, list.error().code,
                list.error().message);
  auto rows = visible(*list);
  if (where.list) return list_servers(rows, *q);

  std::vector<Row> mine;
  for (const auto& r : rows)
    if (r.entry->registry_name == where.name) mine.push_back(r);
  if (mine.empty()) return fail(404, "not_found", "Server not found");
  if (!where.versions || where.version == "latest") {
    auto latest = std::find_if(mine.begin(), mine.end(), [](const Row& r) { return r.latest; });
    if (latest == mine.end()) latest = mine.end() - 1;
    return json_response(200, server_response(*latest->entry, *latest->version, latest->latest));
  }
  if (where.version.empty()) {
    // Newest first, as the registry orders a server's versions.
    json::array servers;
    for (auto it = mine.rbegin(); it != mine.rend(); ++it)
      servers.push_back(server_response(*it->entry, *it->version, it->latest));
    json::object metadata{{"count", servers.size()}};
    return json_response(
        200, json::object{{"servers", std::move(servers)}, {"metadata", std::move(metadata)}});
  }
  for (const auto& r : mine)
    if (r.version->version == where.version)
      return json_response(200, server_response(*r.entry, *r.version, r.latest));
  return fail(404, "not_found", "Server version not found");
}

}  // namespace gatehouse::admin
