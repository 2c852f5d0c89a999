// OpenAI and OpenAI-compatible endpoints (vLLM, DeepSeek, Groq, ...): Chat
// Completions, `Authorization: Bearer <api_key>`.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"

namespace gatehouse::ai::providers {
namespace {

class OpenAi final : public HttpProvider {
 public:
  explicit OpenAi(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {}
  Format format() const override { return Format::kChat; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request&,
                             std::string body) const override {
    return send(ex, "/v1/chat/completions", std::move(body), "application/json, text/event-stream");
  }
  std::unique_ptr<Call> embeddings(asio::any_io_executor ex, std::string body,
                                   const EmbeddingsInput&) const override {
    return send(ex, "/v1/embeddings", std::move(body), "application/json");
  }

 private:
  std::unique_ptr<Call> send(asio::any_io_executor ex, std::string path, std::string body,
                             std::string_view accept) const {
    HttpRequest r = request(std::move(path), std::move(body), accept);
    if (!cfg_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
    return make_http_call(ex, std::move(r));
  }
};

}  // namespace

std::unique_ptr<Provider> make_openai(const config::LlmProviderConfig& cfg) {
  return std::make_unique<OpenAi>(cfg);
}

}  // namespace gatehouse::ai::providers
