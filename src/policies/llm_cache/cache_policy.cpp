#include "policies/llm_cache/cache_policy.hpp"

#include <algorithm>

#include "policies/config_reader.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy {

namespace {

using llm_cache::Scope;

class LlmCache final : public Policy, public llm_cache::CacheFace {
 public:
  Scope by = Scope::kConsumer;
  std::shared_ptr<ai::cache::ExactCache> store;

  std::string_view name() const override { return "llm-cache"; }
  Phase phase() const override { return Phase::kRoute; }
  Action on_request(RequestContext&, Respond&) const override { return Action::kContinue; }
  ai::cache::ExactCache& cache() const override { return *store; }

  std::string scope(const RequestContext& ctx) const override {
    return llm_cache::scope_key(by, ctx);
  }
};

}  // namespace

namespace llm_cache {

Scope read_scope(ConfigReader& cr, std::string& name) {
  name = cr.choice("scope", {"consumer", "group", "global"}, "consumer");
  return name == "global" ? Scope::kGlobal : name == "group" ? Scope::kGroup : Scope::kConsumer;
}

std::string scope_key(Scope by, const RequestContext& ctx) {
  if (by == Scope::kGlobal) return "*";
  if (!ctx.consumer) return "anonymous";
  if (by == Scope::kGroup && !ctx.consumer->groups.empty())
    return "g:" + ctx.consumer->groups.front();
  return "c:" + ctx.consumer->name;
}

int64_t read_ttl_ms(ConfigReader& cr) {
  int64_t ttl = cr.duration_ms("ttl", 300'000, 1000);
  if (ttl > 31LL * 86'400'000) {
    cr.fail("ttl", "invalid_value", "must be at most 31d");
    ttl = 300'000;
  }
  return ttl;
}

}  // namespace llm_cache

void register_llm_cache(Registry& r) {
  r.add("llm-cache",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"ttl", "max_entries", "max_bytes", "max_entry_bytes", "scope"});
          ai::cache::CacheLimits l;
          l.ttl_ms = llm_cache::read_ttl_ms(cr);
          l.max_entries = static_cast<size_t>(cr.integer("max_entries", 1000, 1, 10'000'000));
          l.max_bytes = cr.size("max_bytes", 64ull << 20);
          // Default: 1mb, or a shard's share of max_bytes when that is smaller.
          l.max_entry_bytes =
              cr.size("max_entry_bytes", std::min<uint64_t>(1ull << 20, l.max_bytes / 16));
          if (l.max_bytes < 16 * 1024)
            cr.fail("max_bytes", "invalid_value", "must be at least 16kb");
          if (l.max_entry_bytes > l.max_bytes / 16)
            cr.fail("max_entry_bytes", "invalid_value",
                    "must be at most max_bytes / 16 (the cache is split in 16 shards)");
          auto p = std::make_shared<LlmCache>();
          std::string scope;
          p->by = llm_cache::read_scope(cr, scope);
          if (ctx.route && !ctx.route->llm)
            cr.fail("", "invalid_value",
                    "llm-cache stores LLM answers: attach it to a route with an llm: block (or "
                    "globally)");
          if (auto r2 = cr.finish(); !r2) return r2.error();
          // A reload that keeps the attachment and its bounds keeps the entries.
          std::string identity = "llm-cache|" + attachment_id(ctx) + "|" +
                                 std::to_string(l.ttl_ms) + ";" + std::to_string(l.max_entries) +
                                 ";" + std::to_string(l.max_bytes) + ";" +
                                 std::to_string(l.max_entry_bytes) + ";" + scope;
          p->store = shared_state<ai::cache::ExactCache>(
              identity, [&] { return std::make_shared<ai::cache::ExactCache>(l); });
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
