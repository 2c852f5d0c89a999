#include "net/tls/sni.hpp"

#include <gtest/gtest.h>

namespace gatehouse::net::tls {
namespace {

TEST(Sni, NormalizeLowercasesAndDropsTrailingDot) {
  EXPECT_EQ(normalize_name("API.Example.COM."), "api.example.com");
  EXPECT_EQ(normalize_name("*.Example.com"), "*.example.com");
  EXPECT_EQ(normalize_name(""), "");
  EXPECT_EQ(normalize_name("a..b"), "");
  EXPECT_EQ(normalize_name("w.."), "");  // found by the fuzzer: not a fixed point before
  EXPECT_EQ(normalize_name("a..b"), "");
  EXPECT_EQ(normalize_name("w.."), "");  // found by the fuzzer: not a fixed point before
  EXPECT_EQ(normalize_name("*"), "");
  EXPECT_EQ(normalize_name("bad host"), "");
}

TEST(Sni, WildcardCoversExactlyOneLabel) {
  EXPECT_TRUE(name_matches("*.example.com", "a.example.com"));
  EXPECT_FALSE(name_matches("*.example.com", "example.com"));
  EXPECT_FALSE(name_matches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(name_matches("*.example.com", ".example.com"));
  EXPECT_TRUE(name_matches("example.com", "example.com"));
  EXPECT_FALSE(name_matches("example.com", "www.example.com"));
}

TEST(Sni, ExactBeforeWildcardAndFirstCertificateWins) {
  SniIndex idx;
  idx.add("*.example.com", 0);
  idx.add("api.example.com", 1);
  idx.add("API.example.com", 2);  // repeated by a later certificate: ignored
  idx.add("other.test", 2);
  EXPECT_EQ(idx.find("api.example.com"), 1);
  EXPECT_EQ(idx.find("Api.Example.Com."), 1);
  EXPECT_EQ(idx.find("www.example.com"), 0);
  EXPECT_EQ(idx.find("example.com"), -1);
  EXPECT_EQ(idx.find("a.b.example.com"), -1);
  EXPECT_EQ(idx.find("other.test"), 2);
  EXPECT_EQ(idx.find("unknown.test"), -1);
  EXPECT_EQ(idx.find(""), -1);
  EXPECT_EQ(idx.find("*.example.com"), -1);  // a client cannot ask for the wildcard itself
}

}  // namespace
}  // namespace gatehouse::net::tls
