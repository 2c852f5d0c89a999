#include "mcp/registry/versions.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::registry {
namespace {

TEST(McpRegistryVersions, ValidAndOrdered) {
  for (const char* v : {"1.0.0", "2.1.0-alpha", "1.0.0+20130313144700", "2026.8.31", "v3"})
    EXPECT_TRUE(valid_version(v)) << v;
  for (const char* v : {"", "latest", "^1.2.3", "~1.2", ">=1.0", "1.x", "1.*", "1.X.0", "a b"})
    EXPECT_FALSE(valid_version(v)) << v;
  EXPECT_LT(compare_versions("1.2.0", "1.10.0"), 0);
  EXPECT_LT(compare_versions("1.0.0-beta", "1.0.0"), 0);
  EXPECT_LT(compare_versions("1.0.0-alpha", "1.0.0-beta"), 0);
  EXPECT_GT(compare_versions("2.0.0", "1.99.99"), 0);
  EXPECT_EQ(compare_versions("1.0.0", "1.0.0"), 0);
  EXPECT_NE(compare_versions("1.0", "1.0.0"), 0);  // a total order for distinct strings
  EXPECT_LT(compare_versions("abc", "abd"), 0);
}

TEST(McpRegistryVersions, Rfc3339) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(1754572504280), "2025-08-07T13:15:04.280Z");
  EXPECT_EQ(parse_rfc3339("2025-08-07T13:15:04.280Z"), 1754572504280);
  EXPECT_EQ(parse_rfc3339("2025-08-07T15:15:04.28+02:00"), 1754572504280);
  EXPECT_EQ(parse_rfc3339("2025-08-07T13:15:04Z"), 1754572504000);
  for (const char* bad : {"", "2025-08-07", "2025-08-07 13:15:04Z", "2025-02-30T00:00:00Z",
                          "2025-08-07T13:15:04", "2025-08-07T13:15:04.Z", "2025-08-07T25:00:00Z",
                          "2025-08-07T13:15:04+0200", "2025-08-07T13:15:04Zjunk"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(McpRegistryVersions, Paths) {
  EXPECT_TRUE(parse_registry_path("").list);
  EXPECT_TRUE(parse_registry_path("/").list);
  auto p = parse_registry_path("/io.github.u%2Fweather");
  EXPECT_EQ(p.status, 0);
  EXPECT_EQ(p.name, "io.github.u/weather");
  EXPECT_FALSE(p.versions);
  p = parse_registry_path("/io.github.u%2fweather/versions");
  EXPECT_TRUE(p.versions);
  EXPECT_EQ(p.version, "");
  p = parse_registry_path("/io.github.u/weather/versions/1.0.0%2Bbuild");
  EXPECT_EQ(p.name, "io.github.u/weather");
  EXPECT_EQ(p.version, "1.0.0+build");
  EXPECT_EQ(parse_registry_path("/a%2Fb/other").status, 404);
  EXPECT_EQ(parse_registry_path("/a%2Fb/versions/1/x").status, 404);
  EXPECT_EQ(parse_registry_path("/a%2").status, 400);
  EXPECT_EQ(parse_registry_path("/a%00b").status, 400);
  EXPECT_EQ(parse_registry_path("x").status, 404);
}

TEST(McpRegistryVersions, Query) {
  auto q = parse_query("search=we+ather&limit=2&search=other&cursor=a%3D");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->at("search"), "we ather");
  EXPECT_EQ(q->at("cursor"), "a=");
  EXPECT_FALSE(parse_query("a=%zz"));
  EXPECT_TRUE(parse_query("&&")->empty());
}

}  // namespace
}  // namespace gatehouse::mcp::registry
