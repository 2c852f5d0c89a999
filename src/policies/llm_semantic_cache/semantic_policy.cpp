#include "policies/llm_semantic_cache/semantic_policy.hpp"

#include <algorithm>
#include <cstdio>

#include "policies/config_reader.hpp"
#include "policies/llm_cache/cache_policy.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy {

namespace {

using llm_cache::Scope;

class LlmSemanticCache final : public Policy, public llm_semantic_cache::SemanticCacheFace {
 public:
  Scope by = Scope::kConsumer;
  std::string model;
  std::shared_ptr<ai::cache::SemanticCache> store;

  std::string_view name() const override { return "llm-semantic-cache"; }
  Phase phase() const override { return Phase::kRoute; }
  Action on_request(RequestContext&, Respond&) const override { return Action::kContinue; }
  ai::cache::SemanticCache& cache() const override { return *store; }
  const std::string& embeddings_model() const override { return model; }

  std::string scope(const RequestContext& ctx) const override {
    return llm_cache::scope_key(by, ctx);
  }
};

bool names_model(const config::LlmConfig& llm, const std::string& name) {
  for (const auto& m : llm.models)
    if (m.name == name || std::find(m.aliases.begin(), m.aliases.end(), name) != m.aliases.end())
      return true;
  return false;
}

}  // namespace

void register_llm_semantic_cache(Registry& r) {
  r.add("llm-semantic-cache",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"model", "threshold", "ttl", "max_entries", "max_entry_bytes", "scope"});
          auto p = std::make_shared<LlmSemanticCache>();
          p->model = cr.str("model");
          if (p->model.empty())
            cr.fail("model", "required",
                    "name the llm.models entry that embeds prompts (an embeddings model)");
          else if (ctx.config && !names_model(ctx.config->llm, p->model))
            cr.fail("model", "unknown_model",
                    "\"" + p->model + "\" is not a model in llm.models");
          ai::cache::SemanticLimits l;
          l.threshold = cr.number("threshold", 0.95, 0.5, 1.0);
          l.ttl_ms = llm_cache::read_ttl_ms(cr);
          l.max_entries = static_cast<size_t>(cr.integer("max_entries", 1000, 16, 10'000'000));
          l.max_entry_bytes = cr.size("max_entry_bytes", 1ull << 20);
          if (l.max_entry_bytes < 1024 || l.max_entry_bytes > (64ull << 20))
            cr.fail("max_entry_bytes", "invalid_value", "must be between 1kb and 64mb");
          std::string scope;
          p->by = llm_cache::read_scope(cr, scope);
          if (ctx.route && !ctx.route->llm)
            cr.fail("", "invalid_value",
                    "llm-semantic-cache stores LLM answers: attach it to a route with an llm: "
                    "block (or globally)");
          if (auto r2 = cr.finish(); !r2) return r2.error();
          // A reload that keeps the attachment, model and bounds keeps the entries.
          char th[32];
          std::snprintf(th, sizeof th, "%.6f", l.threshold);
          std::string identity = "llm-semantic-cache|" + attachment_id(ctx) + "|" + p->model +
                                 ";" + th + ";" + std::to_string(l.ttl_ms) + ";" +
                                 std::to_string(l.max_entries) + ";" +
                                 std::to_string(l.max_entry_bytes) + ";" + scope;
          p->store = shared_state<ai::cache::SemanticCache>(
              identity, [&] { return std::make_shared<ai::cache::SemanticCache>(l); });
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
