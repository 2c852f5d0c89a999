#include "policies/mtls_auth/dn.hpp"

#include <gtest/gtest.h>

namespace gatehouse::policy::mtls {
namespace {

TEST(MtlsDn, OrderCaseAndSpacesDoNotMatter) {
  auto a = canonical_dn("CN=alice,O=Acme");
  auto b = canonical_dn("o=Acme, cn=alice");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, "CN=alice,O=Acme");
  EXPECT_NE(*canonical_dn("CN=Alice,O=Acme"), *a);  // values keep their case
}

TEST(MtlsDn, EscapedSeparatorsStayInTheValue) {
  auto d = canonical_dn("CN=Smith\\, John,O=Acme");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "CN=Smith\\, John,O=Acme");
  EXPECT_EQ(*canonical_dn("O=Acme+CN=x"), *canonical_dn("CN=x,O=Acme"));
}

TEST(MtlsDn, RejectsMalformed) {
  EXPECT_FALSE(canonical_dn(""));
  EXPECT_FALSE(canonical_dn("alice"));
  EXPECT_FALSE(canonical_dn("CN=a,,O=b"));
  EXPECT_FALSE(canonical_dn("=a"));
  EXPECT_FALSE(canonical_dn("CN=a\\"));
}

TEST(MtlsDn, Fingerprints) {
  std::string hex(64, 'a');
  EXPECT_EQ(canonical_fingerprint("sha256:" + hex), hex);
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += std::string(i ? ":" : "") + "AA";
  EXPECT_EQ(canonical_fingerprint(colons), hex);
  EXPECT_FALSE(canonical_fingerprint("sha256:abcd"));
  EXPECT_FALSE(canonical_fingerprint(std::string(64, 'g')));
}

}  // namespace
}  // namespace gatehouse::policy::mtls
