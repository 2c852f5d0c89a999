#include "ai/gateway/catalog.hpp"

#include <random>

namespace gatehouse::ai::gateway {

std::shared_ptr<const Catalog> Catalog::build(const config::LlmConfig& cfg, size_t workers) {
  auto c = std::make_shared<Catalog>();
  c->currency_ = cfg.currency;
  c->usage_ = cfg.usage;
  std::unordered_map<std::string, size_t> provider_index;
  for (const auto& p : cfg.providers) {
    provider_index[p.name] = c->providers_.size();
    c->providers_.push_back(providers::make_provider(p));
    c->cooldowns_.push_back(cooldown_for(p.name, p.api_key));
  }
  for (const auto& m : cfg.models) {
    ModelEntry e;
    e.cfg = m;
    for (const auto& t : m.targets) {
      auto it = provider_index.find(t.provider);
      // Validation guarantees the provider exists; an unknown one gets weight 0.
      e.target_provider.push_back(it == provider_index.end() ? 0 : it->second);
      e.target_stats.push_back(ai_family(m.name, t.provider, workers));
      e.target_price.push_back(usage::find_price(cfg.prices, t.provider, t.model));
      if (it != provider_index.end()) e.total_weight += t.weight;
    }
    e.target_state = std::make_unique<TargetState[]>(m.targets.size());
    e.retry = m.retry ? *m.retry : cfg.retry;
    c->by_name_.emplace(m.name, c->models_.size());
    for (const auto& a : m.aliases) c->by_name_.emplace(a, c->models_.size());
    c->models_.push_back(std::move(e));
  }
  // Fallback chains: depth-first, each model once (cycles end there).
  for (size_t i = 0; i < c->models_.size(); ++i) {
    std::vector<size_t> chain;
    std::vector<bool> seen(c->models_.size(), false);
    auto visit = [&](auto&& self, size_t m) -> void {
      if (seen[m]) return;
      seen[m] = true;
      chain.push_back(m);
      for (const auto& fb : c->models_[m].cfg.fallbacks) {
        auto it = c->by_name_.find(fb);
        if (it != c->by_name_.end()) self(self, it->second);
      }
    };
    visit(visit, i);
    c->models_[i].chain = std::move(chain);
  }
  return c;
}

int Catalog::find_model(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? -1 : static_cast<int>(it->second);
}

size_t Catalog::pick_target(const ModelEntry& m) const {
  if (m.cfg.targets.size() <= 1 || m.total_weight == 0) return 0;
  thread_local std::minstd_rand rng(std::random_device{}());
  uint64_t r = std::uniform_int_distribution<uint64_t>(0, m.total_weight - 1)(rng);
  for (size_t i = 0; i < m.cfg.targets.size(); ++i) {
    if (r < m.cfg.targets[i].weight) return i;
    r -= m.cfg.targets[i].weight;
  }
  return m.cfg.targets.size() - 1;
}

}  // namespace gatehouse::ai::gateway
