// Anthropic Messages: `x-api-key` and `anthropic-version` (overridable through
// the provider's headers, e.g. for beta flags).
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"
#include "common/strings.hpp"

namespace gatehouse::ai::providers {
namespace {

constexpr const char* kAnthropicVersion = "2023-06-01";

class Anthropic final : public HttpProvider {
 public:
  explicit Anthropic(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {}
  Format format() const override { return Format::kMessages; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request&,
                             std::string body) const override {
    HttpRequest r =
        request("/v1/messages", std::move(body), "application/json, text/event-stream");
    r.headers.emplace_back("x-api-key", cfg_.api_key);
    bool version_set = false;
    for (const auto& h : cfg_.headers)
      if (iequals(h.first, "anthropic-version")) version_set = true;
    if (!version_set) r.headers.emplace_back("anthropic-version", kAnthropicVersion);
    return make_http_call(ex, std::move(r));
  }
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
    case config::LlmProviderKind::kBedrock:
      return make_bedrock(cfg);
  }
  return make_mock(cfg);
}

}  // namespace gatehouse::ai::providers
