// One interface for every LLM provider: given a translated request, start a
// call and read the provider's answer (status, then body bytes) incrementally.
// One provider per file: openai.cpp (also openai-compatible), anthropic.cpp,
// gemini.cpp, azure_openai.cpp, ollama.cpp, bedrock.cpp, mock.cpp. HTTP providers share http_call.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ai/translate/ir.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::providers {

// An embeddings request as the gateway read it (for the mock and for
// estimates): the input texts, or token arrays given as such.
struct EmbeddingsInput {
  std::string model;  // the target's model name
  std::vector<std::string> texts;
  std::vector<std::vector<int64_t>> token_arrays;
  int64_t dimensions = 0;  // 0: the model's default
  bool base64 = false;     // encoding_format: base64
  // Cohere's input_type (search_document, search_query, ...), when the client
  // sent one; OpenAI-format providers get the body as it came anyway.
  std::string input_type;
  int64_t estimated_tokens = 0;  // the gateway's count, for providers that report none
};

class Call {
 public:
  virtual ~Call() = default;
  // Sends the request and reads the response head. An error means no answer
  // at all (connect failure, timeout, reset before the head): safe to fall back.
  virtual awaitable<Result<int>> start() = 0;
  // Appends the next piece of the body to `out`; false once the body ended.
  // An error after start() means the body was cut.
  virtual awaitable<Result<bool>> read(std::string& out) = 0;
  // "ip:port" the call went to (access log); empty for the mock.
  virtual std::string peer() const { return {}; }
  // A response header after start() (Retry-After on a 429); empty when absent.
  virtual std::string_view header(std::string_view /*name*/) const { return {}; }
  // Before start(): the call fails with `first_token_timeout` when no body
  // byte arrived `ms` after it began (> 0), apart from the idle timeout.
  void set_first_byte_timeout(int64_t ms) { first_byte_timeout_ms_ = ms; }

 protected:
  int64_t first_byte_timeout_ms_ = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The wire format the provider speaks.
  virtual Format format() const = 0;
  const config::LlmProviderConfig& config() const { return cfg_; }
  // `body` is `ir` already written in format(); providers that are not HTTP
  // (the mock) read the IR instead.
  virtual std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                                     std::string body) const = 0;
  // OpenAI's embeddings API: `body` is the client's request with the model
  // replaced by the target's; the answer is OpenAI's embeddings JSON. Null
  // when the provider has no embeddings API (Anthropic).
  virtual std::unique_ptr<Call> embeddings(asio::any_io_executor /*ex*/, std::string /*body*/,
                                           const EmbeddingsInput& /*in*/) const {
    return nullptr;
  }

 protected:
  explicit Provider(config::LlmProviderConfig cfg) : cfg_(std::move(cfg)) {}
  config::LlmProviderConfig cfg_;
};

std::unique_ptr<Provider> make_openai(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_anthropic(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_mock(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_gemini(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_azure_openai(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_ollama(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_bedrock(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_provider(const config::LlmProviderConfig& cfg);

// The text the mock answers with and its token counts (exposed for tests).
struct MockAnswer {
  std::string text;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::vector<std::string> pieces;  // streaming deltas, concatenating to text
};
MockAnswer mock_answer(const config::LlmMockConfig& cfg, const Request& ir);

// The mock's embeddings: a unit vector per input, a pure function of the
// input text (so equal texts embed equally), float32 like OpenAI's.
constexpr int64_t kMockEmbeddingDimensions = 64;
std::vector<float> mock_embedding(std::string_view seed_text, int64_t dimensions);
std::string mock_embeddings(const EmbeddingsInput& in);

}  // namespace gatehouse::ai::providers
