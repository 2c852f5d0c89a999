#include "mcp/server/list_cache.hpp"

#include <gtest/gtest.h>

namespace gatehouse::mcp::list_cache {
namespace {

std::vector<boost::json::object> one(const char* name) {
  return {boost::json::object{{"name", name}}};
}

TEST(ListCache, HitUntilListChangedOrTtl) {
  const std::string key = "1\nlc-a\n\ntools/list";
  uint64_t e = epoch("lc-a");
  EXPECT_EQ(find(key, "lc-a", 1000), nullptr);
  store(key, "lc-a", e, one("x"), 1000);
  const auto* hit = find(key, "lc-a", 1000 + kTtlMs - 1);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ((*hit)[0].at("name").as_string(), "x");
  EXPECT_EQ(find(key, "lc-a", 1000 + kTtlMs), nullptr);  // expired, and dropped

  store(key, "lc-a", epoch("lc-a"), one("y"), 2000);
  invalidate("lc-a");
  EXPECT_EQ(find(key, "lc-a", 2001), nullptr);
}

TEST(ListCache, AChangeDuringTheFetchLeavesTheEntryStale) {
  const std::string key = "1\nlc-b\n\ntools/list";
  uint64_t before = epoch("lc-b");
  invalidate("lc-b");  // announced while the fetch was running
  store(key, "lc-b", before, one("old"), 0);
  EXPECT_EQ(find(key, "lc-b", 1), nullptr);
}

TEST(ListCache, Bounded) {
  for (size_t i = 0; i < kMaxEntries + 10; ++i)
    store("k" + std::to_string(i), "lc-c", epoch("lc-c"), one("z"), 0);
  EXPECT_LE(size(), kMaxEntries);
}

}  // namespace
}  // namespace gatehouse::mcp::list_cache
