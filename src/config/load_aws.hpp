// A Bedrock provider's `aws:` map (static keys, or the AWS credential chain
// with an optional shared-file profile) and its region default, read apart
// from loader.cpp so the loader only calls in.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// `a` is llm.providers[i].aws, or null when the provider has none (a
// bedrock provider then uses the chain).
void parse_llm_aws(Reader& r, const Slot* a, LlmProviderConfig& p);

}  // namespace gatehouse::config::detail
