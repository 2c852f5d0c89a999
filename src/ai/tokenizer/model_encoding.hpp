// Which encoding an OpenAI model name uses, after the npm tiktoken package's
// model_to_encoding.json (the fact source) plus the families it implies.
#pragma once

#include <string_view>

#include "ai/tokenizer/tokenizer.hpp"

namespace gatehouse::ai {

struct ModelEncoding {
  Encoding encoding = Encoding::kO200kBase;
  // False when the model is not one we know: o200k_base is then a guess (the
  // encoding of every current OpenAI model), and counts are estimates.
  bool known = false;
};

// Accepts dated snapshots ("gpt-4o-2024-08-06"), fine-tunes ("ft:gpt-4o-mini:org::id")
// and a provider prefix ("openai/gpt-4.1"). Legacy completion models (p50k/r50k
// encodings, not supported) come back unknown.
ModelEncoding encoding_for_model(std::string_view model);

}  // namespace gatehouse::ai
