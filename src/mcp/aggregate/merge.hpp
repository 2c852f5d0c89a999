// The virtual server's view of several upstream servers: names merged with
// prefixes, filters, collisions and limits reported, an index from exposed
// names back to (server, original name), and our own list cursors.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/entities.hpp"

namespace gatehouse::mcp::aggregate {

namespace json = boost::json;

// MCP tool names are at most 128 characters (2025-11-25, tools).
inline constexpr size_t kMaxName = 128;
// What separates a server prefix from the upstream's name.
inline constexpr std::string_view kSeparator = "_";

// '*' any run (also empty), '?' one character; everything else literal.
bool glob_match(std::string_view pattern, std::string_view text);

// True when a tool (by its upstream name or its exposed name) passes the
// route's allow/deny globs: denied if any deny glob matches either name;
// otherwise allowed if there are no allow globs or one matches either.
bool tool_allowed(const config::RouteMcpConfig& route, std::string_view original,
                  std::string_view exposed);

struct Target {
  size_t server = 0;     // index into the route's servers
  std::string original;  // the upstream's own name (or URI)
};

struct Skipped {
  std::string server;
  std::string name;
  std::string reason;
};

struct Merged {
  json::array items;                              // what the client sees, in order
  std::unordered_map<std::string, Target> index;  // exposed name -> owner
  std::vector<Skipped> skipped;
};

// Items of one upstream list (tools, prompts), per server in route order.
using PerServer = std::vector<std::vector<json::object>>;

// Merges named items (`key` is "name"), renaming per `mode`. `filter` is
// applied to tools only (pass nullptr for prompts).
Merged merge_named(const PerServer& lists, const std::vector<std::string>& servers,
                   config::McpPrefix mode, const config::RouteMcpConfig* filter);

// Merges items identified by a URI member (`key` "uri" or "uriTemplate"):
// never renamed; a URI two servers list goes to the first (the other is
// reported as a collision).
Merged merge_uris(const PerServer& lists, const std::vector<std::string>& servers,
                  std::string_view key);

// RFC 6570 templates as MCP servers write them: {var} matches one or more
// characters other than '/', {+var}, {#var} and {/var...} any run.
bool uri_template_match(std::string_view tmpl, std::string_view uri);

// Our list cursor: an offset into the merged list, opaque to clients.
std::string encode_cursor(std::string_view list, size_t offset);
std::optional<size_t> decode_cursor(std::string_view list, std::string_view cursor);

}  // namespace gatehouse::mcp::aggregate
