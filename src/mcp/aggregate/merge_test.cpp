#include "mcp/aggregate/merge.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::aggregate {
namespace {

json::object tool(const std::string& name) {
  json::object o;
  o["name"] = name;
  o["inputSchema"] = json::object{{"type", "object"}};
  return o;
}

std::vector<std::string> names(const Merged& m) {
  std::vector<std::string> out;
  for (const auto& v : m.items) out.emplace_back(v.as_object().at("name").as_string());
  return out;
}

const std::vector<std::string> kServers = {"a", "b"};

TEST(Merge, Globs) {
  EXPECT_TRUE(glob_match("get-*", "get-env"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*-*-*", "x-y-z"));
  EXPECT_FALSE(glob_match("echo", "echo2"));
}

TEST(Merge, OnCollisionPrefixesOnlyCollidingNames) {
  PerServer lists = {{tool("echo"), tool("add")}, {tool("echo"), tool("weather")}};
  auto m = merge_named(lists, kServers, config::McpPrefix::kOnCollision, nullptr);
  EXPECT_EQ(names(m), (std::vector<std::string>{"a_echo", "add", "b_echo", "weather"}));
  EXPECT_EQ(m.index.at("b_echo").server, 1u);
  EXPECT_EQ(m.index.at("b_echo").original, "echo");
  EXPECT_EQ(m.index.at("add").original, "add");
  EXPECT_TRUE(m.skipped.empty());
}

TEST(Merge, AlwaysAndNever) {
  PerServer lists = {{tool("echo")}, {tool("echo"), tool("x")}};
  auto always = merge_named(lists, kServers, config::McpPrefix::kAlways, nullptr);
  EXPECT_EQ(names(always), (std::vector<std::string>{"a_echo", "b_echo", "b_x"}));
  auto never = merge_named(lists, kServers, config::McpPrefix::kNever, nullptr);
  EXPECT_EQ(names(never), (std::vector<std::string>{"echo", "x"}));
  ASSERT_EQ(never.skipped.size(), 1u);
  EXPECT_EQ(never.skipped[0].server, "b");
  EXPECT_NE(never.skipped[0].reason.find("collides"), std::string::npos);
}

TEST(Merge, PrefixedNameCollidingWithARealNameIsSkipped) {
  PerServer lists = {{tool("echo"), tool("b_echo")}, {tool("echo")}};
  auto m = merge_named(lists, kServers, config::McpPrefix::kOnCollision, nullptr);
  EXPECT_EQ(names(m), (std::vector<std::string>{"a_echo", "b_echo"}));
  EXPECT_EQ(m.index.at("b_echo").server, 0u);
  ASSERT_EQ(m.skipped.size(), 1u);
}

TEST(Merge, TooLongNamesAreSkipped) {
  PerServer lists = {{tool(std::string(127, 'x'))}, {}};
  auto never = merge_named(lists, kServers, config::McpPrefix::kNever, nullptr);
  EXPECT_EQ(never.items.size(), 1u);
  auto always = merge_named(lists, kServers, config::McpPrefix::kAlways, nullptr);
  EXPECT_EQ(always.items.size(), 0u);
  ASSERT_EQ(always.skipped.size(), 1u);
  EXPECT_NE(always.skipped[0].reason.find("128"), std::string::npos);
}

TEST(Merge, AllowDenyMatchOriginalOrExposedName) {
  config::RouteMcpConfig r;
  r.tools_deny = {"get-env", "b_*"};
  PerServer lists = {{tool("get-env"), tool("echo")}, {tool("echo"), tool("z")}};
  auto m = merge_named(lists, kServers, config::McpPrefix::kOnCollision, &r);
  EXPECT_EQ(names(m), (std::vector<std::string>{"a_echo", "z"}));
  r.tools_deny.clear();
  r.tools_allow = {"echo"};
  auto m2 = merge_named(lists, kServers, config::McpPrefix::kOnCollision, &r);
  EXPECT_EQ(names(m2), (std::vector<std::string>{"a_echo", "b_echo"}));
}

TEST(Merge, Uris) {
  json::object r1{{"uri", "test://1"}, {"name", "one"}};
  json::object r2{{"uri", "test://2"}, {"name", "two"}};
  PerServer lists = {{r1}, {r1, r2}};
  auto m = merge_uris(lists, kServers, "uri");
  EXPECT_EQ(m.items.size(), 2u);
  EXPECT_EQ(m.index.at("test://2").server, 1u);
  EXPECT_EQ(m.skipped.size(), 1u);
}

TEST(Merge, UriTemplates) {
  EXPECT_TRUE(uri_template_match("demo://resource/dynamic/text/{resourceId}",
                                 "demo://resource/dynamic/text/7"));
  EXPECT_FALSE(uri_template_match("demo://resource/dynamic/text/{resourceId}",
                                  "demo://resource/dynamic/text/"));
  EXPECT_FALSE(uri_template_match("demo://r/{id}", "demo://r/a/b"));
  EXPECT_TRUE(uri_template_match("file:///{+path}", "file:///a/b/c"));
  EXPECT_TRUE(uri_template_match("x://{a}/{b}", "x://1/2"));
  EXPECT_FALSE(uri_template_match("x://{a}", "y://1"));
  EXPECT_TRUE(uri_template_match("{a}", "x"));
  EXPECT_FALSE(uri_template_match("{a}", ""));
  EXPECT_FALSE(uri_template_match("x://{a", "x://1"));
  // Many adjacent expressions must stay fast (no backtracking explosion).
  std::string many;
  for (int i = 0; i < 200; ++i) many += "{t}";
  EXPECT_FALSE(uri_template_match(many + "/", std::string(1000, 'a')));
  EXPECT_TRUE(uri_template_match(many, std::string(1000, 'a')));
}

TEST(Merge, Cursors) {
  auto c = encode_cursor("tools", 42);
  EXPECT_EQ(decode_cursor("tools", c), 42u);
  EXPECT_FALSE(decode_cursor("prompts", c));
  EXPECT_FALSE(decode_cursor("tools", "garbage"));
  EXPECT_FALSE(decode_cursor("tools", ""));
}

}  // namespace
}  // namespace gatehouse::mcp::aggregate
