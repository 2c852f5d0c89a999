// The node-wide MCP thread: one io_context on its own thread holding every
// upstream MCP client (stdio children, streamable-HTTP sessions). Workers
// never lock: they post Ops here and await the Call (upstream/call.hpp).
// Started on first use, so `gatehouse check` and config validation never
// spawn a child process.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/entities.hpp"
#include "mcp/server/stream_bus.hpp"
#include "mcp/upstream/call.hpp"

namespace gatehouse::mcp {

struct OpenApiBinding;
class OutsideSink;

// What a server's client is made with besides its config, built with the
// snapshot (Runtime::parts): a REST-API server's binding (openapi_tools/),
// an https server's TLS context when it has a tls: block (null: the
// system trust store). Used when the client is created, i.e. on first use
// and after the server's config changed; a later snapshot's equal parts
// are not looked at.
struct ServerParts {
  std::shared_ptr<const OpenApiBinding> binding;
  std::shared_ptr<asio::ssl::context> tls;
};

// Worker side: runs `op` against the server `cfg` describes (the upstream is
// created on first use and replaced when its config changed).
std::shared_ptr<Call> submit(const config::McpServerConfig& cfg, Op op,
                             asio::any_io_executor worker, ServerParts parts);

// Worker side of a client's standalone stream (server/outside.hpp): what
// the server `cfg` sends outside any call in upstream session `session_id`
// goes to `sink` until the matching unlisten. Streamable HTTP and HTTP+SSE
// servers only (the others have no session of their own).
void upstream_listen(const config::McpServerConfig& cfg, ServerParts parts, std::string session_id,
                     std::string version, std::shared_ptr<OutsideSink> sink);
void upstream_unlisten(const config::McpServerConfig& cfg, std::string session_id,
                       std::shared_ptr<OutsideSink> sink);

// Control thread, after a reload: stops upstreams whose server is gone from
// (or changed in) `cfg`. A no-op when the MCP thread never started.
void retain(const config::McpConfig& cfg);

// Worker side of the session streams (server/stream_bus.hpp); `session` is
// the client's Mcp-Session-Id.
void stream_listen(std::string session, std::vector<std::string> servers,
                   std::optional<EventId> resume, std::shared_ptr<Feed> feed);
void stream_publish(std::string session, std::string data);
void stream_record(std::string session, EventId id, std::string data, bool final);
void stream_forget(std::string session);
// MCP thread (an upstream's own notification, e.g. a stdio child's
// list_changed): to every live standalone stream whose route uses `server`.
void stream_broadcast(const std::string& server, const std::string& data);
// The same from a worker.
void stream_broadcast_post(std::string server, std::string data);

// Process end: stops every upstream (children are terminated and reaped)
// and joins the MCP thread.
void shutdown();

}  // namespace gatehouse::mcp
