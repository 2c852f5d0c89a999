#include "mcp/server/tool_rules.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::rules {
namespace {

namespace json = boost::json;

config::McpToolRuleConfig rule(std::vector<std::string> tools, bool allow,
                               config::McpCallerMatch who = {}) {
  config::McpToolRuleConfig r;
  r.tools = std::move(tools);
  r.allow = allow;
  r.who = std::move(who);
  return r;
}

TEST(McpToolRules, FirstMatchingRuleDecides) {
  std::vector<std::string> ops{"ops"};
  std::unordered_map<std::string, std::string> vars{{"jwt.scope", "mcp:read mcp:admin"},
                                                    {"jwt.role", "auditor"}};
  Caller alice{"alice", &ops, &vars};
  Caller bob{"bob", nullptr, nullptr};
  std::vector<config::McpToolRuleConfig> rs;
  config::McpCallerMatch ops_group, admin_scope, auditors, b_star;
  ops_group.groups = {"ops"};
  admin_scope.scopes = {"mcp:admin"};
  auditors.claims = {{"role", "auditor"}};
  b_star.consumers = {"b*"};
  rs.push_back(rule({"admin-*"}, true, ops_group));
  rs.push_back(rule({"fixture_secret"}, true, admin_scope));
  rs.push_back(rule({"audit"}, true, auditors));
  rs.push_back(rule({"*"}, false, b_star));
  EXPECT_TRUE(allowed(rs, alice, "admin-reset", "admin-reset", nullptr));
  EXPECT_FALSE(allowed(rs, bob, "admin-reset", "admin-reset", nullptr));
  // The exposed (prefixed) name or the upstream's own name both match.
  EXPECT_TRUE(allowed(rs, alice, "secret", "fixture_secret", nullptr));
  EXPECT_FALSE(allowed(rs, bob, "secret", "fixture_secret", nullptr));
  EXPECT_TRUE(allowed(rs, alice, "audit", "audit", nullptr));
  // The catch-all deny for b*: alice is not one of them.
  EXPECT_TRUE(allowed(rs, alice, "echo", "echo", nullptr));
  EXPECT_FALSE(allowed(rs, bob, "echo", "echo", nullptr));
  EXPECT_TRUE(allowed({}, bob, "echo", "echo", nullptr));
  // A deny rule naming nobody denies everyone.
  EXPECT_FALSE(allowed({rule({"echo"}, false)}, alice, "echo", "echo", nullptr));
}

TEST(McpToolRules, ArgumentConditionsOnlyOnCalls) {
  auto r = rule({"read-file"}, false);
  r.arguments = {{"path", "/etc/*"}};
  std::vector<config::McpToolRuleConfig> rs{r};
  Caller anyone{"", nullptr, nullptr};
  json::object etc{{"path", "/etc/passwd"}}, home{{"path", "/home/a"}}, nested{{"path", json::array{"/etc/x"}}};
  EXPECT_FALSE(allowed(rs, anyone, "read-file", "read-file", &etc));
  EXPECT_TRUE(allowed(rs, anyone, "read-file", "read-file", &home));
  EXPECT_TRUE(allowed(rs, anyone, "read-file", "read-file", nullptr));  // listed
  EXPECT_TRUE(allowed(rs, anyone, "read-file", "read-file", &nested));  // not a scalar
  // Numbers are matched as their JSON text.
  rs[0].arguments = {{"count", "1??"}};
  json::object big{{"count", 100}}, small{{"count", 5}};
  EXPECT_FALSE(allowed(rs, anyone, "read-file", "read-file", &big));
  EXPECT_TRUE(allowed(rs, anyone, "read-file", "read-file", &small));
}

}  // namespace
}  // namespace gatehouse::mcp::rules
