#include "mcp/server/origin.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp {
namespace {

TEST(McpOrigin, ListedOriginsAndWildcard) {
  std::vector<std::string> allowed{"https://app.example.com"};
  EXPECT_TRUE(origin_allowed(allowed, "https://APP.example.com", "gw.example.com"));
  EXPECT_FALSE(origin_allowed(allowed, "https://evil.example.com", "gw.example.com"));
  EXPECT_TRUE(origin_allowed({"*"}, "https://evil.example.com", "gw.example.com"));
}

TEST(McpOrigin, SameOriginOnLoopbackOnly) {
  EXPECT_TRUE(origin_allowed({}, "http://localhost:8080", "localhost:8080"));
  EXPECT_TRUE(origin_allowed({}, "http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(origin_allowed({}, "http://[::1]:8080", "[::1]:8080"));
  // DNS rebinding: the attacker's name in both headers.
  EXPECT_FALSE(origin_allowed({}, "http://evil.example.com", "evil.example.com"));
  EXPECT_FALSE(origin_allowed({}, "http://evil.example.com:8080", "localhost:8080"));
  // Another port on localhost is another origin.
  EXPECT_FALSE(origin_allowed({}, "http://localhost:3000", "localhost:8080"));
  EXPECT_FALSE(origin_allowed({}, "http://localhost.evil.com:8080", "localhost.evil.com:8080"));
  EXPECT_FALSE(origin_allowed({}, "null", "localhost:8080"));
  EXPECT_FALSE(origin_allowed({}, "http://localhost:8080/x", "localhost:8080/x"));
}

}  // namespace
}  // namespace gatehouse::mcp
