// Declarative YAML loading and validation. Every problem is reported with
// file:line:column and a field path; a document with any error is never used.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/entities.hpp"

namespace gatehouse::config {

struct ConfigError {
  SourcePos pos;
  std::string field;    // e.g. "routes[2].match.paths[0]"
  std::string code;     // e.g. "unknown_field", "duplicate_name", "invalid_value"
  std::string message;
  std::string to_string() const;  // "file:line:col: field: message"
};

struct LoadResult {
  Config config;
  std::vector<ConfigError> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// Parses YAML text; `file` is only used in positions. Expands ${ENV_VAR} and
// ${ENV_VAR:-default} in scalar values. Unknown keys are errors (typos must not
// silently do nothing). Performs full semantic validation (see validate()).
LoadResult load_config_text(std::string_view yaml, const std::string& file);
LoadResult load_config_file(const std::string& path);

// Cross-entity validation: unique names, routes reference existing upstreams,
// valid addresses, ports, weights, durations, regexes (RE2) and templates.
void validate(const Config& cfg, std::vector<ConfigError>& errors);

// Field path ("routes[2].match.paths[0]") -> where it was written. The loader
// records one per key and list item so validate() can point at the exact
// scalar instead of the enclosing entity; a path missing here falls back to its
// nearest recorded ancestor, then to the entity's own pos.
using FieldPositions = std::unordered_map<std::string, SourcePos>;
void validate(const Config& cfg, const FieldPositions& positions,
              std::vector<ConfigError>& errors);

// The llm: section and the routes' llm: blocks (validate_llm.cpp).
void validate_llm(const Config& cfg, const FieldPositions& positions,
                  std::vector<ConfigError>& errors);

// The mcp: section and the routes' mcp: blocks (validate_mcp.cpp).
void validate_mcp(const Config& cfg, const FieldPositions& positions,
                  std::vector<ConfigError>& errors);

// The routes' grpc_web: blocks (validate_grpc.cpp).
void validate_grpc(const Config& cfg, const FieldPositions& positions,
                   std::vector<ConfigError>& errors);
// The routes' grpc_transcode: blocks, descriptor sets loaded (validate_grpc_transcode.cpp).
void validate_grpc_transcode(const Config& cfg, const FieldPositions& positions,
                             std::vector<ConfigError>& errors);

// Parts of an LLM provider's base_url ("http://host[:port][/prefix]").
struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;
  std::string prefix;  // path without a trailing '/', may be empty
};
bool parse_http_url(std::string_view url, HttpUrl& out, std::string& why);

// Splits "host:port" or "[v6]:port" (host returned without brackets) and checks
// the host is an IPv4/IPv6 literal or a DNS name. Port 0 is returned as is;
// callers decide whether it is allowed. On failure returns false and sets `why`.
bool split_host_port(std::string_view address, std::string& host, uint16_t& port,
                     std::string& why);

// " (did you mean \"x\"?)" when one candidate is a close spelling of `word`,
// else "". Shared by unknown keys, enum values and entity references.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace gatehouse::config
