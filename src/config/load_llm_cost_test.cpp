// llm: the Bedrock provider's keys and the price table.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(AiConfig, BedrockProvider) {
  EnvGuard secret("GH_AWS_SECRET", "s3cr3t");
  auto r = load(R"yaml(llm:
  providers:
    - {name: aws, kind: bedrock, region: eu-west-1,
       aws: {access_key_id: AKIDX, secret_access_key: "${GH_AWS_SECRET}", session_token: tok}}
    - {name: local, kind: bedrock, region: us-east-1, base_url: "http://127.0.0.1:9", aws: {access_key_id: a, secret_access_key: b}}
  models:
    - {name: m, targets: [{provider: aws, model: "anthropic.claude-3-haiku-20240307-v1:0"}]}
)yaml");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& p = r.config.llm.providers;
  EXPECT_EQ(p[0].kind, LlmProviderKind::kBedrock);
  EXPECT_EQ(p[0].base_url, "https://bedrock-runtime.eu-west-1.amazonaws.com");
  EXPECT_EQ(p[0].aws_access_key_id, "AKIDX");
  EXPECT_EQ(p[0].aws_secret_access_key, "s3cr3t");
  EXPECT_EQ(p[0].aws_session_token, "tok");
  EXPECT_EQ(p[1].base_url, "http://127.0.0.1:9");
}

TEST(AiConfig, BedrockKeysAreCheckedAndOnlyForBedrock) {
  // No region from the environment or shared files (b has none; without aws it uses the chain).
  EnvGuard region("AWS_REGION", nullptr), default_region("AWS_DEFAULT_REGION", nullptr);
  EnvGuard config("AWS_CONFIG_FILE", "/nonexistent/aws-config");
  auto r = load(R"yaml(llm:
  providers:
    - {name: a, kind: bedrock, region: "US East", api_key: k, aws: {access_key_id: x}}
    - {name: b, kind: bedrock}
    - {name: c, kind: openai, base_url: "http://127.0.0.1:1", api_key: k, region: us-east-1}
    - {name: d, kind: bedrock, region: us-east-1, aws: {access_key_id: x, secret_access_key: y, token: z}}
)yaml");
  std::set<std::string> fields;
  for (const auto& e : r.errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "llm.providers[0].region", "llm.providers[0].aws.secret_access_key",
                        "llm.providers[0].api_key",
                        "llm.providers[1].region", "llm.providers[2].region",
                        "llm.providers[3].aws.token"}))
      << dump(r);
}

TEST(AiConfig, PriceTable) {
  auto r = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  models: [{name: m, targets: [{provider: mock, model: echo}]}]
  currency: EUR
  prices:
    - {provider: mock, model: echo, input: 0.5, output: 1.5, cache_read: 0.05}
    - {model: gpt-4o, input: 2.5, output: 10, cache_write: 3, reasoning: 12}
)yaml");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& p = r.config.llm.prices;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(r.config.llm.currency, "EUR");
  EXPECT_EQ(p[0].provider, "mock");
  EXPECT_EQ(p[0].cache_read, 0.05);
  EXPECT_EQ(p[0].cache_write, -1);  // unset
  EXPECT_EQ(p[1].provider, "");
  EXPECT_EQ(p[1].reasoning, 12);
}

TEST(AiConfig, PriceTableErrors) {
  auto r = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  currency: euro
  prices:
    - {provider: mokc, model: echo, input: 1, output: 1}
    - {input: -1, output: 1}
    - {provider: mock, model: echo, input: 1, output: 2, cache_read: -3}
    - {provider: mock, model: echo, input: 1, output: 1, price: 3}
)yaml");
  std::set<std::string> fields;
  for (const auto& e : r.errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{"llm.currency", "llm.prices[0].provider",
                                           "llm.prices[1].model", "llm.prices[1].input",
                                           "llm.prices[2].cache_read", "llm.prices[3].price",
                                           "llm.prices[3]"}))
      << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
