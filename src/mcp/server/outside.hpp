// What upstream servers send outside any call (MCP 2025-11-25: a server's
// standalone stream carries requests and notifications unrelated to a
// client request) reaches the client's standalone stream, while it is open.
//
// The client's GET stream is the only place such a message can go, so the
// relay lives as long as that stream: opening it makes every streamable-HTTP
// upstream of the session open its own GET stream (upstream/http.cpp) and
// every HTTP+SSE upstream hand over what it would otherwise refuse
// (upstream/sse.cpp); closing it undoes both. Server-to-client requests get
// the same sealed ids as those sent during a call, so the client's answer,
// POSTed to any worker or node, reaches the upstream session that asked.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/server/handler.hpp"
#include "mcp/server/session_token.hpp"
#include "mcp/server/stream_bus.hpp"
#include "mcp/upstream/upstream.hpp"

namespace gatehouse::mcp {

// Ids of server-to-client requests relayed to a client: this prefix and a
// sealed {route, consumer, server, upstream session, version, upstream id},
// so the client's answer finds its way back on any worker or node, with no
// table (handle_client_response opens it).
inline constexpr std::string_view kRelayIdPrefix = "gh-s2c.";

struct RelayTarget {
  std::string route;
  std::string consumer;
  std::string server;
  std::string upstream_session;
  std::string protocol_version;
};

std::string relay_id(const SessionKey& key, const RelayTarget& to, const json::value& upstream_id);
// The client capability a server-to-client request needs ("" for others).
std::string_view needed_capability(std::string_view method);
// Whether the client declared `capability` at initialize.
bool client_declared(const SessionState& st, std::string_view capability);

// The sink of one upstream session for the client stream `feed` (made on
// the worker, then used on the MCP thread): a request is relayed with a
// sealed id to the stream of `session_token`, or answered (ping, refusal).
std::shared_ptr<OutsideSink> make_client_sink(std::string session_token, std::shared_ptr<Feed> feed,
                                              RelayTarget to, std::shared_ptr<const SessionKey> key,
                                              const SessionState& st);

// Worker: held by the handler of a client's GET stream for as long as the
// stream is open; `feed` is that stream's. Starts the upstreams' relays on
// construction and stops them on destruction.
class OutsideRelay {
 public:
  OutsideRelay(const Request& rq, std::shared_ptr<Feed> feed);
  ~OutsideRelay();
  OutsideRelay(const OutsideRelay&) = delete;
  OutsideRelay& operator=(const OutsideRelay&) = delete;

 private:
  struct Listening {
    config::McpServerConfig cfg;
    std::string session_id;
    std::shared_ptr<OutsideSink> sink;
  };
  std::vector<Listening> listening_;
};

}  // namespace gatehouse::mcp
