#include "mcp/server/auth.hpp"

#include <boost/json.hpp>

#include "common/strings.hpp"

namespace gatehouse::mcp::auth {

namespace {

namespace json = boost::json;

// scheme://authority and the path (no trailing '/'); the loader checked
// the URL (absolute http(s), no query or fragment).
std::pair<std::string_view, std::string_view> split(std::string_view resource) {
  size_t sep = resource.find("://");
  size_t slash = sep == std::string_view::npos ? std::string_view::npos : resource.find('/', sep + 3);
  std::string_view origin = resource.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : resource.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return {origin, path};
}

bool has_word(std::string_view list, std::string_view word) {
  size_t i = 0;
  while (i < list.size()) {
    size_t end = list.find(' ', i);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(i, end - i) == word) return true;
    i = end + 1;
  }
  return false;
}

const std::string* var(const std::unordered_map<std::string, std::string>& vars,
                       const std::string& name) {
  auto it = vars.find(name);
  return it == vars.end() ? nullptr : &it->second;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// The parameters we add after the scheme's own: scope and resource_metadata.
std::string our_params(const config::McpAuthorizationConfig& a) {
  std::string out;
  if (!a.scopes.empty()) out += "scope=\"" + joined(a.scopes) + "\", ";
  out += "resource_metadata=\"" + metadata_url(a.resource) + "\"";
  return out;
}

}  // namespace

std::string metadata_path(std::string_view resource) {
  return std::string(kWellKnown) + std::string(split(resource).second);
}

std::string metadata_url(std::string_view resource) {
  return std::string(split(resource).first) + metadata_path(resource);
}

std::string metadata_document(const config::McpAuthorizationConfig& a) {
  json::array servers, scopes;
  for (const auto& s : a.authorization_servers) servers.emplace_back(s);
  for (const auto& s : a.scopes_supported.empty() ? a.scopes : a.scopes_supported)
    scopes.emplace_back(s);
  json::object doc{{"resource", a.resource},
                   {"authorization_servers", std::move(servers)},
                   {"bearer_methods_supported", json::array{"header"}}};
  if (!scopes.empty()) doc["scopes_supported"] = std::move(scopes);
  return json::serialize(doc);
}

std::optional<Denial> check(const config::McpAuthorizationConfig& a,
                            const std::unordered_map<std::string, std::string>& vars) {
  // The jwt policy exports every verified claim; no "jwt.*" variables at all
  // means the request was let in some other way (an anonymous fallback, an
  // API key) and carries no token for this resource.
  const std::string* aud = var(vars, "jwt.aud");
  const std::string* iss = var(vars, "jwt.iss");
  const std::string* sub = var(vars, "jwt.sub");
  if (!aud && !iss && !sub)
    return Denial{401, "invalid_token", "a bearer token issued for " + a.resource + " is required"};
  // RFC 8707 / MCP: a token not issued for this resource is not accepted,
  // whatever it would open elsewhere (no token passthrough, no confused
  // deputy). An array audience was exported space-joined; URLs hold no space.
  if (!aud || !has_word(*aud, a.resource))
    return Denial{401, "invalid_token", "the token's audience is not " + a.resource};
  if (!a.scopes.empty()) {
    const std::string* granted = var(vars, "jwt.scope");
    if (!granted) granted = var(vars, "jwt.scp");
    for (const auto& s : a.scopes)
      if (!granted || !has_word(*granted, s))
        return Denial{403, "insufficient_scope", "the token lacks the scope " + s};
  }
  return std::nullopt;
}

std::string challenge(const config::McpAuthorizationConfig& a, const Denial* d) {
  std::string out = "Bearer ";
  if (d) {
    out += "error=\"" + d->error + "\", error_description=\"";
    for (char c : d->description) out += (c == '"' || c == '\\' || c < 0x20) ? '\'' : c;
    out += "\", ";
  }
  return out + our_params(a);
}

void extend_challenges(const config::McpAuthorizationConfig& a, std::vector<http1::Header>& h) {
  bool bearer = false;
  for (auto& x : h) {
    if (!iequals(x.name, "WWW-Authenticate")) continue;
    std::string_view v = x.value;
    if (v.size() < 6 || !iequals(v.substr(0, 6), "Bearer") ||
        (v.size() > 6 && v[6] != ' '))
      continue;
    bearer = true;
    if (x.value.find("resource_metadata=") != std::string::npos) continue;
    x.value += v.size() > 6 ? ", " : " ";
    x.value += our_params(a);
  }
  if (!bearer) h.push_back({"WWW-Authenticate", challenge(a, nullptr)});
}

}  // namespace gatehouse::mcp::auth
