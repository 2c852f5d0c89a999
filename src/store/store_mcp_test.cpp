// MCP registry observations (migration 4), on both backends.
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

template <class B>
class StoreMcp : public StoreFixture<B> {};
TYPED_TEST_SUITE(StoreMcp, Backends, BackendName);

TYPED_TEST(StoreMcp, PutListReplace) {
  auto& s = *this->store_;
  McpDefinition d;
  d.server = "remote";
  d.kind = "tool";
  d.name = "echo";
  d.pinned_sha256 = d.seen_sha256 = "aa";
  d.pinned = d.seen = boost::json::object{{"name", "echo"}, {"description", "\xC3\xA9"}};
  d.first_seen = d.last_seen = 1000;
  ASSERT_TRUE(s.put_mcp_definition(d).ok());
  McpDefinition other = d;
  other.server = "everything";
  ASSERT_TRUE(s.put_mcp_definition(other).ok());

  d.seen_sha256 = "bb";
  d.seen = boost::json::object{{"name", "echo"}, {"description", "new"}};
  d.last_seen = d.changed_at = 2000;
  ASSERT_TRUE(s.put_mcp_definition(d).ok());

  auto all = s.mcp_definitions("");
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].server, "everything");  // ordered by server
  auto mine = s.mcp_definitions("remote");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  const auto& got = mine->front();
  EXPECT_EQ(got.pinned_sha256, "aa");
  EXPECT_EQ(got.seen_sha256, "bb");
  EXPECT_EQ(got.pinned.at("description"), "\xC3\xA9");
  EXPECT_EQ(got.seen.at("description"), "new");
  EXPECT_EQ(got.first_seen, 1000);
  EXPECT_EQ(got.changed_at, 2000);
  // Observations are not configuration.
  EXPECT_EQ(this->revision(), 0);
}

}  // namespace
}  // namespace gatehouse::store::testing
