#include "ai/gateway/gateway.hpp"

#include <gtest/gtest.h>

#include "ai/gateway/catalog.hpp"
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::gateway {
namespace {

TEST(AiGateway, ClassifiesByPathEnding) {
  EXPECT_EQ(classify("/v1/chat/completions"), Endpoint::kChat);
  EXPECT_EQ(classify("/openai/v1/chat/completions/"), Endpoint::kChat);
  EXPECT_EQ(classify("/v1/messages"), Endpoint::kMessages);
  EXPECT_EQ(classify("/v1/responses"), Endpoint::kResponses);
  EXPECT_EQ(classify("/v1/models"), Endpoint::kModels);
  EXPECT_EQ(classify("/v1/embeddings"), Endpoint::kEmbeddings);
  EXPECT_EQ(classify("/v1/audio/speech"), Endpoint::kUnknown);
  EXPECT_TRUE(wants_body(Endpoint::kEmbeddings));
  EXPECT_EQ(error_format(Endpoint::kMessages), Format::kMessages);
  EXPECT_EQ(error_format(Endpoint::kModels), Format::kChat);
}

TEST(AiGateway, MockEmbeddingsAreDeterministicUnitVectors) {
  auto a = providers::mock_embedding("hello", 32);
  auto b = providers::mock_embedding("hello", 32);
  auto c = providers::mock_embedding("hello!", 32);
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double norm = 0;
  for (float x : a) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  providers::EmbeddingsInput in;
  in.model = "m";
  in.texts = {"x", "y"};
  in.token_arrays = {{1, 2, 3}};
  in.dimensions = 4;
  in.base64 = true;
  std::string body = providers::mock_embeddings(in);
  EXPECT_NE(body.find("\"index\":2"), std::string::npos) << body;
  EXPECT_NE(body.find("\"prompt_tokens\":"), std::string::npos) << body;
  // 4 float32 = 16 bytes = 24 base64 characters.
  EXPECT_NE(body.find("\"embedding\":\""), std::string::npos) << body;
}

TEST(AiGateway, JoinsApiPathsWithoutRepeatingV1) {
  using providers::join_api_path;
  EXPECT_EQ(join_api_path("", "/v1/messages"), "/v1/messages");
  EXPECT_EQ(join_api_path("/v1", "/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(join_api_path("/api/openai/v1", "/v1/chat/completions"),
            "/api/openai/v1/chat/completions");
  EXPECT_EQ(join_api_path("/proxy", "/v1/messages"), "/proxy/v1/messages");
}

config::LlmConfig sample() {
  config::LlmConfig c;
  config::LlmProviderConfig mock;
  mock.name = "mock";
  mock.kind = config::LlmProviderKind::kMock;
  c.providers.push_back(mock);
  auto model = [&](std::string name, std::vector<std::string> fallbacks) {
    config::LlmModelConfig m;
    m.name = std::move(name);
    m.targets.push_back({"mock", "m-" + m.name, 1});
    m.fallbacks = std::move(fallbacks);
    return m;
  };
  c.models.push_back(model("a", {"b", "c"}));
  c.models.push_back(model("b", {"d", "a"}));  // a cycle back to a
  c.models.push_back(model("c", {}));
  c.models.push_back(model("d", {}));
  c.models[0].aliases = {"alpha"};
  return c;
}

TEST(AiGateway, CatalogFlattensFallbacksOnce) {
  auto cat = Catalog::build(sample(), 1);
  ASSERT_EQ(cat->find_model("alpha"), 0);
  EXPECT_EQ(cat->find_model("zzz"), -1);
  // a -> b -> d (b's fallbacks, depth-first), then a's next fallback c; a only once.
  EXPECT_EQ(cat->model(0).chain, (std::vector<size_t>{0, 1, 3, 2}));
  EXPECT_EQ(cat->model(2).chain, (std::vector<size_t>{2}));
  EXPECT_EQ(cat->provider(0).format(), Format::kChat);
}

TEST(AiGateway, WeightedPickSkipsZeroWeight) {
  config::LlmConfig c = sample();
  c.models[0].targets = {{"mock", "x", 0}, {"mock", "y", 5}};
  auto cat = Catalog::build(c, 1);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(cat->pick_target(cat->model(0)), 1u);
}

TEST(AiGateway, MockEchoesTheLastUserMessage) {
  auto req = parse_request(Format::kChat, R"({"model":"m","messages":[
      {"role":"system","content":"be brief"},
      {"role":"user","content":"first"},
      {"role":"assistant","content":"ok"},
      {"role":"user","content":"say these words"}]})");
  ASSERT_TRUE(req) << req.error().message;
  config::LlmMockConfig cfg;
  auto a = providers::mock_answer(cfg, req.value());
  EXPECT_EQ(a.text, "say these words");
  EXPECT_EQ(a.pieces, (std::vector<std::string>{"say ", "these ", "words"}));
  EXPECT_GT(a.input_tokens, 0);
  EXPECT_GT(a.output_tokens, 0);
  cfg.reply = "fixed";
  EXPECT_EQ(providers::mock_answer(cfg, req.value()).text, "fixed");
}

}  // namespace
}  // namespace gatehouse::ai::gateway
