// OpenAI and OpenAI-compatible endpoints (vLLM, DeepSeek, Groq, ...): Chat
// Completions, `Authorization: Bearer <api_key>`.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"

namespace gatehouse::ai::providers {
namespace {

class OpenAi final : public Provider {
 public:
  explicit OpenAi(const config::LlmProviderConfig& cfg) : Provider(cfg) {
    std::string why;
    config::parse_http_url(cfg_.base_url, url_, why);  // validated at load
    // The CA file was checked at load; a failure here leaves tls_ empty and
    // every call answers 502 saying so.
    if (auto t = provider_tls_context(cfg_)) tls_ = std::move(t.value());
  }
  Format format() const override { return Format::kChat; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request&,
                             std::string body) const override {
    HttpRequest r;
    r.url = url_;
    r.path = "/v1/chat/completions";
    if (!cfg_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
    r.headers.emplace_back("Accept", "application/json, text/event-stream");
    for (const auto& h : cfg_.headers) r.headers.push_back(h);
    r.body = std::move(body);
    r.timeouts = cfg_.timeouts;
    r.tls = tls_;
    return make_http_call(ex, std::move(r));
  }

 private:
  config::HttpUrl url_;
  std::shared_ptr<asio::ssl::context> tls_;
};

}  // namespace

std::unique_ptr<Provider> make_openai(const config::LlmProviderConfig& cfg) {
  return std::make_unique<OpenAi>(cfg);
}

}  // namespace gatehouse::ai::providers
