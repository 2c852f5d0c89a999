// Sessions of the deprecated HTTP+SSE transport (2024-11-05) on this node.
// A legacy client opens a GET stream first and is told where to POST
// (`endpoint` event, `?sessionId=ID`); its messages then arrive on other
// connections, possibly on other workers, and name only that id. So the id
// maps to what a Streamable HTTP client would carry itself: the route, the
// consumer, and (after initialize) the sealed session token. Node-local like
// the stream it names; shards of mutex + map, touched once per message of
// this deprecated transport only, never on the Streamable HTTP path.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mcp::legacy {

struct Entry {
  std::string route;
  std::string consumer;
  std::string token;  // the sealed session (server/session_token.hpp); empty before initialize
};

// At most this many open legacy streams per node.
inline constexpr size_t kMaxSessions = 10'000;

// A new session id (32 hex digits from 16 random bytes), or empty when the
// node already has kMaxSessions.
std::string open(std::string route, std::string consumer);
std::optional<Entry> find(std::string_view id);
// After initialize: the token later messages of the session run with.
void set_token(std::string_view id, std::string token);
// The stream ended: later POSTs with the id get 404.
void close(std::string_view id);
size_t count();

}  // namespace gatehouse::mcp::legacy
