#include "mcp/server/audit.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::audit {
namespace {

TEST(McpAudit, SecretNames) {
  for (const char* n : {"password", "API_KEY", "apiKey", "api-key", "accessToken", "client_secret",
                        "Authorization", "private_key", "Cookie", "db.password"})
    EXPECT_TRUE(secret_name(n)) << n;
  for (const char* n : {"city", "path", "query", "keyword", "count", "name"})
    EXPECT_FALSE(secret_name(n)) << n;
}

TEST(McpAudit, RedactsAtAnyDepth) {
  auto v = boost::json::parse(
      R"({"city":"Oslo","password":"hunter2","auth":{"token":{"a":1},"user":"u"},)"
      R"("list":[{"apiKey":"k"},3]})");
  EXPECT_EQ(redacted(v),
            R"({"city":"Oslo","password":"[redacted]","auth":{"token":"[redacted]","user":"u"},)"
            R"("list":[{"apiKey":"[redacted]"},3]})");
  EXPECT_EQ(redacted(boost::json::parse("[1,2]")), "[1,2]");
}

}  // namespace
}  // namespace gatehouse::mcp::audit
