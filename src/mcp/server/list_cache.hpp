// Upstream lists (tools, prompts, resources, templates) cached per worker, so
// a list request or a call's name lookup does not ask every upstream again.
// Invalidation: an upstream's `notifications/*/list_changed` bumps its epoch
// (any thread: a relaxed atomic in a fixed table, hashed by server name; a
// neighbour sharing the slot just refetches), and every entry expires after
// kTtlMs for servers that never announce changes. Entries are keyed by the
// upstream session too: a streamable-HTTP server may answer each session
// differently, so only a shared stdio child's list is shared by sessions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mcp::list_cache {

inline constexpr int64_t kTtlMs = 60'000;
// Per worker; beyond it expired entries go, then everything (bounded memory).
inline constexpr size_t kMaxEntries = 4096;

// An upstream said its lists changed (or its child restarted).
void invalidate(std::string_view server);
uint64_t epoch(std::string_view server);

// Worker-local. `key` names the route generation, server, upstream session
// and method; `epoch` is the server's epoch read before the fetch began, so
// a change announced during the fetch leaves the entry stale.
const std::vector<boost::json::object>* find(const std::string& key, std::string_view server,
                                             int64_t now_ms);
void store(const std::string& key, std::string_view server, uint64_t epoch,
           std::vector<boost::json::object> items, int64_t now_ms);
size_t size();  // this worker's entries (tests)

}  // namespace gatehouse::mcp::list_cache
