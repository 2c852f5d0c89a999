// An upstream MCP server as the MCP thread sees it. Every method runs on the
// MCP thread; answers go back through the Call (see call.hpp).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "config/entities.hpp"
#include "mcp/upstream/call.hpp"
#include "net/asio.hpp"

namespace gatehouse::mcp {

// Where what a server sends outside any call (on its standalone stream)
// goes while the client of that upstream session has its own standalone
// stream open: server/outside.hpp. MCP thread only.
class OutsideSink {
 public:
  virtual ~OutsideSink() = default;
  // A notification, or a server-to-client request. For a request, the answer
  // to send back upstream at once (a ping's result, a -32601 refusal), or
  // nullopt when the request went to the client (its answer comes later, by
  // POST, as for requests sent during a call).
  virtual std::optional<json::object> take(json::object msg) = 0;
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual void submit(Op op, std::shared_ptr<Call> call) = 0;
  // Ends everything: pending calls fail, a child process is terminated.
  // `wait` blocks until a child has exited (shutdown), else reaping is async.
  virtual void stop(bool wait) = 0;
  // The client of upstream session `session_id` opened its standalone
  // stream: until unlisten() with the same sink, what the server sends
  // outside any call goes to `sink` (a streamable-HTTP upstream opens the
  // server's standalone GET stream for it). A later listen() replaces the
  // sink. Transports without sessions of their own ignore both.
  virtual void listen(const std::string& /*session_id*/, const std::string& /*version*/,
                      std::shared_ptr<OutsideSink> /*sink*/) {}
  virtual void unlisten(const std::string& /*session_id*/,
                        const std::shared_ptr<OutsideSink>& /*sink*/) {}
};

std::shared_ptr<Upstream> make_stdio_upstream(asio::io_context& ioc,
                                              const config::McpServerConfig& cfg);
// `tls`: the server's own client context (its tls: block), null for the
// system trust store; with it, calls, streams and the standalone GET use
// that context and `cfg.tls.sni`.
std::shared_ptr<Upstream> make_http_upstream(asio::io_context& ioc,
                                             const config::McpServerConfig& cfg,
                                             std::shared_ptr<asio::ssl::context> tls);
// The deprecated HTTP+SSE transport (2024-11-05): upstream/sse.cpp.
std::shared_ptr<Upstream> make_sse_upstream(asio::io_context& ioc,
                                            const config::McpServerConfig& cfg,
                                            std::shared_ptr<asio::ssl::context> tls);

// The gateway's clientInfo and the revisions it speaks, newest first.
inline constexpr const char* kClientName = "gatehouse";
inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kSupportedVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                     "2024-11-05"};
bool supported_version(std::string_view v);

}  // namespace gatehouse::mcp
