// API versions' lifecycle: states, the transitions allowed between them,
// version strings, and what a state means at the gateway (the api-lifecycle
// policy config). Pure rules; the admin API (src/admin/apis.cpp) applies them.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::apim {

enum class State { kDraft, kPublished, kDeprecated, kRetired, kBlocked };

std::string_view state_name(State s);
std::optional<State> parse_state(std::string_view s);
// draft -> published | blocked; published -> deprecated | blocked;
// deprecated -> published | retired | blocked; blocked -> published |
// deprecated | retired; retired is final.
bool transition_allowed(State from, State to);
std::vector<State> next_states(State from);

// Semantic (1.2.3, 1.2.3-rc.1, 2.0) or dated (2024-06-01, 2024-06-01.beta).
enum class VersionKind { kSemantic, kDated };
std::optional<VersionKind> version_kind(std::string_view v);
// What "the same major version" means for breaking-change checks: "1" for
// 1.4.2; a dated version is its own major.
std::string major_of(std::string_view v);

struct LifecyclePolicyInput {
  State state = State::kPublished;
  std::string api_label;  // "petstore 1.0.0"
  int64_t deprecated_at_ms = 0;
  std::string sunset;             // HTTP-date
  std::string successor_url;      // Link target
  std::string successor_version;  // in the 410 body
};
// The {name: api-lifecycle, config: ...} policy for a state; an empty object
// for draft and published (nothing to add).
boost::json::object lifecycle_policy(const LifecyclePolicyInput& in);

// RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for unix seconds;
// parse_http_date accepts that form and ISO "2026-12-31" / "2026-12-31T23:59:59Z".
std::string http_date(int64_t unix_seconds);
std::optional<int64_t> parse_http_date(std::string_view s);

}  // namespace gatehouse::apim
