// Prompt token counts of LLM request bodies, before the request is sent (for
// rate limits, quotas and budgets that act up front). The provider's response
// later reports the real usage; these numbers are what we can know earlier.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

#include "ai/tokenizer/tokenizer.hpp"
#include "common/result.hpp"

namespace gatehouse::ai {

struct PromptEstimate {
  uint64_t tokens = 0;
  Encoding encoding = Encoding::kO200kBase;
  // True when the count follows OpenAI's documented formula with the model's
  // own encoding; false once anything in it is a guess (unknown model, images,
  // tool definitions, tool calls, every Anthropic request).
  bool exact = true;
};

// OpenAI's accounting for chat messages (their cookbook's
// num_tokens_from_messages): 3 tokens per message, the tokens of every string
// field of it (role, content, name, ...), 1 more per "name", and 3 for the
// reply's priming. Parts it does not cover are estimated:
//  - content parts: "text" counted exactly; images 85 tokens with detail "low",
//    else 765 (a 1024x1024 image in high detail; the size is unknown here);
//  - tool_calls / function_call: the name and arguments text;
//  - tools / functions definitions: the tokens of their JSON.
// The encoding follows "model" (encoding_for_model).
constexpr uint32_t kOpenAiTokensPerMessage = 3;
constexpr uint32_t kOpenAiTokensPerName = 1;
constexpr uint32_t kOpenAiReplyPriming = 3;
constexpr uint32_t kOpenAiImageLowDetail = 85;
constexpr uint32_t kOpenAiImageDefault = 765;

Result<PromptEstimate> estimate_openai_chat(const Tokenizers& tk, std::string_view body);
Result<PromptEstimate> estimate_openai_chat(const Tokenizers& tk,
                                            const boost::json::object& request);

// Anthropic Messages: always an estimate. Claude's tokenizer is not public, so
// the text (system, text blocks, tool inputs and results, tool definitions as
// JSON) is counted with o200k_base, plus the same per-message framing as
// OpenAI's, and 1,600 tokens per image (Anthropic's figure for a ~1.15
// megapixel image, the largest sent unscaled). Anthropic's own count_tokens
// endpoint or the response's usage give the real number.
constexpr uint32_t kAnthropicImageTokens = 1600;

Result<PromptEstimate> estimate_anthropic_messages(const Tokenizers& tk, std::string_view body);
Result<PromptEstimate> estimate_anthropic_messages(const Tokenizers& tk,
                                                   const boost::json::object& request);

}  // namespace gatehouse::ai
