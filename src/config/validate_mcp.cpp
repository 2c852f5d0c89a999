// Checks of the mcp: section (servers, origins, session key) and of MCP routes.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>

#include "config/load_tls.hpp"
#include "config/loader.hpp"
#include "config/loader_reader.hpp"
#include "config/validate_mcp_limits.hpp"

namespace gatehouse::config {

namespace {

constexpr auto& idx = detail::index_field;  // "f" + 2 -> "f[2]"

using detail::in_quotes;

// Server names become tool-name prefixes ("<server>_<tool>"), so they keep
// to the characters MCP tool names allow, and stay short.
constexpr size_t kMaxServerName = 64;

bool header_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

class McpValidator {
 public:
  McpValidator(const FieldPositions& positions, std::vector<ConfigError>& errors)
      : positions_(positions), errors_(errors) {}

  void run(const Config& cfg) {
    const auto& mcp = cfg.mcp;
    std::map<std::string, std::string> first;
    std::vector<std::string> names;
    for (size_t i = 0; i < mcp.servers.size(); ++i) {
      const auto& s = mcp.servers[i];
      std::string f = idx("mcp.servers", i);
      check_server(s, f);
      if (s.name.empty()) continue;
      auto [it, fresh] = first.emplace(s.name, f);
      if (!fresh)
        error(s.pos, f + ".name", "duplicate_name",
              "duplicate MCP server " + in_quotes(s.name) + " (first at " + it->second + ")");
      names.push_back(s.name);
    }
    for (size_t i = 0; i < mcp.allowed_origins.size(); ++i) {
      const auto& o = mcp.allowed_origins[i];
      HttpUrl u;
      std::string why;
      bool ok = o == "*" || (parse_http_url(o, u, why) && u.prefix.empty() &&
                             o.find_first_of("?#") == std::string::npos);
      if (!ok)
        error({}, idx("mcp.allowed_origins", i), "invalid_value",
              in_quotes(o) + " is not an origin; expected scheme://host[:port] or \"*\"");
    }
    if (!mcp.session_secret.empty() && mcp.session_secret.size() < 32)
      error({}, "mcp.session_secret", "invalid_value",
            "must be at least 32 characters (it keys the session tokens)");
    if (mcp.session_ttl_ms <= 0) error({}, "mcp.session_ttl", "invalid_value", "must be positive");
    std::map<std::string, std::string> resources;  // metadata path -> first route field
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
      const auto& r = cfg.routes[i];
      if (!r.mcp) continue;
      std::string f = idx("routes", i) + ".mcp";
      const auto& m = *r.mcp;
      if (m.servers.empty())
        error(r.pos, f + ".servers", "missing_field", "an mcp route needs at least one server");
      std::set<std::string> seen;
      for (size_t j = 0; j < m.servers.size(); ++j) {
        const auto& n = m.servers[j];
        if (!first.count(n))
          error(r.pos, idx(f + ".servers", j), "unknown_mcp_server",
                "unknown MCP server " + in_quotes(n) + did_you_mean(n, names));
        else if (!seen.insert(n).second)
          error(r.pos, idx(f + ".servers", j), "duplicate_value",
                in_quotes(n) + " is listed twice");
      }
      for (const char* list : {"allow", "deny"}) {
        const auto& globs = std::string_view(list) == "allow" ? m.tools_allow : m.tools_deny;
        for (size_t j = 0; j < globs.size(); ++j)
          if (globs[j].empty())
            error(r.pos, idx(f + ".tools." + list, j), "invalid_value",
                  "a tool glob cannot be empty");
      }
      for (size_t j = 0; j < m.tool_rules.size(); ++j) {
        const auto& rule = m.tool_rules[j];
        std::string rf = idx(f + ".tools.rules", j);
        if (rule.tools.empty())
          error(r.pos, rf + ".tools", "missing_field",
                "a tool rule names the tools it is about (globs: '*' and '?')");
        for (size_t k = 0; k < rule.tools.size(); ++k)
          if (rule.tools[k].empty())
            error(r.pos, idx(rf + ".tools", k), "invalid_value", "a tool glob cannot be empty");
      }
      check_mcp_tool_limits(
          r, f + ".tools.limits",
          [&](const SourcePos& at, const std::string& field, std::string code,
              std::string message) { error(at, field, std::move(code), std::move(message)); });
      if (m.max_body == 0)
        error(r.pos, f + ".max_body", "invalid_value", "must be at least 1 byte");
      if (m.authorization) check_authorization(r, f + ".authorization", resources);
    }
  }

 private:
  SourcePos locate(const std::string& field, const SourcePos& fallback) const {
    return detail::locate_field(positions_, field, fallback);
  }

  void error(const SourcePos& fallback, const std::string& field, std::string code,
             std::string message) {
    errors_.push_back(
        ConfigError{locate(field, fallback), field, std::move(code), std::move(message)});
  }

  // RFC 6749 3.3 scope-token: printable ASCII without space, '"' and '\\'.
  static bool scope_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\';
    });
  }

  void check_authorization(const RouteConfig& r, const std::string& f,
                           std::map<std::string, std::string>& resources) {
    const auto& a = *r.mcp->authorization;
    HttpUrl u;
    std::string why;
    if (a.resource.empty()) {
      error(r.pos, f + ".resource", "missing_field",
            "authorization needs the resource identifier: the endpoint's canonical URL "
            "(https://gateway.example.com/mcp), which tokens must name as their audience");
    } else if (!parse_http_url(a.resource, u, why)) {
      error(r.pos, f + ".resource", "invalid_value", why);
    } else {
      auto [it, fresh] = resources.emplace(u.prefix, f);
      if (!fresh)
        error(r.pos, f + ".resource", "duplicate_value",
              "another route's resource has the same path, so the same metadata URL (" +
                  it->second + ")");
    }
    if (a.authorization_servers.empty())
      error(r.pos, f + ".authorization_servers", "missing_field",
            "name at least one authorization server (its issuer URL); MCP clients get their "
            "tokens there");
    for (size_t j = 0; j < a.authorization_servers.size(); ++j)
      if (!parse_http_url(a.authorization_servers[j], u, why))
        error(r.pos, idx(f + ".authorization_servers", j), "invalid_value", why);
    for (const auto* list : {&a.scopes, &a.scopes_supported})
      for (size_t j = 0; j < list->size(); ++j)
        if (!scope_token((*list)[j]))
          error(r.pos, idx(f + (list == &a.scopes ? ".scopes" : ".scopes_supported"), j),
                "invalid_value", "not a scope token (printable ASCII, no space, '\"' or '\\')");
    bool jwt = std::any_of(r.policies.begin(), r.policies.end(),
                           [](const PolicyRef& p) { return p.name == "jwt"; });
    if (!jwt)
      error(r.pos, f, "missing_policy",
            "authorization checks the claims of a verified token: add the jwt policy to the "
            "route (with the authorization servers' keys or jwks_uri)");
  }

  void check_server(const McpServerConfig& s, const std::string& f) {
    if (s.name.empty()) {
      error(s.pos, f + ".name", "missing_field", "an MCP server needs a name");
    } else if (s.name.size() > kMaxServerName ||
               !std::all_of(s.name.begin(), s.name.end(), [](unsigned char c) {
                 return std::isalnum(c) || c == '-' || c == '.';
               })) {
      // '_' is kept out: it separates the prefix from the tool name.
      error(s.pos, f + ".name", "invalid_value",
            "an MCP server name has 1 to 64 letters, digits, '-' or '.' (it prefixes tool names)");
    }
    if (s.timeout_ms <= 0) error(s.pos, f + ".timeout", "invalid_value", "must be positive");
    const bool http =
        s.transport == McpTransport::kStreamableHttp || s.transport == McpTransport::kSse;
    if (s.tls.enabled && !http)
      error(s.tls.pos, f + ".tls", "conflicting_fields",
            "tls applies to a streamable-http or sse server with an https url");
    switch (s.transport) {
      case McpTransport::kStdio:
        if (s.command.empty() || s.command.front().empty())
          error(s.pos, f + ".command", "missing_field",
                "a stdio server needs a command (argv list, e.g. [\"node\", \"server.js\"])");
        if (!s.url.empty())
          error(s.pos, f + ".url", "conflicting_fields", "a stdio server has a command, not a url");
        for (const auto& [k, v] : s.env)
          if (k.empty() || k.find('=') != std::string::npos)
            error(s.pos, f + ".env." + k, "invalid_value", "not a valid environment variable name");
        for (size_t j = 0; j < s.client_capabilities.size(); ++j) {
          const std::string& c = s.client_capabilities[j];
          if (c != "sampling" && c != "elicitation" && c != "roots")
            error(s.pos, f + ".client_capabilities[" + std::to_string(j) + "]", "invalid_value",
                  "\"" + c + "\" is not one of sampling, elicitation, roots");
        }
        break;
      case McpTransport::kSse:
      case McpTransport::kStreamableHttp: {
        if (!s.client_capabilities.empty())
          error(s.pos, f + ".client_capabilities", "conflicting_fields",
                "only a stdio server takes client_capabilities (an HTTP server's session is the "
                "client's own, so it is told the client's capabilities)");
        const char* kind = s.transport == McpTransport::kSse ? "an sse" : "a streamable-http";
        if (!s.command.empty())
          error(s.pos, f + ".command", "conflicting_fields",
                std::string(kind) + " server has a url, not a command");
        if (s.url.empty()) {
          error(s.pos, f + ".url", "missing_field", std::string(kind) + " server needs a url");
          break;
        }
        HttpUrl u;
        std::string why;
        if (!parse_http_url(s.url, u, why)) {
          error(s.pos, f + ".url", "invalid_value", why);
        } else if (s.tls.enabled && u.scheme != "https") {
          error(s.tls.pos, f + ".tls", "conflicting_fields",
                "tls applies to an https url; this one is " + u.scheme + "://");
        }
        check_upstream_tls(
            s.tls, f + ".tls",
            [&](const SourcePos& at, const std::string& field, std::string code,
                std::string message) { error(at, field, std::move(code), std::move(message)); });
        for (const auto& [k, v] : s.headers)
          if (!header_token(k) || v.find_first_of("\r\n") != std::string::npos)
            error(s.pos, f + ".headers." + k, "invalid_value", "not a valid header");
        break;
      }
      case McpTransport::kOpenApi:
        if (!s.client_capabilities.empty())
          error(s.pos, f + ".client_capabilities", "conflicting_fields",
                "only a stdio server takes client_capabilities");
        // Whether the API or spec exists is known once the specs are loaded
        // (mcp::Runtime::build, with the field path too).
        if (s.openapi_api.empty() == s.openapi_spec.empty())
          error(s.pos, f + ".openapi",
                s.openapi_api.empty() ? "missing_field" : "conflicting_fields",
                "an openapi server names exactly one of a managed API (openapi: {api: NAME}) "
                "or a specs: entry (openapi: {spec: NAME})");
        // Calls are requests to the gateway itself, so the route serving the
        // API's paths decides the upstream (and applies its policies).
        if (!s.openapi_upstream.empty())
          error(s.pos, f + ".openapi.upstream", "removed_field",
                "tool calls go through the gateway route that serves the API's paths (its "
                "policies, then its upstream): remove openapi.upstream and route the paths to " +
                    in_quotes(s.openapi_upstream));
        for (size_t j = 0; j < s.openapi_operations.size(); ++j)
          if (s.openapi_operations[j].empty())
            error(s.pos, idx(f + ".openapi.operations", j), "invalid_value",
                  "an operationId cannot be empty");
        break;
    }
  }

  const FieldPositions& positions_;
  std::vector<ConfigError>& errors_;
};

}  // namespace

void validate_mcp(const Config& cfg, const FieldPositions& positions,
                  std::vector<ConfigError>& errors) {
  McpValidator(positions, errors).run(cfg);
}

}  // namespace gatehouse::config
