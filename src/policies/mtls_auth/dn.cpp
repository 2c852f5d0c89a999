#include "policies/mtls_auth/dn.hpp"

#include <algorithm>
#include <vector>

namespace gatehouse::policy::mtls {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  // A trailing space that is escaped ("\ ") belongs to the value.
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t') &&
         !(s.size() >= 2 && s[s.size() - 2] == '\\'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> canonical_dn(std::string_view dn) {
  std::vector<std::string> parts;
  std::string cur;
  auto flush = [&]() -> bool {
    std::string_view p = trim(cur);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string type(trim(p.substr(0, eq)));
    if (type.empty()) return false;
    for (char& c : type)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    parts.push_back(type + "=" + std::string(trim(p.substr(eq + 1))));
    cur.clear();
    return true;
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    char c = dn[i];
    if (c == '\\') {
      if (i + 1 >= dn.size()) return std::nullopt;
      cur += c;
      cur += dn[++i];
      continue;
    }
    // ',' separates RDNs, '+' the attributes of a multi-valued RDN; both
    // are order-free here.
    if (c == ',' || c == '+') {
      if (!flush()) return std::nullopt;
      continue;
    }
    cur += c;
  }
  if (!flush()) return std::nullopt;
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ',';
    out += parts[i];
  }
  return out;
}

std::optional<std::string> canonical_fingerprint(std::string_view fp) {
  if (fp.size() >= 7 && (fp.substr(0, 7) == "sha256:" || fp.substr(0, 7) == "SHA256:"))
    fp.remove_prefix(7);
  std::string out;
  for (char c : fp) {
    if (c == ':' || c == ' ') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    out += c;
  }
  if (out.size() != 64) return std::nullopt;
  return out;
}

}  // namespace gatehouse::policy::mtls
