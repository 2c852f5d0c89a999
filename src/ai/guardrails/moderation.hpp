// The external moderation hook: one HTTP POST in OpenAI's moderation format
// ({"model"?, "input": [texts]} -> {"results": [{"flagged", "categories"}]})
// to the URL in config, bounded by the hook's timeout.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ai/guardrails/guardrails.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::guardrails {

struct ModerationVerdict {
  bool flagged = false;
  std::vector<std::string> categories;  // the flagged ones, sorted
};

// Reads a moderation answer; an error for anything that is not one.
Result<ModerationVerdict> parse_moderation(std::string_view body);
std::string moderation_request(const ModerationConfig& cfg, const std::vector<std::string>& input);

// Calls the hook; errors for connect/timeout/non-2xx/unreadable answers.
awaitable<Result<ModerationVerdict>> moderate(asio::any_io_executor ex, const ModerationConfig& cfg,
                                              const std::vector<std::string>& input);

}  // namespace gatehouse::ai::guardrails
