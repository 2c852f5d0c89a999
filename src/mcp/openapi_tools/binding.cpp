// Resolving a REST-API MCP server against the snapshot's specs (see
// upstream.hpp): done once per snapshot build, so a bad reference is a
// config error with its field and position, never a failed call.
#include "mcp/openapi_tools/upstream.hpp"

namespace gatehouse::mcp {

namespace {

Error config_error(const config::McpServerConfig& s, std::string field, std::string message) {
  Error e = make_error("invalid_reference", std::move(message), std::move(field), 400,
                       ErrorSide::kConfig);
  e.file = s.pos.file;
  e.line = s.pos.line;
  e.column = s.pos.column;
  return e;
}

// The path of the document's first server URL ("http://h/v1" -> "/v1"):
// where the API lives on its upstream when the spec says nothing else.
std::string server_path(const apim::openapi::Document& d) {
  if (d.servers.empty()) return {};
  std::string_view u = d.servers.front().url;
  if (size_t scheme = u.find("://"); scheme != std::string_view::npos) {
    size_t slash = u.find('/', scheme + 3);
    u = slash == std::string_view::npos ? std::string_view{} : u.substr(slash);
  }
  if (!u.starts_with('/')) return {};
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  return std::string(u);
}

}  // namespace

Result<std::shared_ptr<const OpenApiBinding>> bind_openapi(const config::Config& /*cfg*/,
                                                           const config::McpServerConfig& s,
                                                           const std::string& field,
                                                           const apim::SpecSet* specs) {
  const bool by_api = !s.openapi_api.empty();
  const apim::SpecEntry* e = nullptr;
  if (specs) e = by_api ? specs->find_api(s.openapi_api) : specs->find(s.openapi_spec);
  if (!e)
    return config_error(s, field + (by_api ? ".api" : ".spec"),
                        by_api ? "no deployed version of the API \"" + s.openapi_api + "\""
                               : "unknown spec \"" + s.openapi_spec + "\" (see specs:)");
  std::string why;
  openapi_tools::Options o{s.openapi_operations};
  auto tools = openapi_tools::build_tools(*e->document, o, why);
  if (!why.empty()) return config_error(s, field + ".operations", why);
  auto b = std::make_shared<OpenApiBinding>();
  b->server = s.name;
  b->document = e->document;
  b->tools = std::move(tools);
  // A deployed API's routes carry exactly the deployment's prefix ("" when
  // its routes are the document's paths as written); a spec's routes are the
  // operator's, so the document's own server path is the best guess.
  b->base_path = by_api || !e->base_path.empty() ? e->base_path : server_path(*e->document);
  b->timeout_ms = s.timeout_ms;
  return std::shared_ptr<const OpenApiBinding>(std::move(b));
}

}  // namespace gatehouse::mcp
