// llm.providers[].aws: static keys or the AWS credential chain, and the
// region default from the environment and shared files.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

// No region or profile from the machine running the tests.
struct CleanAwsEnv {
  EnvGuard r1{"AWS_REGION", nullptr}, r2{"AWS_DEFAULT_REGION", nullptr}, p{"AWS_PROFILE", nullptr},
      c{"AWS_CONFIG_FILE", "/nonexistent/aws-config"},
      s{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials"};
};

TEST(AwsConfig, ChainWhenNoKeys) {
  CleanAwsEnv env;
  auto r = load(R"yaml(llm:
  providers:
    - {name: a, kind: bedrock, region: us-east-1}
    - {name: b, kind: bedrock, region: us-east-1, aws: {source: chain}}
    - {name: c, kind: bedrock, region: us-east-1, aws: {profile: dev}}
    - {name: d, kind: bedrock, region: us-east-1, aws: {source: chain, profile: "ops.team-1"}}
    - {name: e, kind: bedrock, region: us-east-1, aws: {source: static, access_key_id: A, secret_access_key: S}}
    - {name: f, kind: bedrock, region: us-east-1, aws: {access_key_id: A, secret_access_key: S}}
)yaml");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& p = r.config.llm.providers;
  EXPECT_TRUE(p[0].aws_chain);
  EXPECT_TRUE(p[1].aws_chain);
  EXPECT_TRUE(p[2].aws_chain);
  EXPECT_EQ(p[2].aws_profile, "dev");
  EXPECT_EQ(p[3].aws_profile, "ops.team-1");
  EXPECT_FALSE(p[4].aws_chain);
  EXPECT_FALSE(p[5].aws_chain);
  EXPECT_EQ(p[5].aws_access_key_id, "A");
  EXPECT_EQ(p[0].base_url, "https://bedrock-runtime.us-east-1.amazonaws.com");
}

TEST(AwsConfig, ChainAndKeysDoNotMix) {
  CleanAwsEnv env;
  auto r = load(R"yaml(llm:
  providers:
    - {name: a, kind: bedrock, region: us-east-1, aws: {source: chain, access_key_id: A}}
    - {name: b, kind: bedrock, region: us-east-1, aws: {source: sts}}
    - {name: c, kind: bedrock, region: us-east-1, aws: {access_key_id: A, secret_access_key: S, profile: dev}}
    - {name: d, kind: bedrock, region: us-east-1, aws: {profile: "two words"}}
    - {name: e, kind: openai, base_url: "http://127.0.0.1:1", api_key: k, aws: {source: chain}}
    - {name: f, kind: bedrock, region: us-east-1, aws: {source: static}}
)yaml");
  std::set<std::string> fields;
  for (const auto& e : r.errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "llm.providers[0].aws.access_key_id", "llm.providers[1].aws.source",
                        "llm.providers[2].aws.profile", "llm.providers[3].aws.profile",
                        "llm.providers[4].aws", "llm.providers[5].aws.access_key_id",
                        "llm.providers[5].aws.secret_access_key"}))
      << dump(r);
  for (const auto& e : r.errors)
    if (e.field == "llm.providers[0].aws.access_key_id") {
      EXPECT_NE(e.message.find("source chain"), std::string::npos) << e.message;
      EXPECT_EQ(e.pos.line, 3);
    }
}

TEST(AwsConfig, RegionFromTheEnvironmentThenTheProfile) {
  CleanAwsEnv env;
  const std::string conf = ::testing::TempDir() + "/load_aws_test_config";
  {
    std::ofstream f(conf);
    f << "[profile dev]\nregion = eu-west-1\n";
  }
  EnvGuard cf("AWS_CONFIG_FILE", conf.c_str());
  const char* yaml = R"yaml(llm:
  providers:
    - {name: a, kind: bedrock, aws: {profile: dev}}
    - {name: b, kind: bedrock, region: us-east-1}
)yaml";
  auto r = load(yaml);
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  EXPECT_EQ(r.config.llm.providers[0].region, "eu-west-1");
  EXPECT_EQ(r.config.llm.providers[0].base_url, "https://bedrock-runtime.eu-west-1.amazonaws.com");
  EXPECT_EQ(r.config.llm.providers[1].region, "us-east-1");  // region: wins
  {
    EnvGuard reg("AWS_DEFAULT_REGION", "ca-central-1");
    auto r2 = load(yaml);
    EXPECT_EQ(r2.config.llm.providers[0].region, "ca-central-1");
  }
  // Nothing anywhere: the error says where a region may come from.
  EnvGuard none("AWS_CONFIG_FILE", "/nonexistent/aws-config");
  auto r3 = load(yaml);
  ASSERT_EQ(r3.errors.size(), 1u) << dump(r3);
  EXPECT_EQ(r3.errors[0].field, "llm.providers[0].region");
  EXPECT_NE(r3.errors[0].message.find("AWS_REGION"), std::string::npos);
  std::remove(conf.c_str());
}

}  // namespace
}  // namespace gatehouse::config
