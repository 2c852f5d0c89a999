// Bedrock providers with the AWS credential chain in the store: storable
// through /api/v1/llm/providers (no secret to seal), validated like the YAML,
// and built into the data plane's config.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>

#include "admin/api.hpp"
#include "admin/config_bridge.hpp"
#include "admin/secrets.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::admin {
namespace {

namespace json = boost::json;

class LlmAwsChain : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gatehouse-llm-aws-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // No region from the machine running the tests.
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config", 1);
    secrets::process_keyring() =
        *secrets::Keyring::parse(policy::base64_encode(std::string(32, 'k')), "test");
    auto s = store::open_store("sqlite:" + dir_ + "/g.db", dir_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    store_->set_validator(make_validator({}, json::value()));
    ApiHost host;
    host.store = store_.get();
    host.revision = [] { return int64_t{0}; };
    api_ = std::make_unique<Api>(std::move(host));
    admin_ = store_->create_token("test", "admin", store::Role::kAdmin, "")->secret;
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    secrets::process_keyring() = secrets::Keyring{};
    unsetenv("AWS_CONFIG_FILE");
    std::filesystem::remove_all(dir_);
  }
  AdminResponse call(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    r.path = target;
    r.body = body;
    r.headers.emplace_back("Authorization", "Bearer " + admin_);
    return api_->handle(r);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Api> api_;
  std::string admin_;
};

TEST_F(LlmAwsChain, StoredValidatedAndBuilt) {
  auto r = call("POST", "/api/v1/llm/providers",
                R"({"name":"aws","kind":"bedrock","region":"us-east-1",)"
                R"("aws":{"source":"chain","profile":"ops"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  r = call("POST", "/api/v1/llm/providers",
           R"({"name":"aws-default","kind":"bedrock","region":"eu-west-1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto got = json::parse(call("GET", "/api/v1/llm/providers/aws").body).as_object();
  EXPECT_EQ(got.at("aws"), json::parse(R"({"source":"chain","profile":"ops"})"));
  EXPECT_FALSE(got.at("has_api_key").as_bool());

  auto snap = store_->load_all();
  auto cfg = build_config(snap->entities, nullptr, nullptr, nullptr);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_EQ(cfg->llm.providers.size(), 2u);
  for (const auto& p : cfg->llm.providers) {
    EXPECT_TRUE(p.aws_chain) << p.name;
    EXPECT_TRUE(p.aws_access_key_id.empty());
  }
  EXPECT_EQ(cfg->llm.providers[0].aws_profile, "ops");
}

TEST_F(LlmAwsChain, MixedOrBadSettingsAreRefusedWithTheField) {
  struct Case {
    const char* body;
    const char* field;
  };
  for (
      const Case& c :
      {Case{
           R"({"name":"a","kind":"bedrock","region":"us-east-1","aws":{"source":"chain","access_key_id":"AKID"}})",
           "aws.access_key_id"},
       Case{R"({"name":"b","kind":"bedrock","region":"us-east-1","aws":{"source":"sso"}})",
            "aws.source"},
       Case{R"({"name":"c","kind":"bedrock","region":"us-east-1","aws":{"profile":"a b"}})",
            "aws.profile"},
       Case{R"({"name":"d","kind":"bedrock","aws":{"source":"chain"}})", "region"}}) {
    auto r = call("POST", "/api/v1/llm/providers", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.field), std::string::npos) << c.body << " -> " << r.body;
  }
}

}  // namespace
}  // namespace gatehouse::admin
