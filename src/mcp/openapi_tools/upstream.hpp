// The MCP-thread side of REST to MCP: an Upstream that is a REST API.
#pragma once

#include <functional>
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
  std::string base_path;  // prefix of the API's paths on the gateway ("/v1")
  int64_t timeout_ms = 60'000;
};

// Resolves `server` (an openapi: entry at `field`) against the snapshot's
// specs: the document, its tools and the base path.
Result<std::shared_ptr<const OpenApiBinding>> bind_openapi(const config::Config& cfg,
                                                           const config::McpServerConfig& server,
                                                           const std::string& field,
                                                           const apim::SpecSet* specs);

// MCP thread: initialize and the lists (calls never come here).
std::shared_ptr<Upstream> make_openapi_upstream(asio::io_context& ioc,
                                                std::shared_ptr<const OpenApiBinding> binding);

// Worker: a tools/call `message` (tool name as the server knows it) turned
// into an HTTP request, sent with `send` through the gateway route serving
// it, and its answer turned into the JSON-RPC response, in the shape an
// upstream's answer has (a failure when nothing came back).
awaitable<Event> call_openapi_tool(
    const OpenApiBinding& b, const json::object& message,
    const std::function<awaitable<openapi_tools::HttpAnswer>(openapi_tools::HttpCall, int64_t)>&
        send);

}  // namespace gatehouse::mcp
