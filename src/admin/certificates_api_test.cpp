// /api/v1/certificates against a real SQLite store: the key sealed at rest
// and never read back, the parsed certificate shown, precise 400s, GET -> PUT
// round trips, the built config and rekey.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin/api.hpp"
#include "admin/certificates.hpp"
#include "admin/config_bridge.hpp"
#include "admin/llm_entities.hpp"
#include "admin/secrets.hpp"
#include "net/tls/test_certs.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;
using net::tls::testing::make_test_cert;
using net::tls::testing::TestCert;

const std::string kKeyA = policy::base64_encode(std::string(32, 'a'));
const std::string kKeyB = policy::base64_encode(std::string(32, 'b'));

std::string key_body(const TestCert& c) {
  // The base64 of the key without its armour: what must never be at rest.
  std::string k = c.key_pem;
  auto a = k.find('\n') + 1;
  return k.substr(a, 40);
}

class CertificatesApi : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-cert-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    secrets::process_keyring() = *secrets::Keyring::parse(kKeyA, "test");
    auto s = store::open_store("sqlite:" + dir_ + "/g.db", dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    store_->set_validator(make_validator());
    ApiHost host;
    host.store = store_.get();
    host.revision = [] { return int64_t{0}; };
    api_ = std::make_unique<Api>(std::move(host));
    admin_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
    viewer_ = store_->create_token("test", "viewer", store::Role::kViewer, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    secrets::process_keyring() = secrets::Keyring{};
    std::filesystem::remove_all(dir_);
  }

  AdminResponse call(const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& token = "") {
    ApiRequest r;
    r.method = method;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer " + (token.empty() ? admin_ : token));
    return api_->handle(r);
  }
  static json::object body(const AdminResponse& r) { return json::parse(r.body).as_object(); }
  static std::string cert_json(const std::string& name, const TestCert& c) {
    return json::serialize(json::object{{"name", name}, {"cert", c.cert_pem}, {"key", c.key_pem}});
  }

  std::string db_bytes() {
    std::string all;
    for (const char* f : {"/g.db", "/g.db-wal"}) {
      std::ifstream in(dir_ + f, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  Result<config::Config> built() {
    auto snap = store_->load_all();
    return build_config(snap->entities);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string admin_, viewer_;
};

TEST_F(CertificatesApi, KeySealedAtRestNeverReadBackAndCertificateShown) {
  auto c = make_test_cert("api.test", "DNS:api.test,DNS:*.apps.test,IP:10.0.0.1");
  auto r = call("POST", "/api/v1/certificates", cert_json("api", c));
  ASSERT_EQ(r.status, 201) << r.body;
  auto b = body(r);
  EXPECT_FALSE(b.contains("key"));
  EXPECT_TRUE(b["has_key"].as_bool());
  EXPECT_EQ(b["subject"].as_string(), "CN=api.test");
  EXPECT_EQ(b["issuer"].as_string(), "CN=api.test");
  EXPECT_EQ(b["san_dns"].as_array().size(), 2u);
  EXPECT_EQ(b["san_ip"].as_array()[0].as_string(), "10.0.0.1");
  EXPECT_EQ(b["fingerprint_sha256"].as_string().size(), 64u);
  EXPECT_EQ(b["status"].as_string(), "valid");
  EXPECT_EQ(b["cert"].as_string(), c.cert_pem);
  EXPECT_TRUE(b["not_after"].as_string().ends_with("Z"));
  std::string secret = key_body(c);
  for (const auto& got : {call("GET", "/api/v1/certificates/api", "", viewer_),
                          call("GET", "/api/v1/certificates"), call("GET", "/api/v1/audit")}) {
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body.find(secret), std::string::npos);
    EXPECT_EQ(got.body.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(got.body.find("gh1."), std::string::npos);
  }
  EXPECT_EQ(db_bytes().find(secret), std::string::npos);
  EXPECT_EQ(db_bytes().find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(db_bytes().find("gh1."), std::string::npos);
  // The data plane gets the PEM text.
  auto cfg = built();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->server.tls.certificates.size(), 1u);
  EXPECT_EQ(cfg->server.tls.certificates[0].store_name, "api");
  EXPECT_EQ(cfg->server.tls.certificates[0].key_pem, c.key_pem);
  EXPECT_EQ(cfg->server.tls.certificates[0].cert_pem, c.cert_pem);
}

TEST_F(CertificatesApi, PreciseErrors) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  auto b = make_test_cert("b.test", "DNS:b.test");
  auto expect = [&](const std::string& json_body, const std::string& code,
                    const std::string& field) {
    auto r = call("POST", "/api/v1/certificates", json_body);
    EXPECT_EQ(r.status, 400) << r.body;
    auto doc = body(r);
    EXPECT_EQ(doc["code"].as_string(), code) << r.body;
    EXPECT_EQ(doc["field"].as_string(), field) << r.body;
  };
  expect(json::serialize(json::object{{"name", "x"}, {"cert", a.cert_pem}, {"key", b.key_pem}}),
         "key_mismatch", "key");
  expect(json::serialize(json::object{{"name", "x"}, {"cert", "junk"}, {"key", a.key_pem}}),
         "invalid_certificate", "cert");
  expect(json::serialize(json::object{{"name", "x"}, {"cert", a.cert_pem}, {"key", "junk"}}),
         "invalid_private_key", "key");
  expect(json::serialize(json::object{{"name", "x"}, {"cert", a.cert_pem}}), "missing_field",
         "key");
  expect(json::serialize(json::object{{"name", "x"}, {"key", a.key_pem}}), "missing_field", "cert");
  expect(json::serialize(json::object{{"cert", a.cert_pem}, {"key", a.key_pem}}), "missing_field",
         "name");
  expect(json::serialize(
             json::object{{"name", "x"}, {"cert", a.cert_pem}, {"key", a.key_pem}, {"sni", 1}}),
         "unknown_field", "sni");
  auto old = make_test_cert("old.test", "DNS:old.test", -7200, -60);
  expect(cert_json("x", old), "certificate_expired", "cert");
  auto later = make_test_cert("later.test", "DNS:later.test", 3600, 7200);
  expect(cert_json("x", later), "certificate_not_yet_valid", "cert");
  // A sealed value that is not the stored one cannot be planted.
  expect(json::serialize(json::object{
             {"name", "x"}, {"cert", a.cert_pem}, {"key", json::object{{"sealed", "gh1.x.y"}}}}),
         "invalid_entity", "key");
  // Node-wide: not in another workspace.
  auto r = call("POST", "/api/v1/certificates?workspace=team", cert_json("x", a));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body(r)["code"].as_string(), "node_wide");
  EXPECT_EQ(call("GET", "/api/v1/certificates").body.find("\"x\""), std::string::npos);
}

TEST_F(CertificatesApi, RoundTripKeepsTheKeyReplaceAndDelete) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  ASSERT_EQ(call("POST", "/api/v1/certificates", cert_json("site", a)).status, 201);
  // GET -> PUT: the body has no key, the stored one stays.
  auto got = body(call("GET", "/api/v1/certificates/site"));
  got["tags"] = json::array{"edge"};
  auto put = call("PUT", "/api/v1/certificates/site", json::serialize(got));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(body(put)["tags"].as_array().size(), 1u);
  EXPECT_EQ(built()->server.tls.certificates[0].key_pem, a.key_pem);
  // A PATCH leaving the key alone keeps it too.
  auto patched = call("PATCH", "/api/v1/certificates/site", R"({"tags":["x","y"]})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  // A new certificate with the old key: refused, the key must come along.
  auto b = make_test_cert("b.test", "DNS:b.test");
  auto bad = call("PATCH", "/api/v1/certificates/site",
                  json::serialize(json::object{{"cert", b.cert_pem}}));
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(body(bad)["code"].as_string(), "key_mismatch");
  EXPECT_EQ(body(bad)["field"].as_string(), "key");
  // Replaced with its key.
  auto replaced = call("PUT", "/api/v1/certificates/site", cert_json("site", b));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(body(replaced)["subject"].as_string(), "CN=b.test");
  EXPECT_EQ(built()->server.tls.certificates[0].cert_pem, b.cert_pem);
  // Audit rows exist and hold no key.
  auto audit = call("GET", "/api/v1/audit?kind=certificate");
  ASSERT_EQ(audit.status, 200);
  EXPECT_EQ(body(audit)["items"].as_array().size(), 4u);
  EXPECT_EQ(audit.body.find("gh1."), std::string::npos);
  EXPECT_EQ(audit.body.find("PRIVATE KEY"), std::string::npos);
  ASSERT_EQ(call("DELETE", "/api/v1/certificates/site").status, 204);
  EXPECT_TRUE(built()->server.tls.certificates.empty());
  EXPECT_EQ(call("GET", "/api/v1/certificates/site").status, 404);
}

TEST_F(CertificatesApi, StoredAfterTheSettingsFileAndByName) {
  auto z = make_test_cert("z.test", "DNS:z.test");
  auto a = make_test_cert("a.test", "DNS:a.test");
  ASSERT_EQ(call("POST", "/api/v1/certificates", cert_json("zeta", z)).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/certificates", cert_json("alpha", a)).status, 201);
  auto cfg = built();
  ASSERT_TRUE(cfg.ok());
  config::ServerConfig settings;
  config::TlsCertificateConfig file;
  file.cert = "file.crt";
  file.key = "file.key";
  settings.tls.certificates.push_back(file);
  settings.listeners.proxy_tls = "127.0.0.1:0";
  apply_server_settings(*cfg, settings);
  const auto& list = cfg->server.tls.certificates;
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].cert, "file.crt");
  EXPECT_EQ(list[1].store_name, "alpha");
  EXPECT_EQ(list[2].store_name, "zeta");
  EXPECT_EQ(cfg->server.listeners.proxy_tls, "127.0.0.1:0");
}

TEST_F(CertificatesApi, RekeyResealsCertificateKeys) {
  auto a = make_test_cert("a.test", "DNS:a.test");
  ASSERT_EQ(call("POST", "/api/v1/certificates", cert_json("site", a)).status, 201);
  std::string old_id = secrets::process_keyring().current()->id;
  EXPECT_EQ(sealed_key_ids(store_->load_all()->entities), std::vector<std::string>{old_id});
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyB + "\n" + kKeyA, "test");
  auto r = call("POST", "/api/v1/llm/rekey");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["resealed"].as_int64(), 1);
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyB, "test");
  auto cfg = built();
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->server.tls.certificates[0].key_pem, a.key_pem);
  // Without the key the config does not build, and says which field.
  secrets::process_keyring() = *secrets::Keyring::parse(kKeyA, "test");
  cfg = built();
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, "secret_key_missing");
  EXPECT_EQ(cfg.error().field, "key");
}

}  // namespace
}  // namespace gatehouse::admin
