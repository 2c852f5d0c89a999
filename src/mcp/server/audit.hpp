// The tools/call arguments as the audit line (access log) shows them: values
// under names that usually hold secrets are replaced, at any depth, so
// `log_arguments: true` does not write passwords and tokens to the logs.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace gatehouse::mcp::audit {

inline constexpr std::string_view kRedacted = "[redacted]";

// True for member names like password, api_key, accessToken, Authorization,
// client_secret, private-key, cookie (case-insensitive, any separator).
bool secret_name(std::string_view name);

// `arguments` serialized with secret members' values replaced.
std::string redacted(const boost::json::value& arguments);

}  // namespace gatehouse::mcp::audit
