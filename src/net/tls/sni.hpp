// Certificate selection by server name (SNI): which of the configured
// certificates covers a host name. Exact names win over wildcards; a
// wildcard ("*.example.com") covers exactly one label ("a.example.com", not
// "example.com" nor "a.b.example.com"), as RFC 6125 6.4.3 allows. When two
// certificates name the same host, the earlier one in the file wins.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::net::tls {

// Lower-cased, without a trailing dot; empty when `name` is not a plausible
// DNS name or wildcard (so it never matches anything).
std::string normalize_name(std::string_view name);

// True when `pattern` (a name or "*.suffix") covers `host`; both normalised.
bool name_matches(std::string_view pattern, std::string_view host);

class SniIndex {
 public:
  // Registers a certificate's name (from SAN DNS or CN) for certificate `index`.
  void add(std::string_view name, size_t index);
  // The certificate for `host`, or -1 when none covers it (the caller then
  // uses its default).
  int find(std::string_view host) const;
  bool empty() const { return exact_.empty() && wildcard_.empty(); }

 private:
  std::unordered_map<std::string, size_t> exact_;
  std::unordered_map<std::string, size_t> wildcard_;  // keyed by the suffix after "*."
};

}  // namespace gatehouse::net::tls
