#include "mcp/server/origin.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace gatehouse::mcp {

namespace {
// The host of an authority ("name:port", "[::1]:port"), without the port.
std::string_view host_part(std::string_view authority) {
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool loopback(std::string_view host) {
  return iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
}
}  // namespace

bool origin_allowed(const std::vector<std::string>& allowed, std::string_view origin,
                    std::string_view host) {
  if (std::any_of(allowed.begin(), allowed.end(),
                  [&](const std::string& a) { return a == "*" || iequals(a, origin); }))
    return true;
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return false;  // "null" and other opaque origins
  std::string_view authority = origin.substr(sep + 3);
  if (authority.empty() || authority.find('/') != std::string_view::npos) return false;
  return iequals(authority, host) && loopback(host_part(authority));
}

}  // namespace gatehouse::mcp
