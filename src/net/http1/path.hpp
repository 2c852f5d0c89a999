// Request-target normalisation: done once per request; the canonical path is
// what routing, policies, logs and the upstream all see.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace gatehouse::http1 {

struct NormalizedTarget {
  std::string path;   // canonical: starts with '/', no dot-segments, no '//' runs,
                      // unreserved %XX decoded, other %XX kept with upper-case hex
  std::string query;  // raw query without '?', validated characters only
  std::string authority;  // from absolute-form targets, else empty
};

// Accepts origin-form ("/a/b?q") and absolute-form ("http://h/a"). Rejects
// (status 400): empty/relative targets, '#', control bytes, spaces, backslash,
// bad or truncated %XX, encoded NUL, encoded '/' or '\' (%2F, %5C: they would
// let one path mean two things), and paths that climb above the root are clamped
// at '/' per RFC 3986 section 5.2.4.
Result<NormalizedTarget> normalize_target(std::string_view target);

}  // namespace gatehouse::http1
