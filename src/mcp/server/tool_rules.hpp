// Per-tool authorization on an MCP route (`mcp.tools.rules`): which callers
// may see and call which tools, optionally depending on argument values.
// Pure functions on the caller's identity (consumer, groups, the claims the
// jwt policy exported); unit-tested.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/entities.hpp"

namespace gatehouse::mcp::rules {

// A denied tools/call (our own code, in the implementation-defined range).
inline constexpr int kToolForbidden = -32003;

struct Caller {
  std::string_view consumer;                                      // empty: none
  const std::vector<std::string>* groups = nullptr;               // the consumer's
  const std::unordered_map<std::string, std::string>* vars = nullptr;  // "jwt.<claim>"
};

// The first rule whose `tools` glob matches (original or exposed name) and,
// when `arguments` is given, whose argument globs all match decides: allow
// rules let only their callers through, deny rules stop theirs. No matching
// rule: allowed. `arguments` null (a list): rules with argument conditions
// are skipped, since they can only be decided per call.
bool allowed(const std::vector<config::McpToolRuleConfig>& rules, const Caller& caller,
             std::string_view original, std::string_view exposed,
             const boost::json::object* arguments);

}  // namespace gatehouse::mcp::rules
