// The MCP-thread side of REST to MCP: an Upstream that is a REST API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apim/openapi/document.hpp"
#include "apim/spec_set.hpp"
#include "common/result.hpp"
#include "mcp/openapi_tools/tools.hpp"
#include "mcp/upstream/upstream.hpp"

namespace gatehouse::mcp {

// Everything a REST-API MCP server needs, resolved when the snapshot is
// built (the document, the picked operations as tools, where to send).
struct OpenApiBinding {
  std::string server;                                       // the mcp.servers[] name
  std::shared_ptr<const apim::openapi::Document> document;  // keeps `tools[].operation` alive
  std::vector<openapi_tools::Tool> tools;
  std::string base_path;  // prefix of the API's paths on its upstream ("/v1")
  std::string host;       // the upstream's first target
  uint16_t port = 80;
  int64_t timeout_ms = 60'000;
};

// Resolves `server` (an openapi: entry at `field`) against the snapshot's
// specs: the document, its tools, the base path and the upstream address.
Result<std::shared_ptr<const OpenApiBinding>> bind_openapi(const config::Config& cfg,
                                                           const config::McpServerConfig& server,
                                                           const std::string& field,
                                                           const apim::SpecSet* specs);

std::shared_ptr<Upstream> make_openapi_upstream(asio::io_context& ioc,
                                                std::shared_ptr<const OpenApiBinding> binding);

}  // namespace gatehouse::mcp
