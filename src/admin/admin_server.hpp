// The admin listener (default 127.0.0.1:9080) on the control thread:
// /metrics (Prometheus), /status (readiness), /status/live (liveness). The
// admin REST API under /api/v1 (api.hpp).
#pragma once

#include <memory>
#include <string>

#include "admin/api.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"

namespace gatehouse::server {
class Server;
}

namespace gatehouse::admin {

class AdminServer {
 public:
  AdminServer(asio::io_context& ioc, server::Server& server);
  ~AdminServer();
  Result<tcp::endpoint> listen(const tcp::endpoint& ep);
  void stop_accepting();

  // Routes one request (exposed for tests).
  AdminResponse dispatch(std::string_view method, std::string_view path);
  AdminResponse dispatch(const ApiRequest& req);

 private:
  awaitable<void> accept_loop();
  awaitable<void> serve(tcp::socket sock);
  void start_mcp_registry();

  asio::io_context& ioc_;
  server::Server& server_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<Api> api_;
  std::shared_ptr<McpRegistry> mcp_registry_;
  std::shared_ptr<asio::steady_timer> pin_timer_;
};

}  // namespace gatehouse::admin
