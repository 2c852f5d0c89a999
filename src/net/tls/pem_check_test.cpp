#include "net/tls/pem_check.hpp"

#include <gtest/gtest.h>

#include <ctime>

#include "net/tls/test_certs.hpp"

namespace gatehouse::net::tls {
namespace {

using testing::make_test_cert;

TEST(PemCheck, SummarizesAMatchingPair) {
  auto c = make_test_cert("api.test", "DNS:api.test,DNS:*.api.test,IP:127.0.0.1");
  auto s = check_pem_pair(c.cert_pem, c.key_pem);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->subject, "CN=api.test");
  EXPECT_EQ(s->issuer, "CN=api.test");
  EXPECT_EQ(s->names, (std::vector<std::string>{"api.test", "*.api.test"}));
  EXPECT_EQ(s->san_dns, s->names);
  EXPECT_EQ(s->san_ip, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(s->fingerprint_sha256.size(), 64u);
  EXPECT_EQ(s->chain, 0u);
  int64_t now = std::time(nullptr);
  EXPECT_LT(s->not_before, now);
  EXPECT_GT(s->not_after, now);
  EXPECT_EQ(validity_problem(*s, now), "");
}

TEST(PemCheck, ChainIsCountedAndCnIsTheNameWithoutSans) {
  auto leaf = make_test_cert("cn-only.test", "");
  auto other = make_test_cert("ca.test", "");
  auto s = check_pem_pair(leaf.cert_pem + other.cert_pem, leaf.key_pem);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->chain, 1u);
  EXPECT_EQ(s->names, (std::vector<std::string>{"cn-only.test"}));
  EXPECT_TRUE(s->san_dns.empty());
}

TEST(PemCheck, ErrorsNameTheHalfAndTheProblem) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  auto b = make_test_cert("b.test", "DNS:b.test");
  auto mismatch = check_pem_pair(a.cert_pem, b.key_pem);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().field, "key");
  EXPECT_EQ(mismatch.error().code, "key_mismatch");

  auto junk = check_pem_pair("hello", a.key_pem);
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().field, "cert");
  EXPECT_EQ(junk.error().code, "invalid_certificate");

  auto swapped = check_pem_pair(a.key_pem, a.cert_pem);
  ASSERT_FALSE(swapped);
  EXPECT_EQ(swapped.error().field, "cert");
  EXPECT_NE(swapped.error().message.find("private key"), std::string::npos);

  auto broken = check_pem_pair(
      "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", a.key_pem);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().field, "cert");

  auto bad_chain = check_pem_pair(
      a.cert_pem + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", a.key_pem);
  ASSERT_FALSE(bad_chain);
  EXPECT_NE(bad_chain.error().message.find("certificate 2 of the chain"), std::string::npos)
      << bad_chain.error().message;

  auto no_key = check_pem_pair(a.cert_pem, "");
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().field, "key");
  EXPECT_EQ(no_key.error().code, "invalid_private_key");

  auto encrypted = check_pem_pair(
      a.cert_pem,
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_FALSE(encrypted);
  EXPECT_EQ(encrypted.error().field, "key");
  EXPECT_NE(encrypted.error().message.find("encrypted"), std::string::npos);
}

TEST(PemCheck, ValidityProblems) {
  auto old = make_test_cert("old.test", "DNS:old.test", -7200, -3600);
  auto s = summarize_certificate(old.cert_pem);
  ASSERT_TRUE(s);
  EXPECT_EQ(validity_problem(*s, std::time(nullptr)).rfind("expired on ", 0), 0u);
  auto later = make_test_cert("later.test", "DNS:later.test", 3600, 7200);
  s = summarize_certificate(later.cert_pem);
  ASSERT_TRUE(s);
  EXPECT_EQ(validity_problem(*s, std::time(nullptr)).rfind("not valid before ", 0), 0u);
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace gatehouse::net::tls
