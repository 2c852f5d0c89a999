#include "mcp/registry/pins.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::registry {
namespace {

json::object tool(std::string name, std::string desc) {
  return json::object{
      {"name", name}, {"description", desc}, {"inputSchema", json::object{{"type", "object"}}}};
}

TEST(McpPins, CanonicalIgnoresMemberOrder) {
  auto a = json::parse(R"({"b":1,"a":{"y":[1,"x"],"x":null}})");
  auto b = json::parse(R"({ "a": {"x": null, "y": [1, "x"]}, "b": 1 })");
  EXPECT_EQ(canonical_json(a), R"({"a":{"x":null,"y":[1,"x"]},"b":1})");
  EXPECT_EQ(definition_hash(a), definition_hash(b));
  EXPECT_EQ(definition_hash(a).size(), 64u);
  EXPECT_NE(definition_hash(a), definition_hash(json::parse(R"({"b":2,"a":{}})")));
}

TEST(McpPins, DiffNamesPaths) {
  auto d = diff(json::parse(R"({"description":"old","inputSchema":{"required":["a"]},"x/y":1})"),
                json::parse(R"({"description":"new","inputSchema":{"required":["a","b"]}})"));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].at("path"), "/description");
  EXPECT_EQ(d[0].at("op"), "replace");
  EXPECT_EQ(d[0].at("before"), "old");
  EXPECT_EQ(d[0].at("after"), "new");
  EXPECT_EQ(d[1].at("path"), "/inputSchema/required/1");
  EXPECT_EQ(d[1].at("op"), "add");
  EXPECT_EQ(d[2].at("path"), "/x~1y");
  EXPECT_EQ(d[2].at("op"), "remove");
  EXPECT_TRUE(diff(json::parse("[1]"), json::parse("[1]")).empty());
}

TEST(McpPins, ScreenBlocksChangedToolsAndReportsOnce) {
  std::vector<Report> reports;
  set_sink([&](Report r) { reports.push_back(std::move(r)); });
  auto pins = std::make_shared<PinSet>();
  pins->servers["s1"].on_change = OnChange::kBlock;
  pins->servers["s1"].tools["a"] = definition_hash(tool("a", "pinned"));
  pins->servers["s1"].tools["b"] = definition_hash(tool("b", "same"));
  publish(pins);

  std::vector<json::object> items = {tool("a", "changed"), tool("b", "same"), tool("c", "new")};
  EXPECT_EQ(screen("s1", "tools/list", items), 1u);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("name"), "b");
  EXPECT_EQ(items[1].at("name"), "c");
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].name, "a");
  EXPECT_EQ(reports[0].kind, "tool");
  EXPECT_EQ(reports[0].sha256, definition_hash(tool("a", "changed")));

  // The same list again: nothing new to report, still blocked.
  items = {tool("a", "changed"), tool("b", "same"), tool("c", "new")};
  EXPECT_EQ(screen("s1", "tools/list", items), 1u);
  EXPECT_EQ(reports.size(), 3u);

  // warn: the changed tool stays visible.
  pins->servers["s1"].on_change = OnChange::kWarn;
  items = {tool("a", "changed")};
  EXPECT_EQ(screen("s1", "tools/list", items), 0u);
  EXPECT_EQ(items.size(), 1u);

  // Prompts are recorded, never filtered; health is reported on change.
  std::vector<json::object> prompts = {json::object{{"name", "p"}}};
  EXPECT_EQ(screen("s1", "prompts/list", prompts), 0u);
  EXPECT_EQ(reports.back().kind, "prompt");
  report_health("s1", false, "refused");
  report_health("s1", false, "refused");
  EXPECT_EQ(reports.back().type, Report::Type::kHealth);
  size_t n = reports.size();
  report_health("s1", false, "refused");
  EXPECT_EQ(reports.size(), n);
  set_sink({});
  publish(nullptr);
}

TEST(McpPins, OnChangeNames) {
  EXPECT_EQ(parse_on_change("block"), OnChange::kBlock);
  EXPECT_FALSE(parse_on_change("deny"));
  EXPECT_EQ(on_change_name(OnChange::kAllow), "allow");
}

}  // namespace
}  // namespace gatehouse::mcp::registry
