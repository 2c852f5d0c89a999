// llm: providers, models and AI routes.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

const char* kGood = R"yaml(llm:
  providers:
    - {name: openai-main, kind: openai, base_url: "http://127.0.0.1:9001", api_key: "${GH_AI_KEY}"}
    - {name: claude, kind: anthropic, base_url: "http://127.0.0.1:9002/", api_key: "k2",
       headers: {x-extra: "1"}, timeouts: {connect: 2s, request: 5m, idle: 30s}}
    - {name: mock, kind: mock, mock: {reply: "hi", latency: 10ms, tokens_per_second: 50}}
  models:
    - name: smart
      targets: [{provider: claude, model: claude-sonnet-4-5, weight: 1}]
      fallbacks: [fast]
      aliases: [clever]
    - name: fast
      targets: [{provider: openai-main, model: gpt-4o-mini}]
routes:
  - name: ai
    match: {paths: ["/v1/"]}
    llm: {models: [smart, fast], max_body: 1m}
    policies: [{name: key-auth}]
)yaml";

TEST(AiConfig, ParsesProvidersModelsAndRoute) {
  EnvGuard key("GH_AI_KEY", "sk-test");
  auto r = load(kGood);
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& llm = r.config.llm;
  ASSERT_EQ(llm.providers.size(), 3u);
  EXPECT_EQ(llm.providers[0].api_key, "sk-test");
  EXPECT_EQ(llm.providers[1].kind, LlmProviderKind::kAnthropic);
  ASSERT_EQ(llm.providers[1].headers.size(), 1u);
  EXPECT_EQ(llm.providers[1].headers[0].first, "x-extra");
  EXPECT_EQ(llm.providers[1].timeouts.connect_ms, 2000);
  EXPECT_EQ(llm.providers[1].timeouts.request_ms, 300000);
  EXPECT_EQ(llm.providers[2].kind, LlmProviderKind::kMock);
  EXPECT_EQ(llm.providers[2].mock.reply, "hi");
  EXPECT_EQ(llm.providers[2].mock.latency_ms, 10);
  EXPECT_DOUBLE_EQ(llm.providers[2].mock.tokens_per_second, 50);
  ASSERT_EQ(llm.models.size(), 2u);
  EXPECT_EQ(llm.models[0].fallbacks, std::vector<std::string>{"fast"});
  EXPECT_EQ(llm.models[0].aliases, std::vector<std::string>{"clever"});
  EXPECT_EQ(llm.models[1].targets[0].weight, 1u);
  ASSERT_TRUE(r.config.routes[0].llm.has_value());
  EXPECT_EQ(r.config.routes[0].llm->models.size(), 2u);
  EXPECT_EQ(r.config.routes[0].llm->max_body, 1024u * 1024u);
}

TEST(AiConfig, MissingEnvVarIsPrecise) {
  EnvGuard unset("GH_AI_KEY", nullptr);
  auto r = load(kGood);
  expect_only_error(r, "unset_variable", "llm.providers[0].api_key", 3, 85);
  EXPECT_NE(r.errors[0].message.find("GH_AI_KEY"), std::string::npos);
}

TEST(AiConfig, UnknownKindAndProviderAndModel) {
  auto r = load(R"yaml(llm:
  providers:
    - {name: p, kind: opneai, base_url: "http://127.0.0.1:1", api_key: k}
  models:
    - name: m
      targets: [{provider: q, model: x}]
      fallbacks: [nope, m]
routes:
  - name: ai
    llm: {models: [m, mm]}
)yaml");
  ASSERT_EQ(r.errors.size(), 5u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "llm.providers[0].kind");
  EXPECT_NE(r.errors[0].message.find("did you mean \"openai\""), std::string::npos);
  EXPECT_EQ(r.errors[0].pos.line, 3);
  EXPECT_EQ(r.errors[1].field, "llm.models[0].targets[0].provider");
  EXPECT_EQ(r.errors[1].code, "unknown_provider");
  EXPECT_EQ(r.errors[1].pos.line, 6);
  EXPECT_EQ(r.errors[2].field, "llm.models[0].fallbacks[0]");
  EXPECT_EQ(r.errors[3].field, "llm.models[0].fallbacks[1]");
  EXPECT_EQ(r.errors[4].field, "routes[0].llm.models[1]");
  EXPECT_EQ(r.errors[4].code, "unknown_model");
  EXPECT_EQ(r.errors[4].pos.line, 10);
}

TEST(AiConfig, UpstreamAndLlmConflict) {
  auto r = load(R"yaml(upstreams:
  - {name: u, targets: ["127.0.0.1:1"]}
llm:
  providers: [{name: mock, kind: mock}]
  models: [{name: m, targets: [{provider: mock, model: echo}]}]
routes:
  - {name: ai, upstream: u, llm: {models: [m]}}
)yaml");
  expect_only_error(r, "conflicting_fields", "routes[0].upstream", 7, 26);
}

TEST(AiConfig, BadUrlsAndMissingKey) {
  auto r = load(R"yaml(llm:
  providers:
    - {name: a, kind: openai, base_url: "http://api.openai.com", api_key: k, ca_file: /etc/hostname}
    - {name: b, kind: anthropic, base_url: "ftp://x"}
    - {name: c, kind: openai-compatible}
    - {name: a, kind: mock}
)yaml");
  ASSERT_EQ(r.errors.size(), 5u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "invalid_value");
  EXPECT_EQ(r.errors[0].field, "llm.providers[0].ca_file");
  // A missing key points at its entity, which starts before the bad base_url.
  EXPECT_EQ(r.errors[1].field, "llm.providers[1].api_key");
  EXPECT_EQ(r.errors[2].field, "llm.providers[1].base_url");
  EXPECT_EQ(r.errors[3].field, "llm.providers[2].base_url");
  EXPECT_EQ(r.errors[4].code, "duplicate_name");
}

TEST(AiConfig, ConsumerModelAllowList) {
  auto ok = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  models: [{name: fast, aliases: [quick], targets: [{provider: mock, model: m}]}]
consumers:
  - {name: a, llm: {models: [fast, quick]}}
  - {name: b}
)yaml");
  ASSERT_TRUE(ok.errors.empty()) << dump(ok);
  ASSERT_TRUE(ok.config.consumers[0].llm_models.has_value());
  EXPECT_EQ(ok.config.consumers[0].llm_models->size(), 2u);
  EXPECT_FALSE(ok.config.consumers[1].llm_models.has_value());
  auto bad = load(R"yaml(llm:
  providers: [{name: mock, kind: mock}]
  models: [{name: fast, targets: [{provider: mock, model: m}]}]
consumers:
  - {name: a, llm: {models: [fats]}}
)yaml");
  ASSERT_EQ(bad.errors.size(), 1u) << dump(bad);
  EXPECT_EQ(bad.errors[0].code, "unknown_model");
  EXPECT_EQ(bad.errors[0].field, "consumers[0].llm.models[0]");
  EXPECT_NE(bad.errors[0].message.find("did you mean"), std::string::npos) << bad.errors[0].message;
}

TEST(AiConfig, HttpsProviders) {
  auto ok = load(R"yaml(llm:
  providers: [{name: a, kind: openai, base_url: "https://api.openai.com", api_key: k}]
)yaml");
  EXPECT_TRUE(ok.errors.empty()) << dump(ok);
  auto bad = load(R"yaml(llm:
  providers: [{name: a, kind: openai, base_url: "https://x", api_key: k, ca_file: /nonexistent.pem}]
)yaml");
  expect_only_error(bad, "invalid_value", "llm.providers[0].ca_file", 2, 83);
}

TEST(AiConfig, HttpUrl) {
  HttpUrl u;
  std::string why;
  ASSERT_TRUE(parse_http_url("http://localhost:8000/v1/", u, why)) << why;
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 8000);
  EXPECT_EQ(u.prefix, "/v1");
  ASSERT_TRUE(parse_http_url("http://[::1]", u, why)) << why;
  EXPECT_EQ(u.port, 80);
  EXPECT_FALSE(parse_http_url("http://u:p@h", u, why));
}

}  // namespace
}  // namespace gatehouse::config

namespace gatehouse::config {
namespace {

TEST(AiConfig, GeminiAzureAndOllamaProviders) {
  auto r = load(R"yaml(llm:
  providers:
    - {name: g, kind: gemini, base_url: "https://generativelanguage.googleapis.com", api_key: k}
    - {name: az, kind: azure-openai, base_url: "https://res.openai.azure.com", api_key: k,
       api_version: "2024-10-21", deployments: {gpt-4o: prod-4o}}
    - {name: o, kind: ollama, base_url: "http://127.0.0.1:11434"}
  models:
    - {name: m, targets: [{provider: g, model: gemini-2.5-flash}, {provider: az, model: gpt-4o}, {provider: o, model: "llama3.2:3b"}]}
)yaml");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& p = r.config.llm.providers;
  EXPECT_EQ(p[0].kind, LlmProviderKind::kGemini);
  EXPECT_EQ(p[1].kind, LlmProviderKind::kAzureOpenAi);
  EXPECT_EQ(p[1].api_version, "2024-10-21");
  ASSERT_EQ(p[1].deployments.size(), 1u);
  EXPECT_EQ(p[1].deployments[0], (std::pair<std::string, std::string>{"gpt-4o", "prod-4o"}));
  EXPECT_EQ(p[2].kind, LlmProviderKind::kOllama);
  EXPECT_TRUE(p[2].api_key.empty());  // Ollama needs no key
}

TEST(AiConfig, AzureKeysAreCheckedAndOnlyForAzure) {
  auto r = load(R"yaml(llm:
  providers:
    - {name: g, kind: gemini, base_url: "http://127.0.0.1:1", api_version: v1}
    - {name: o, kind: openai, base_url: "http://127.0.0.1:1", api_key: k, deployments: {a: b}}
    - {name: az, kind: azure-openai, base_url: "http://127.0.0.1:1", api_key: k,
       api_version: "2024/10", deployments: {gpt-4o: "prod 4o"}}
)yaml");
  std::set<std::string> fields;
  for (const auto& e : r.errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{
                        "llm.providers[0].api_key", "llm.providers[0].api_version",
                        "llm.providers[1].deployments", "llm.providers[2].api_version",
                        "llm.providers[2].deployments.gpt-4o"}))
      << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
