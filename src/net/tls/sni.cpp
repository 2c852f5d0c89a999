#include "net/tls/sni.hpp"

namespace gatehouse::net::tls {

std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return {};
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || (c == '*' && i == 0 && name.size() > 2 && name[1] == '.');
    if (!ok) return {};
    out += c;
  }
  if (out.find("..") != std::string::npos || out.front() == '.' || out.back() == '.') return {};
  return out;
}

bool name_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty() || host.empty()) return false;
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    size_t dot = host.find('.');
    if (dot == std::string_view::npos || dot == 0) return false;
    return host.substr(dot + 1) == pattern.substr(2);
  }
  return pattern == host;
}

void SniIndex::add(std::string_view name, size_t index) {
  std::string n = normalize_name(name);
  if (n.empty()) return;
  if (n.size() > 2 && n[0] == '*' && n[1] == '.') {
    wildcard_.emplace(n.substr(2), index);
  } else {
    exact_.emplace(std::move(n), index);
  }
}

int SniIndex::find(std::string_view host) const {
  std::string h = normalize_name(host);
  if (h.empty() || h[0] == '*') return -1;
  if (auto it = exact_.find(h); it != exact_.end()) return static_cast<int>(it->second);
  size_t dot = h.find('.');
  if (dot == std::string::npos || dot == 0) return -1;
  if (auto it = wildcard_.find(h.substr(dot + 1)); it != wildcard_.end())
    return static_cast<int>(it->second);
  return -1;
}

}  // namespace gatehouse::net::tls
