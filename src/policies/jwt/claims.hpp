// Registered-claim checks (RFC 7519 section 4.1) and the hand-off of verified
// claims to later policies through RequestContext::vars.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gatehouse::policy::jwt {

struct ClaimRules {
  double clock_skew_s = 60;            // tolerance for exp, nbf and iat
  std::vector<std::string> issuers;    // "iss" must be one of these (when set)
  std::vector<std::string> audiences;  // "aud" must contain one of these (when set)
  std::vector<std::string> required;   // claims that must be present
  double max_lifetime_s = 0;           // 0 = unbounded; else exp - (iat or now) <= this
};

struct ClaimFailure {
  std::string reason;  // expired, not_yet_valid, wrong_issuer, wrong_audience, missing_claim,
                       // lifetime_too_long, malformed
  std::string text;
};

// `now_s` is wall-clock seconds since the epoch.
std::optional<ClaimFailure> check_claims(const boost::json::object& claims, const ClaimRules& rules,
                                         double now_s);

// Sets vars["jwt.<claim>"] for every top-level claim: strings as they are,
// numbers and booleans as JSON text, arrays of scalars joined with spaces
// (so "scp": ["a", "b"] reads like "scope": "a b"), objects as compact JSON.
void export_claims(const boost::json::object& claims,
                   std::unordered_map<std::string, std::string>& vars);

}  // namespace gatehouse::policy::jwt
