#include "policies/cors/origin_matcher.hpp"

#include "common/strings.hpp"

namespace gatehouse::policy::cors {

namespace {

bool is_scheme(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return false;
  return true;
}

bool is_host(std::string_view s, bool allow_wildcard) {
  if (s.empty()) return false;
  if (s.front() == '[') return s.size() > 2 && s.back() == ']';  // IPv6 literal
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
          (allow_wildcard && c == '*')))
      return false;
  return s.front() != '.' && s.back() != '.' && s.find("..") == std::string_view::npos;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

std::string default_port(std::string_view scheme) {
  if (scheme == "http") return "80";
  if (scheme == "https") return "443";
  return {};
}

}  // namespace

std::optional<OriginParts> split_origin(std::string_view origin, bool allow_wildcard) {
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  OriginParts p;
  p.scheme = std::string(origin.substr(0, sep));
  std::string_view rest = origin.substr(sep + 3);
  std::string_view host = rest;
  // The port follows the last ':' unless that colon is inside an IPv6 literal.
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    host = rest.substr(0, colon);
    p.port = std::string(rest.substr(colon + 1));
    if (!is_port(p.port)) return std::nullopt;
  }
  if (!is_scheme(p.scheme) || !is_host(host, allow_wildcard)) return std::nullopt;
  p.host = std::string(host);
  if (p.port == default_port(p.scheme)) p.port.clear();
  return p;
}

bool OriginMatcher::add(std::string_view entry, std::string& why) {
  std::string e = to_lower(trim_ows(entry));
  if (e == "*") {
    any_ = true;
    return true;
  }
  if (e == "null") {
    // Sandboxed iframes, file: pages and some redirects all send "null":
    // allowing it allows all of them at once.
    why = "'null' cannot be allowed: every sandboxed or file: page sends it";
    return false;
  }
  const std::string shown(trim_ows(entry));
  Wildcard w;
  if (e.find("://") == std::string::npos) {
    // Only a wildcard may leave the scheme out (it then means http and https).
    if (e.rfind("*.", 0) != 0) {
      why = "'" + shown + "' is not an origin: an origin needs a scheme, as in https://" + shown;
      return false;
    }
    if (e.find(':') != std::string::npos) {
      why = "'" + shown + "': a port needs a scheme, as in https://" + shown;
      return false;
    }
    w.suffix = e.substr(1);
  } else {
    std::optional<OriginParts> parts = split_origin(e, true);
    if (!parts) {
      std::string hint;
      if (e.find('/', e.find("://") + 3) != std::string::npos)
        hint = " (an origin has no path, not even a trailing '/')";
      why = "'" + shown + "' is not an origin such as https://app.example.com" + hint;
      return false;
    }
    if (parts->host.find('*') == std::string::npos) {
      std::string key = parts->scheme + "://" + parts->host;
      if (!parts->port.empty()) key += ":" + parts->port;
      exact_.insert(std::move(key));
      return true;
    }
    w.scheme = parts->scheme;
    w.suffix = parts->host.substr(1);
    w.port = parts->port;
  }
  // "*" must be the whole first label, with a real domain after it.
  if (w.suffix.size() < 2 || w.suffix[0] != '.' || w.suffix.find('*') != std::string::npos ||
      !is_host(std::string_view(w.suffix).substr(1), false)) {
    why = "'" + shown + "': a wildcard must be the whole first label, as in *.example.com";
    return false;
  }
  wildcards_.push_back(std::move(w));
  return true;
}

bool OriginMatcher::matches(std::string_view origin) const {
  if (any_) return true;
  if (origin.empty() || origin.size() > 2048) return false;
  std::string o = to_lower(origin);
  if (exact_.count(o)) return true;
  if (wildcards_.empty()) return false;
  auto parts = split_origin(o, false);
  if (!parts) return false;
  for (const auto& w : wildcards_) {
    if (w.scheme.empty() ? (parts->scheme != "http" && parts->scheme != "https")
                         : parts->scheme != w.scheme)
      continue;
    if (parts->port != w.port) continue;
    // "*.example.com" covers a.example.com and a.b.example.com, never
    // example.com itself (as route host patterns do).
    if (parts->host.size() > w.suffix.size() &&
        parts->host.compare(parts->host.size() - w.suffix.size(), w.suffix.size(), w.suffix) == 0)
      return true;
  }
  return false;
}

}  // namespace gatehouse::policy::cors
