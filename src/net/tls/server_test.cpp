// TlsServer::build from the three sources of certificates (files, inline
// PEM, the store): what it accepts and how it names a problem.
#include "net/tls/server.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "net/tls/test_certs.hpp"

namespace gatehouse::net::tls {
namespace {

using testing::make_test_cert;

config::TlsCertificateConfig inline_entry(const testing::TestCert& c) {
  config::TlsCertificateConfig e;
  e.cert_pem = c.cert_pem;
  e.key_pem = c.key_pem;
  e.cert_pos = {"gh.yaml", 3, 15};
  e.key_pos = {"gh.yaml", 4, 15};
  return e;
}

TEST(TlsServerBuild, InlinePemServesAndIsReusedWhenUnchanged) {
  config::TlsConfig cfg;
  cfg.certificates.push_back(inline_entry(make_test_cert("a.test", "DNS:a.test")));
  cfg.certificates.push_back(inline_entry(make_test_cert("b.test", "DNS:b.test")));
  auto srv = TlsServer::build(cfg, nullptr);
  ASSERT_TRUE(srv) << srv.error().message;
  EXPECT_EQ((*srv)->certificate_count(), 2u);
  auto again = TlsServer::build(cfg, *srv);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), srv->get());  // same bytes: same contexts (session cache kept)
  cfg.certificates[1] = inline_entry(make_test_cert("b.test", "DNS:b.test"));
  auto changed = TlsServer::build(cfg, *srv);
  ASSERT_TRUE(changed);
  EXPECT_NE(changed->get(), srv->get());
}

TEST(TlsServerBuild, InlineErrorsNameTheFieldAndPosition) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  auto b = make_test_cert("b.test", "DNS:b.test");
  config::TlsConfig cfg;
  cfg.certificates.push_back(inline_entry(a));
  cfg.certificates.push_back(inline_entry(a));
  cfg.certificates[1].key_pem = b.key_pem;
  auto r = TlsServer::build(cfg, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "tls.certificates[1].key_pem");
  EXPECT_EQ(r.error().line, 4);
  EXPECT_EQ(r.error().column, 15);
  EXPECT_NE(r.error().message.find("does not belong"), std::string::npos) << r.error().message;

  cfg.certificates[1] = inline_entry(a);
  cfg.certificates[1].cert_pem = "not pem";
  r = TlsServer::build(cfg, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "tls.certificates[1].cert_pem");
  EXPECT_EQ(r.error().line, 3);
}

TEST(TlsServerBuild, StoredCertificateErrorsNameIt) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  auto b = make_test_cert("b.test", "DNS:b.test");
  config::TlsConfig cfg;
  auto e = inline_entry(a);
  e.key_pem = b.key_pem;
  e.store_name = "api";
  cfg.certificates.push_back(e);
  auto r = TlsServer::build(cfg, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "tls.certificates[0].key_pem");
  EXPECT_NE(r.error().message.find("certificate 'api' from the store"), std::string::npos)
      << r.error().message;
}

TEST(TlsServerBuild, FileFormKeepsItsWording) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  auto b = make_test_cert("b.test", "DNS:b.test");
  std::string dir = ::testing::TempDir();
  std::string crt = dir + "/tls_server_test_a.crt", key = dir + "/tls_server_test_b.key";
  std::ofstream(crt) << a.cert_pem;
  std::ofstream(key) << b.key_pem;
  config::TlsConfig cfg;
  config::TlsCertificateConfig f;
  f.cert = crt;
  f.key = key;
  cfg.certificates.push_back(f);
  auto r = TlsServer::build(cfg, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "tls.certificates[0].key");
  EXPECT_EQ(r.error().message, "'" + key + "' does not match the certificate '" + crt + "'");
  // A file beside an inline entry: both forms in one list.
  std::ofstream(key) << a.key_pem;
  cfg.certificates.push_back(inline_entry(b));
  auto ok = TlsServer::build(cfg, nullptr);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->certificate_count(), 2u);
  std::remove(crt.c_str());
  std::remove(key.c_str());
}

TEST(TlsServerBuild, ExpiredCertificateIsServedWithAWarning) {
  config::TlsConfig cfg;
  cfg.certificates.push_back(inline_entry(make_test_cert("old.test", "DNS:old.test", -7200, -60)));
  auto r = TlsServer::build(cfg, nullptr);
  ASSERT_TRUE(r) << r.error().message;
}

}  // namespace
}  // namespace gatehouse::net::tls
