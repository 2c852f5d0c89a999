// The MCP registry on the control plane: registry entries (`mcp_server`
// entities: owner, versions and their status, on_change policy), the
// definitions the gateway last saw per upstream server (store table
// mcp_definitions), tool pins and approvals, node-local health, and the view
// that merges config-file servers (read-only origin) with stored entries.
// Runs on the control thread; workers reach it only through the reports of
// mcp/registry/pins.hpp.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/api.hpp"
#include "common/result.hpp"
#include "mcp/registry/pins.hpp"
#include "mcp/registry/versions.hpp"
#include "store/store.hpp"

namespace gatehouse::proxy {
struct Snapshot;
}

namespace gatehouse::admin {

using mcp::registry::compare_versions;
using mcp::registry::parse_rfc3339;
using mcp::registry::rfc3339;
using mcp::registry::valid_version;

inline constexpr const char* kMcpServerKind = "mcp_server";

// One version of a registry entry.
struct McpVersion {
  std::string version;
  std::string status;  // draft | published | deprecated
  std::string description;
  std::string status_message;
  int64_t created_at = 0;  // unix ms
  int64_t updated_at = 0;
  int64_t published_at = 0;  // first time it was published; 0 = never
};

// A registry entry as both APIs show it.
struct McpEntry {
  std::string name;           // the gateway's server name (mcp.servers[].name)
  std::string origin;         // "config" (the file's mcp.servers) | "api"
  std::string registry_name;  // reverse-DNS "namespace/name" for /v0
  std::string title, description, owner, website_url;
  boost::json::value repository;     // object or null
  std::string on_change;             // allow | warn | block
  std::string transport;             // stdio | streamable-http | openapi | "" (catalog entry)
  std::string url;                   // streamable-http upstream URL (never commands or headers)
  std::vector<std::string> routes;   // MCP routes that serve the server
  std::vector<std::string> remotes;  // endpoint URLs (routes' paths on the public URL)
  std::vector<std::string> extra_remotes;  // entries' own `remotes` URLs
  std::vector<McpVersion> versions;
  const store::Entity* entity = nullptr;  // the stored entry, if any
};

struct McpHealth {
  bool ok = true;
  std::string error;
  int64_t checked_at = 0;  // unix ms
};

class McpRegistry {
 public:
  struct Host {
    store::Store* store = nullptr;
    std::function<std::shared_ptr<const proxy::Snapshot>()> snapshot;
    // Base URL clients reach the proxy at ("http://127.0.0.1:8080").
    std::function<std::string()> public_url;
  };
  explicit McpRegistry(Host host);

  // A worker's report (mcp/registry/pins.hpp), on the control thread.
  void on_report(const mcp::registry::Report& r);
  // Rebuilds the pin set from the store (definitions and entries' policies)
  // and publishes it to the workers. Also run on a timer, so approvals and
  // policies set on another node arrive here.
  Result<void> refresh_pins();

  // Every entry: config servers first merged with stored entries of the same
  // name, then entries only in the store; ordered by name.
  Result<std::vector<McpEntry>> entries(std::vector<store::Entity>& storage);
  std::optional<McpHealth> health(const std::string& server) const;

  // Pins the definition last seen (of `kind`/`name` on `server`). When
  // `expected` is given it must be the seen hash (409 otherwise), so an
  // operator approves what was reviewed, not a newer change.
  Result<store::McpDefinition> approve(const std::string& server, const std::string& kind,
                                       const std::string& name, const std::string& expected,
                                       const std::string& actor);

  Host& host() { return host_; }

 private:
  Host host_;
  std::map<std::string, McpHealth> health_;
};

// Entry body checks (POST/PUT/PATCH): fields, enums, versions. `existing`
// keeps versions' timestamps.
Result<void> check_mcp_entry(boost::json::object& body, const boost::json::object* existing);
// The latest visible version of an entry: highest published, else highest
// deprecated; -1 when every version is a draft.
int latest_index(const McpEntry& e);

// The registry read API (mcp_registry_v0.cpp): whether a raw request
// target is one of its paths, and the answer.
bool is_registry_target(std::string_view target);
AdminResponse registry_v0(McpRegistry& registry, std::string_view method, std::string_view target);

}  // namespace gatehouse::admin
