// An upstream MCP server as the MCP thread sees it. Every method runs on the
// MCP thread; answers go back through the Call (see call.hpp).
#pragma once

#include <memory>

#include "config/entities.hpp"
#include "mcp/upstream/call.hpp"
#include "net/asio.hpp"

namespace gatehouse::mcp {

class Upstream {
 public:
  virtual ~Upstream() = default;
  virtual void submit(Op op, std::shared_ptr<Call> call) = 0;
  // Ends everything: pending calls fail, a child process is terminated.
  // `wait` blocks until a child has exited (shutdown), else reaping is async.
  virtual void stop(bool wait) = 0;
};

std::shared_ptr<Upstream> make_stdio_upstream(asio::io_context& ioc,
                                              const config::McpServerConfig& cfg);
std::shared_ptr<Upstream> make_http_upstream(asio::io_context& ioc,
                                             const config::McpServerConfig& cfg);
// The deprecated HTTP+SSE transport (2024-11-05): upstream/sse.cpp.
std::shared_ptr<Upstream> make_sse_upstream(asio::io_context& ioc,
                                            const config::McpServerConfig& cfg);

// The gateway's clientInfo and the revisions it speaks, newest first.
inline constexpr const char* kClientName = "gatehouse";
inline constexpr const char* kVersion = "0.1.0";
inline constexpr const char* kSupportedVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                      "2024-11-05"};
bool supported_version(std::string_view v);

}  // namespace gatehouse::mcp
