// MCP authorization on a route (spec revisions 2025-11-25 and 2026-07-28):
// the gateway is the OAuth 2.1 resource server. Tokens are verified by the
// route's jwt policy (signature, expiry, issuer); this adds what the MCP spec
// asks of a resource server on top: the RFC 9728 metadata document, the
// `resource_metadata` challenge, the RFC 8707 audience and the scopes.
// Pure functions (unit-tested); mcp_route.cpp wires them in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/entities.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::mcp::auth {

inline constexpr std::string_view kWellKnown = "/.well-known/oauth-protected-resource";

// RFC 9728 3.1: the well-known segment goes between the host and the
// resource's path: https://gw/mcp -> /.well-known/oauth-protected-resource/mcp.
std::string metadata_path(std::string_view resource);
// The same as an absolute URL (what the challenge names).
std::string metadata_url(std::string_view resource);
// The metadata document (RFC 9728 2): resource, authorization_servers,
// scopes_supported, bearer_methods_supported.
std::string metadata_document(const config::McpAuthorizationConfig& a);

// A refusal of a verified request: 401 invalid_token (wrong audience, no
// token claims at all) or 403 insufficient_scope.
struct Denial {
  int status = 401;
  std::string error;        // RFC 6750 error code
  std::string description;  // error_description (safe characters only)
};

// Audience (RFC 8707: `aud` names this resource) and scopes (`scope`, or
// `scp` as some issuers write it) from the claims the jwt policy exported
// to the request's variables ("jwt.aud", "jwt.scope", ...).
std::optional<Denial> check(const config::McpAuthorizationConfig& a,
                            const std::unordered_map<std::string, std::string>& vars);

// A WWW-Authenticate value: Bearer with error (when set), scope (the
// required scopes, when any) and resource_metadata.
std::string challenge(const config::McpAuthorizationConfig& a, const Denial* d);

// Adds resource_metadata (and scope) to the Bearer challenges of a 401 an
// authentication policy made, or adds a Bearer challenge when there is none
// (a 401 from key-auth still tells an MCP client where to get a token).
void extend_challenges(const config::McpAuthorizationConfig& a, std::vector<http1::Header>& h);

}  // namespace gatehouse::mcp::auth
