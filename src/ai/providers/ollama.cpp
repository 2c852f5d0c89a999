// Ollama's native API: POST /api/chat, NDJSON streaming (Ollama streams unless
// the body says "stream": false, which the writer always states). No key by
// default; an api_key (Ollama's hosted API, or a proxy in front) goes as
// `Authorization: Bearer`.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"

namespace gatehouse::ai::providers {
namespace {

class Ollama final : public Provider {
 public:
  explicit Ollama(const config::LlmProviderConfig& cfg) : Provider(cfg) {
    std::string why;
    config::parse_http_url(cfg_.base_url, url_, why);  // validated at load
    if (auto t = provider_tls_context(cfg_)) tls_ = std::move(t.value());
  }
  Format format() const override { return Format::kOllama; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    HttpRequest r;
    r.url = url_;
    r.path = "/api/chat";
    if (!cfg_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
    r.headers.emplace_back("Accept", ir.stream ? "application/x-ndjson" : "application/json");
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

std::unique_ptr<Provider> make_ollama(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Ollama>(cfg);
}

}  // namespace gatehouse::ai::providers
