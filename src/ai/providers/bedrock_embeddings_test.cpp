// Bedrock embeddings: the InvokeModel bodies of Titan and Cohere, their
// answers, OpenAI's answer built from them, and SigV4 signing of a request
// with temporary credentials.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "ai/providers/bedrock.hpp"

namespace gatehouse::ai::providers {
namespace {

namespace json = boost::json;

TEST(BedrockEmbeddings, Families) {
  EXPECT_EQ(embed_family("amazon.titan-embed-text-v2:0"), EmbedFamily::kTitanV2);
  EXPECT_EQ(embed_family("amazon.titan-embed-text-v1"), EmbedFamily::kTitanV1);
  EXPECT_EQ(embed_family("cohere.embed-english-v3"), EmbedFamily::kCohere);
  EXPECT_EQ(embed_family("us.cohere.embed-multilingual-v3"), EmbedFamily::kCohere);
  EXPECT_EQ(
      embed_family("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"),
      EmbedFamily::kTitanV2);
  EXPECT_EQ(embed_family("anthropic.claude-3-haiku-20240307-v1:0"), EmbedFamily::kUnknown);
}

TEST(BedrockEmbeddings, TitanOneCallPerInput) {
  EmbeddingsInput in;
  in.texts = {"first text", "second"};
  in.dimensions = 256;
  auto b = bedrock_embed_bodies(EmbedFamily::kTitanV2, in, "");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ(json::parse((*b)[0]),
            json::parse(R"({"inputText":"first text","dimensions":256,"normalize":true})"));
  EXPECT_EQ(json::parse((*b)[1]).at("inputText"), "second");
  in.dimensions = 0;
  EXPECT_FALSE(json::parse((*bedrock_embed_bodies(EmbedFamily::kTitanV2, in, ""))[0])
                   .as_object()
                   .contains("dimensions"));
  EXPECT_EQ(json::parse((*bedrock_embed_bodies(EmbedFamily::kTitanV1, in, ""))[0]),
            json::parse(R"({"inputText":"first text"})"));
}

TEST(BedrockEmbeddings, CohereBatchesOf96) {
  EmbeddingsInput in;
  for (int i = 0; i < 100; ++i) in.texts.push_back("t" + std::to_string(i));
  auto b = bedrock_embed_bodies(EmbedFamily::kCohere, in, "");
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 2u);
  auto first = json::parse((*b)[0]).as_object();
  EXPECT_EQ(first.at("texts").as_array().size(), 96u);
  EXPECT_EQ(first.at("input_type"), "search_document");
  EXPECT_EQ(json::parse((*b)[1]).at("texts").as_array().size(), 4u);
  EXPECT_EQ(json::parse((*bedrock_embed_bodies(EmbedFamily::kCohere, in, "search_query"))[0])
                .at("input_type"),
            "search_query");
}

TEST(BedrockEmbeddings, WhatAFamilyCannotDoIsA400) {
  EmbeddingsInput in;
  in.texts = {"x"};
  in.dimensions = 300;
  auto r = bedrock_embed_bodies(EmbedFamily::kTitanV2, in, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().field, "dimensions");
  in.dimensions = 512;
  EXPECT_FALSE(bedrock_embed_bodies(EmbedFamily::kTitanV1, in, ""));
  EXPECT_FALSE(bedrock_embed_bodies(EmbedFamily::kCohere, in, ""));
  in.dimensions = 0;
  in.token_arrays = {{1, 2, 3}};
  auto t = bedrock_embed_bodies(EmbedFamily::kTitanV2, in, "");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().field, "input");
}

TEST(BedrockEmbeddings, ReadsAnswers) {
  std::vector<std::vector<double>> v;
  int64_t tokens = 0;
  ASSERT_TRUE(read_bedrock_embed_answer(
      EmbedFamily::kTitanV2,
      R"({"embedding":[0.5,-0.25],"inputTextTokenCount":7,"embeddingsByType":{"float":[0.5,-0.25]}})",
      v, tokens));
  ASSERT_TRUE(read_bedrock_embed_answer(
      EmbedFamily::kTitanV2, R"({"embedding":[1,0],"inputTextTokenCount":3})", v, tokens));
  ASSERT_TRUE(read_bedrock_embed_answer(
      EmbedFamily::kCohere,
      R"({"embeddings":[[0.1,0.2],[0.3,0.4]],"id":"e1","response_type":"embeddings_floats","texts":["a","b"]})",
      v, tokens));
  ASSERT_TRUE(read_bedrock_embed_answer(
      EmbedFamily::kCohere,
      R"({"embeddings":{"float":[[0.7,0.8]]},"id":"e2","response_type":"embeddings_by_type"})", v,
      tokens));
  EXPECT_EQ(tokens, 10);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0], (std::vector<double>{0.5, -0.25}));
  EXPECT_EQ(v[3], (std::vector<double>{0.3, 0.4}));
  EXPECT_EQ(v[4], (std::vector<double>{0.7, 0.8}));
  for (const char* bad : {"nope", R"({"embeddings":[[1]]})", R"({"embedding":["x"]})"})
    EXPECT_FALSE(read_bedrock_embed_answer(EmbedFamily::kTitanV2, bad, v, tokens)) << bad;
  EXPECT_FALSE(read_bedrock_embed_answer(EmbedFamily::kCohere, R"({"embedding":[1]})", v, tokens));
}

TEST(BedrockEmbeddings, OpenAiAnswer) {
  std::vector<std::vector<double>> v = {{0.5, -0.25}, {1.0, 2.0}};
  auto f = json::parse(openai_embeddings_answer(v, "amazon.titan-embed-text-v2:0", 12, false));
  EXPECT_EQ(f.at("object"), "list");
  EXPECT_EQ(f.at("model"), "amazon.titan-embed-text-v2:0");
  EXPECT_EQ(f.at("usage").at("prompt_tokens"), 12);
  EXPECT_EQ(f.at("usage").at("total_tokens"), 12);
  EXPECT_EQ(f.at("data").at(1).at("index"), 1);
  EXPECT_EQ(f.at("data").at(0).at("embedding"), json::parse("[0.5,-0.25]"));
  // base64: little-endian float32 (0.5 = 0x3f000000, -0.25 = 0xbe800000).
  auto b = json::parse(openai_embeddings_answer(v, "m", 1, true));
  EXPECT_EQ(b.at("data").at(0).at("embedding"), "AAAAPwAAgL4=");
}

TEST(BedrockSigning, TemporaryCredentialsSignTheToken) {
  HttpRequest r;
  std::string why;
  ASSERT_TRUE(config::parse_http_url("http://127.0.0.1:8080/prefix", r.url, why));
  r.path = "/model/amazon.titan-embed-text-v2%3A0/invoke";
  r.body = R"({"inputText":"hi"})";
  sign_bedrock_request(r, {"ASIATEMP", "secret", "session-token"}, "us-west-2", "20261129T200000Z");
  auto header = [&](std::string_view n) {
    for (const auto& [k, v] : r.headers)
      if (k == n) return v;
    return std::string();
  };
  EXPECT_EQ(header("X-Amz-Date"), "20261129T200000Z");
  EXPECT_EQ(header("X-Amz-Security-Token"), "session-token");
  const std::string auth = header("Authorization");
  EXPECT_EQ(
      auth.rfind("AWS4-HMAC-SHA256 Credential=ASIATEMP/20261129/us-west-2/bedrock/aws4_request, "
                 "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=",
                 0),
      0u)
      << auth;
}

}  // namespace
}  // namespace gatehouse::ai::providers
