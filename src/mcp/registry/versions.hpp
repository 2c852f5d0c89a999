// The registry read API's small parsers, kept free of the admin code so the
// fuzz target links them alone: version strings and their order, RFC 3339
// timestamps, percent-decoding, the /v0/servers/... path and its query.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::mcp::registry {

// A version the registry accepts: 1..255 characters, not "latest", not a
// range (^1, ~1, >=1, 1.x, 1.*).
bool valid_version(std::string_view v);
// Semantic-version order where both parse (numeric parts, a pre-release
// before its release, build metadata ignored), else byte order.
int compare_versions(std::string_view a, std::string_view b);

// "2025-08-07T13:15:04.280Z" from unix milliseconds.
std::string rfc3339(int64_t unix_ms);
// An RFC 3339 date-time (Z or +hh:mm offset, optional fraction) as unix ms.
std::optional<int64_t> parse_rfc3339(std::string_view s);

// a=1&b=2 decoded; the first of repeated names counts; nullopt when malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view q);

// What follows "/v0/servers" (or "/v0.1/servers") in a request path.
struct RegistryPath {
  bool list = false;      // "/v0/servers"
  std::string name;       // "namespace/name"
  bool versions = false;  // ".../versions" or ".../versions/{version}"
  std::string version;    // empty = the versions list (or the latest, without `versions`)
  int status = 0;         // non-zero: an error (400 bad encoding, 404 no such resource)
  std::string error;
};
// `rest` is the path after the "/servers" prefix, without the query. The
// name is one segment with %2F (as the API says), or leniently the raw
// "namespace/name" pair.
RegistryPath parse_registry_path(std::string_view rest);

}  // namespace gatehouse::mcp::registry
