// llm-semantic-cache: the policy face of src/ai/cache/semantic_cache. The
// request hook does nothing; the AI route finds the semantic cache policy
// that ran (dynamic_cast, like llm-cache) and gives the gateway the cache,
// the caller's scope and the embeddings model to look requests up with.
#pragma once

#include <string>

#include "ai/cache/semantic_cache.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_semantic_cache {

class SemanticCacheFace {
 public:
  virtual ~SemanticCacheFace() = default;
  virtual ai::cache::SemanticCache& cache() const = 0;
  // The part of the context key that separates callers ("c:<consumer>", ...).
  virtual std::string scope(const RequestContext& ctx) const = 0;
  // The llm.models entry whose targets embed the last user turn.
  virtual const std::string& embeddings_model() const = 0;
};

}  // namespace gatehouse::policy::llm_semantic_cache
