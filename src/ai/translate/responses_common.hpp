// Responses API object builders shared by the non-streaming writer and the stream encoder,
// so a streamed response.completed carries exactly what a non-streamed response would.
#pragma once

#include <boost/json.hpp>

#include "ai/translate/ir.hpp"

namespace gatehouse::ai::detail {

// Output items for `content`: consecutive text/refusal parts share one message item; each
// thinking part is a reasoning item; each tool call a function_call item.
boost::json::array responses_output(const std::vector<Part>& content, std::string_view resp_id);
// The response object. `status` "in_progress" writes usage:null.
boost::json::object responses_object(const Response& r, std::string_view status,
                                     boost::json::array output, int64_t created);
boost::json::object responses_message_item(std::string_view id, std::string_view status);
boost::json::object responses_text_part(PartKind kind, std::string_view text);
boost::json::object responses_reasoning_item(std::string_view id, const Part& p);
boost::json::object responses_call_item(std::string_view id, const Part& p,
                                        std::string_view status);
std::string reasoning_item_id(const Part& p, std::string_view resp_id, size_t index);

}  // namespace gatehouse::ai::detail
