// API documents (migration 2): content-addressed texts, on both backends.
#include "store/codec.hpp"
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

template <class B>
class StoreDocuments : public StoreFixture<B> {};
TYPED_TEST_SUITE(StoreDocuments, Backends, BackendName);

TYPED_TEST(StoreDocuments, PutGetIsContentAddressed) {
  auto& s = *this->store_;
  std::string text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n# \xC3\xA9t\xC3\xA9\n";
  auto sha = s.put_document(text);
  ASSERT_TRUE(sha.ok()) << sha.error().message;
  EXPECT_EQ(*sha, sha256_hex(text));
  auto again = s.put_document(text);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *sha);
  auto got = s.get_document(*sha);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, text);
  auto missing = s.get_document(std::string(64, '0'));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().status, 404);
  // Documents are not configuration: the revision does not move.
  EXPECT_EQ(this->revision(), 0);
  // And they survive a restart.
  this->store_.reset();
  this->store_ = this->open();
  ASSERT_NE(this->store_, nullptr);
  auto reread = this->store_->get_document(*sha);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(*reread, text);
}

TYPED_TEST(StoreDocuments, LargeDocument) {
  std::string big(3 * 1024 * 1024, 'x');
  auto sha = this->store_->put_document(big);
  ASSERT_TRUE(sha.ok()) << sha.error().message;
  auto got = this->store_->get_document(*sha);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), big.size());
}

}  // namespace
}  // namespace gatehouse::store::testing
