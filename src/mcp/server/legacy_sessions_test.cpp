#include "mcp/server/legacy_sessions.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::legacy {
namespace {

TEST(LegacySessions, OpenFindTokenClose) {
  size_t before = count();
  std::string a = open("tools", "alice");
  std::string b = open("tools", "");
  ASSERT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(count(), before + 2);
  auto e = find(a);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->route, "tools");
  EXPECT_EQ(e->consumer, "alice");
  EXPECT_TRUE(e->token.empty());
  set_token(a, "sealed");
  EXPECT_EQ(find(a)->token, "sealed");
  close(a);
  EXPECT_FALSE(find(a));
  close(a);  // twice is harmless
  close(b);
  EXPECT_EQ(count(), before);
  EXPECT_FALSE(find("not-an-id"));
}

}  // namespace
}  // namespace gatehouse::mcp::legacy
