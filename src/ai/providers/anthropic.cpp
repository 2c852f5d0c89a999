// Anthropic Messages: `x-api-key` and `anthropic-version` (overridable through
// the provider's headers, e.g. for beta flags).
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"
#include "common/strings.hpp"

namespace gatehouse::ai::providers {
namespace {

constexpr const char* kAnthropicVersion = "2023-06-01";

class Anthropic final : public Provider {
 public:
  explicit Anthropic(const config::LlmProviderConfig& cfg) : Provider(cfg) {
    std::string why;
    config::parse_http_url(cfg_.base_url, url_, why);  // validated at load
    // The CA file was checked at load; a failure here leaves tls_ empty and
    // every call answers 502 saying so.
    if (auto t = provider_tls_context(cfg_)) tls_ = std::move(t.value());
  }
  Format format() const override { return Format::kMessages; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request&,
                             std::string body) const override {
    HttpRequest r;
    r.url = url_;
    r.path = "/v1/messages";
    r.headers.emplace_back("x-api-key", cfg_.api_key);
    bool version_set = false;
    for (const auto& h : cfg_.headers) {
      if (iequals(h.first, "anthropic-version")) version_set = true;
      r.headers.push_back(h);
    }
    if (!version_set) r.headers.emplace_back("anthropic-version", kAnthropicVersion);
    r.headers.emplace_back("Accept", "application/json, text/event-stream");
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

std::unique_ptr<Provider> make_anthropic(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Anthropic>(cfg);
}

std::unique_ptr<Provider> make_provider(const config::LlmProviderConfig& cfg) {
  switch (cfg.kind) {
    case config::LlmProviderKind::kOpenAi:
    case config::LlmProviderKind::kOpenAiCompatible:
      return make_openai(cfg);
    case config::LlmProviderKind::kAnthropic:
      return make_anthropic(cfg);
    case config::LlmProviderKind::kMock:
      return make_mock(cfg);
    case config::LlmProviderKind::kGemini:
      return make_gemini(cfg);
    case config::LlmProviderKind::kAzureOpenAi:
      return make_azure_openai(cfg);
    case config::LlmProviderKind::kOllama:
      return make_ollama(cfg);
  }
  return make_mock(cfg);
}

}  // namespace gatehouse::ai::providers
