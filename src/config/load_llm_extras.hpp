// llm.usage (usage records for analytics), llm.retry and a model entry's
// routing keys (strategy, retry), read apart from loader.cpp so the loader
// only calls in.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// `s` is the llm.usage map.
void parse_llm_usage(Reader& r, const Slot& s, LlmUsageConfig& out);
// `s` is llm.retry or llm.models[i].retry.
void parse_llm_retry(Reader& r, const Slot& s, LlmRetryConfig& out);
// llm.models[i].strategy.
void parse_llm_strategy(Reader& r, const Slot& s, LlmStrategy& out);

}  // namespace gatehouse::config::detail
