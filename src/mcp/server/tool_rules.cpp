#include "mcp/server/tool_rules.hpp"

#include <algorithm>

#include "mcp/aggregate/merge.hpp"

namespace gatehouse::mcp::rules {

namespace {

namespace json = boost::json;
namespace agg = aggregate;

bool has_word(std::string_view list, std::string_view word) {
  size_t i = 0;
  while (i <= list.size()) {
    size_t end = list.find(' ', i);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(i, end - i) == word) return true;
    i = end + 1;
  }
  return false;
}

const std::string* var(const Caller& c, const std::string& name) {
  if (!c.vars) return nullptr;
  auto it = c.vars->find(name);
  return it == c.vars->end() ? nullptr : &it->second;
}

bool is_caller(const config::McpCallerMatch& who, const Caller& c) {
  if (who.consumers.empty() && who.groups.empty() && who.scopes.empty() && who.claims.empty())
    return true;  // everyone
  for (const auto& n : who.consumers)
    if (!c.consumer.empty() && agg::glob_match(n, c.consumer)) return true;
  if (c.groups)
    for (const auto& g : who.groups)
      if (std::find(c.groups->begin(), c.groups->end(), g) != c.groups->end()) return true;
  const std::string* scope = var(c, "jwt.scope");
  if (!scope) scope = var(c, "jwt.scp");
  for (const auto& s : who.scopes)
    if (scope && has_word(*scope, s)) return true;
  for (const auto& [claim, value] : who.claims) {
    const std::string* v = var(c, "jwt." + claim);
    if (v && (*v == value || has_word(*v, value))) return true;
  }
  return false;
}

// An argument's value as the text a glob sees: strings as they are, other
// scalars as JSON; objects and arrays never match (a rule about them would
// be too easy to get around by nesting).
bool argument_matches(const json::object& args, const std::string& name, const std::string& glob) {
  const json::value* v = args.if_contains(name);
  if (!v || v->is_object() || v->is_array()) return false;
  if (const auto* s = v->if_string()) return agg::glob_match(glob, std::string_view(*s));
  return agg::glob_match(glob, json::serialize(*v));
}

}  // namespace

bool allowed(const std::vector<config::McpToolRuleConfig>& rules, const Caller& caller,
             std::string_view original, std::string_view exposed,
             const json::object* arguments) {
  for (const auto& r : rules) {
    bool tool = std::any_of(r.tools.begin(), r.tools.end(), [&](const std::string& g) {
      return agg::glob_match(g, original) || agg::glob_match(g, exposed);
    });
    if (!tool) continue;
    if (!r.arguments.empty()) {
      if (!arguments) continue;  // listing: decided per call
      const json::object& args = *arguments;
      bool all = std::all_of(r.arguments.begin(), r.arguments.end(), [&](const auto& a) {
        return argument_matches(args, a.first, a.second);
      });
      if (!all) continue;
    }
    bool who = is_caller(r.who, caller);
    return r.allow ? who : !who;
  }
  return true;
}

}  // namespace gatehouse::mcp::rules
