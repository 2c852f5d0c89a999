// llm-cache: the policy face of src/ai/cache. The request hook does nothing;
// the AI route finds the cache policy that ran (dynamic_cast, like
// llm-token-limit) and gives the gateway its cache and the caller's scope.
#pragma once

#include <string>

#include "ai/cache/exact_cache.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_cache {

class CacheFace {
 public:
  virtual ~CacheFace() = default;
  virtual ai::cache::ExactCache& cache() const = 0;
  // The part of the key that separates callers: "c:<consumer>", "g:<group>" or "*".
  virtual std::string scope(const RequestContext& ctx) const = 0;
};

// What keeps cached answers apart (`scope`), for llm-cache and
// llm-semantic-cache alike.
enum class Scope { kConsumer, kGroup, kGlobal };
// Reads `scope` (consumer | group | global, default consumer); `name` gets
// the word read, for the policy's identity.
Scope read_scope(ConfigReader& cr, std::string& name);
// "c:<consumer>", "g:<first group>" or "*"; anonymous callers share
// "anonymous": without an identity there is nothing to keep apart (put an
// authentication policy first).
std::string scope_key(Scope by, const RequestContext& ctx);
// Reads `ttl` (default 5 min, 1 s to 31 days).
int64_t read_ttl_ms(ConfigReader& cr);

}  // namespace gatehouse::policy::llm_cache
