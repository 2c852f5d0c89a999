// Shared mappings between the wire formats: stop reasons, usage blocks, reasoning effort vs.
// thinking budget, data: URLs and ids.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "ai/translate/ir.hpp"

namespace gatehouse::ai::detail {

// Stop reasons. Chat "stop" reads as kEndTurn (it cannot tell a stop sequence apart).
StopReason stop_from_chat(std::string_view finish_reason);
std::string_view stop_to_chat(StopReason s);
StopReason stop_from_messages(std::string_view stop_reason);
std::string_view stop_to_messages(StopReason s);
// Responses: status + incomplete_details.reason; `had_tool_call` turns completed into kToolUse.
StopReason stop_from_responses(std::string_view status, std::string_view incomplete_reason,
                               bool had_tool_call);
std::string_view status_to_responses(StopReason s);          // completed/incomplete/failed
std::string_view incomplete_reason_to_responses(StopReason s);  // "" when not incomplete

// Usage blocks. The readers assign only the fields present (cumulative counts are set,
// never added), so they also serve Anthropic's message_delta restatements.
void usage_from_chat(const boost::json::object& u, Usage& out);
boost::json::object usage_to_chat(const Usage& u);
void usage_from_messages(const boost::json::object& u, Usage& out);
boost::json::object usage_to_messages(const Usage& u);
void usage_from_responses(const boost::json::object& u, Usage& out);
boost::json::object usage_to_responses(const Usage& u);

// Reasoning effort <-> Anthropic thinking budget (see README for the table).
int64_t effort_to_budget(std::string_view effort);
std::string budget_to_effort(int64_t budget);

// "data:image/png;base64,AAAA" -> media_type and data; false when not a base64 data URL.
bool parse_data_url(std::string_view url, std::string& media_type, std::string& data);
std::string image_url(const Image& img);  // the URL, or a data: URL for inline images

}  // namespace gatehouse::ai::detail

namespace gatehouse::ai::detail {

// Ids written in a target format: the target's prefix + the upstream id without its own
// prefix, so they are deterministic and traceable (README: ids).
std::string response_id(Format f, std::string_view upstream_id);
// Responses output item ids: prefix ("msg_", "fc_", "rs_") + response id core + index.
std::string item_id(std::string_view prefix, std::string_view response_id, size_t output_index);
int64_t created_or_now(int64_t created, int64_t fallback);

}  // namespace gatehouse::ai::detail

namespace gatehouse::ai::detail {

// Reasoning provenance travels inside the other format's opaque field, so a client of one
// format can hand a provider of the other its own reasoning back, statelessly:
// - OpenAI reasoning shown to an Anthropic client: signature = "ghrs:<item_id>:<encrypted>";
// - Anthropic thinking shown to a Responses client: item id "rs_gh..." and
//   encrypted_content = the Anthropic signature.
std::string wrap_openai_reasoning(std::string_view item_id, std::string_view encrypted);
bool unwrap_openai_reasoning(std::string_view signature, std::string& item_id,
                             std::string& encrypted);
inline constexpr std::string_view kForeignReasoningPrefix = "rs_gh";
inline bool is_foreign_reasoning_id(std::string_view id) {
  return id.substr(0, kForeignReasoningPrefix.size()) == kForeignReasoningPrefix;
}

}  // namespace gatehouse::ai::detail
