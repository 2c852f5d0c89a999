// The virtual MCP server of one route: answers a client's JSON-RPC message
// by fanning out to (or picking one of) the route's upstream servers. Runs on
// the worker; upstream I/O happens on the MCP thread (hub.hpp).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "apim/spec_set.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "mcp/hub.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/openapi_tools/tools.hpp"
#include "mcp/server/session_token.hpp"
#include "net/asio.hpp"

namespace gatehouse::policy {
struct RequestContext;
}

namespace gatehouse::mcp {

namespace json = boost::json;

// The mcp: section compiled into the snapshot.
struct OpenApiBinding;
namespace limits {
class ToolLimits;
}

struct Runtime {
  config::McpConfig cfg;
  std::shared_ptr<const SessionKey> key;
  size_t workers = 1;
  uint64_t generation = 0;
  // REST-API servers (openapi:), resolved against the snapshot's specs.
  std::unordered_map<std::string, std::shared_ptr<const OpenApiBinding>> openapi;
  // RFC 9728 metadata documents of routes with `authorization`, by the path
  // they are served at (server/auth.hpp); the bare well-known path serves
  // the first such route's, for clients that only try that one.
  std::unordered_map<std::string, std::string> resource_metadata;
  // Per-tool rate limits and quotas of routes that have some, by route name.
  std::unordered_map<std::string, std::shared_ptr<const limits::ToolLimits>> tool_limits;
  // https servers with a tls: block: their client context (built once per
  // server config, kept from the previous snapshot while the block is equal).
  std::unordered_map<std::string, std::shared_ptr<asio::ssl::context>> tls;
  const config::McpServerConfig* server(std::string_view name) const;
  std::shared_ptr<const OpenApiBinding> binding(const std::string& name) const;
  ServerParts parts(const std::string& name) const;  // what hub::submit takes
  // Fails (with the field path and position) when an openapi server names
  // an API or spec the snapshot does not have, or operations it lacks, or a
  // tls: block's files are unreadable or not usable PEM.
  static Result<std::shared_ptr<const Runtime>> build(const config::Config& cfg,
                                                      const apim::SpecSet* specs, size_t workers,
                                                      uint64_t generation,
                                                      const Runtime* previous = nullptr);
};

// What the access log's audit fields say about one message.
struct Outcome {
  std::string method;
  std::string server;       // the upstream that answered (calls), empty for fan-outs
  std::string name;         // tool, prompt or URI as the client named it
  int64_t rpc_error = 0;    // JSON-RPC error code of our answer, 0 = success
  bool tool_error = false;  // a tools/call result with isError: true
  std::string arguments;    // tools/call arguments (only with log_arguments)
  int64_t upstream_us = -1;
  std::string limited;  // "rate" / "quota": a tools/call refused by mcp.tools.limits
};

// Sends a REST-to-MCP tool call's request through the gateway route that
// serves it, for this request's caller (proxy/internal_call.hpp).
using RestSend = std::function<awaitable<openapi_tools::HttpAnswer>(openapi_tools::HttpCall,
                                                                    int64_t timeout_ms)>;

struct Request {
  const Runtime* rt = nullptr;
  const config::RouteConfig* route = nullptr;
  // Owns what rt and route point into (the snapshot), for work that outlives
  // the request (a task's call, server/tasks.hpp); may be null.
  std::shared_ptr<const void> keep_alive;
  std::string consumer;
  // The caller for per-tool rules (server/tool_rules.hpp): the consumer's
  // groups and the request's policy variables (JWT claims); may be null.
  const std::vector<std::string>* groups = nullptr;
  const std::unordered_map<std::string, std::string>* vars = nullptr;
  // The request's policy context: what tool limits count by (consumer,
  // credential, IP, header) and where their response headers go; may be null.
  policy::RequestContext* pctx = nullptr;
  std::optional<SessionState> session;  // absent for initialize
  std::string session_token;            // as the client sent it
  bool modern = false;                  // 2026-07-28: stateless (server/modern.hpp)
  // A request header by name (modern tools/call checks Mcp-Param-* against
  // the tool's x-mcp-header arguments); may be null.
  std::function<const std::string*(std::string_view)> header;
  jsonrpc::Message msg;
  asio::any_io_executor worker;
  size_t worker_index = 0;
  // Called for each notification about this request (progress) before the
  // response; null when the client cannot receive them (JSON answer).
  std::function<awaitable<void>(const json::object&)> on_note;
  // Called for a server-to-client request (sampling, elicitation, roots)
  // an upstream sends while answering, its id already rewritten; null when
  // the transport cannot carry one (then the upstream gets -32601).
  std::function<awaitable<void>(const json::object&)> on_request;
  // tools/call to an openapi: server; null: such a call answers -32603.
  RestSend rest;
};

struct Reply {
  std::string body;               // the JSON-RPC response
  std::string new_session_token;  // initialize: the Mcp-Session-Id to send
  bool session_gone = false;      // an upstream lost the session: answer 404
};

awaitable<Reply> handle_request(Request& rq, Outcome& out);
// Client notifications (initialized, cancelled, ...): relayed where useful.
awaitable<void> handle_notification(Request& rq);
// A client's answer to a relayed server-to-client request: sent to the
// upstream that asked (the id says which). False when the id is not one the
// gateway made for this session's route and consumer.
awaitable<bool> handle_client_response(Request& rq);
// DELETE: ends the upstream sessions the token carries.
awaitable<void> close_session(Request& rq);

}  // namespace gatehouse::mcp
