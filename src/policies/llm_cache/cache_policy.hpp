// llm-cache: the policy face of src/ai/cache. The request hook does nothing;
// the AI route finds the cache policy that ran (dynamic_cast, like
// llm-token-limit) and gives the gateway its cache and the caller's scope.
#pragma once

#include <string>

#include "ai/cache/exact_cache.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_cache {

class CacheFace {
 public:
  virtual ~CacheFace() = default;
  virtual ai::cache::ExactCache& cache() const = 0;
  // The part of the key that separates callers: "c:<consumer>", "g:<group>" or "*".
  virtual std::string scope(const RequestContext& ctx) const = 0;
};

}  // namespace gatehouse::policy::llm_cache
