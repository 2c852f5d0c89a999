// What bedrock.cpp (Converse) and bedrock_embeddings.cpp (InvokeModel)
// share: a call that fetches the credentials, signs the request with SigV4
// and only then sends it, and the embeddings translation (Titan Text
// Embeddings, Cohere Embed) exposed for tests.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ai/providers/aws_credentials.hpp"
#include "ai/providers/http_call.hpp"

namespace gatehouse::ai::providers {

struct BedrockAuth {
  std::shared_ptr<aws::CredentialSource> creds;
  std::string region;
  std::string provider;  // the provider's name, for errors
};

// A call that gets the keys (waiting only when none are valid), signs `req`
// (host, x-amz-date and the session token; the operator's extra headers go
// unsigned, so they cannot break the signature) and sends it. No keys: start()
// fails with `ai_provider_auth` (502).
std::unique_ptr<Call> make_signed_call(asio::any_io_executor ex, HttpRequest req,
                                       std::shared_ptr<const BedrockAuth> auth);

// Signs `r` in place with `c` at `amz_date` (tests).
void sign_bedrock_request(HttpRequest& r, const sigv4::Credentials& c, std::string_view region,
                          const std::string& amz_date);

// The embeddings families Bedrock's InvokeModel serves, by model id (also
// with a cross-region prefix such as "us.", or inside an ARN).
enum class EmbedFamily { kUnknown, kTitanV1, kTitanV2, kCohere };
EmbedFamily embed_family(std::string_view model_id);

// The InvokeModel bodies for `in`: Titan one per text ({"inputText",
// "dimensions", "normalize"}), Cohere one per 96 texts ({"texts",
// "input_type"}). `input_type` is Cohere's (empty: "search_document"). An
// error (400) for what the family cannot do (token arrays, dimensions).
Result<std::vector<std::string>> bedrock_embed_bodies(EmbedFamily f, const EmbeddingsInput& in,
                                                      std::string_view input_type);

// One InvokeModel answer read into `vectors` (appended in order) and
// `tokens` (Titan's inputTextTokenCount; Cohere has none).
Result<void> read_bedrock_embed_answer(EmbedFamily f, std::string_view body,
                                       std::vector<std::vector<double>>& vectors, int64_t& tokens);

// OpenAI's embeddings answer: float arrays, or base64 of little-endian
// float32 when `base64` (what OpenAI sends and the SDKs decode).
std::string openai_embeddings_answer(const std::vector<std::vector<double>>& vectors,
                                     const std::string& model, int64_t prompt_tokens, bool base64);

// The /v1/embeddings call for a Bedrock target: the InvokeModel calls
// (several at once, answered in input order), then OpenAI's answer.
std::unique_ptr<Call> make_bedrock_embeddings(asio::any_io_executor ex, HttpRequest base,
                                              std::shared_ptr<const BedrockAuth> auth,
                                              const EmbeddingsInput& in, std::string input_type);

}  // namespace gatehouse::ai::providers
