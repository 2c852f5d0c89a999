// Which browser origins a cors policy accepts: exact origins, wildcard
// subdomains and "*". Origins are compared in the serialisation browsers send
// (RFC 6454 section 6.1: lower-case scheme and host, default port omitted).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace gatehouse::policy::cors {

class OriginMatcher {
 public:
  // Adds one configured entry. Accepted forms: "*", "https://app.example.com",
  // "http://localhost:3000", "*.example.com" (http and https), and
  // "https://*.example.com[:8443]". Returns false with a reason.
  bool add(std::string_view entry, std::string& why);
  bool any() const { return any_; }
  bool empty() const { return !any_ && exact_.empty() && wildcards_.empty(); }
  bool matches(std::string_view origin) const;

 private:
  struct Wildcard {
    std::string scheme;  // empty: http or https
    std::string suffix;  // ".example.com"
    std::string port;    // empty: the scheme's default port
  };
  bool any_ = false;
  std::unordered_set<std::string> exact_;
  std::vector<Wildcard> wildcards_;
};

// Splits "scheme://host[:port]" (already lower-case). The default port of
// http and https is dropped. Returns false for anything else (paths, userinfo,
// empty host, bad port). `allow_wildcard` admits '*' in the host (config only).
struct OriginParts {
  std::string scheme;
  std::string host;
  std::string port;
};
std::optional<OriginParts> split_origin(std::string_view origin, bool allow_wildcard = false);

}  // namespace gatehouse::policy::cors
