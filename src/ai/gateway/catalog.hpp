// The AI gateway's immutable view of the llm: config: providers built once per
// snapshot, model names and aliases resolved, fallback chains flattened.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ai/gateway/balance.hpp"
#include "ai/gateway/cooldown.hpp"
#include "ai/gateway/metrics.hpp"
#include "ai/providers/provider.hpp"
#include "ai/usage/cost.hpp"
#include "config/entities.hpp"

namespace gatehouse::ai::gateway {

struct ModelEntry {
  config::LlmModelConfig cfg;
  std::vector<size_t> target_provider;  // provider index per target
  std::vector<AiFamily*> target_stats;  // metrics per target (model x provider)
  std::vector<std::optional<usage::Price>> target_price;  // llm.prices per target
  uint64_t total_weight = 0;
  std::vector<size_t> chain;  // this model, then its fallbacks depth-first, each once
  std::unique_ptr<TargetState[]> target_state;  // balancing state per target
  config::LlmRetryConfig retry;                 // its own, else llm.retry
};

class Catalog {
 public:
  static std::shared_ptr<const Catalog> build(const config::LlmConfig& cfg, size_t workers);
  const std::string& currency() const { return currency_; }
  const config::LlmUsageConfig& usage() const { return usage_; }

  // A model name or alias -> model index, or -1.
  int find_model(std::string_view name) const;
  const ModelEntry& model(size_t i) const { return models_[i]; }
  size_t model_count() const { return models_.size(); }
  const providers::Provider& provider(size_t i) const { return *providers_[i]; }
  // The provider's (provider + key) cooldown, shared by every worker.
  Cooldown& cooldown(size_t provider) const { return *cooldowns_[provider]; }
  // A weighted random target of a model (index into its targets).
  size_t pick_target(const ModelEntry& m) const;

 private:
  std::vector<std::unique_ptr<providers::Provider>> providers_;
  std::vector<Cooldown*> cooldowns_;  // per provider; process lifetime
  std::vector<ModelEntry> models_;
  std::unordered_map<std::string, size_t> by_name_;  // names and aliases
  std::string currency_;
  config::LlmUsageConfig usage_;
};

}  // namespace gatehouse::ai::gateway
