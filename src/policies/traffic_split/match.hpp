// The request conditions of a traffic-split rule, compiled at config time.
// Value syntax is the router's (docs/routing.md): "x" exact, "~re" RE2 full
// match, "*" present with any value.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

struct ValueCondition {
  enum class Kind { kExact, kRegex, kPresent };
  Kind kind = Kind::kExact;
  std::string name;               // header names lower-cased; query and cookie names exact
  std::string value;              // kExact
  std::shared_ptr<const RE2> re;  // kRegex

  bool matches(std::string_view v) const;
};

// Every listed condition must hold; within consumers (or groups) any one will do.
struct RuleMatch {
  std::vector<ValueCondition> headers;
  std::vector<ValueCondition> cookies;
  std::vector<ValueCondition> query;
  std::vector<std::string> consumers;  // consumer names
  std::vector<std::string> groups;     // consumer groups

  bool empty() const {
    return headers.empty() && cookies.empty() && query.empty() && consumers.empty() &&
           groups.empty();
  }
  bool matches(const RequestContext& ctx) const;
};

// Reads a rule's `match` mapping; `field` is its path under config
// ("rules[0].match"). Problems are reported through `cr`.
void read_rule_match(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                     const ConsumerSet* consumers, RuleMatch& out);

// The first value of cookie `name` (DQUOTEs around the value removed).
std::optional<std::string_view> cookie_value(const http1::RequestHead& head, std::string_view name);

// The query the request will be sent with (a policy may have rewritten it).
inline std::string_view current_query(const RequestContext& ctx) {
  if (ctx.query_overridden) return ctx.query_override;
  return ctx.target ? std::string_view(ctx.target->query) : std::string_view{};
}

}  // namespace gatehouse::policy
