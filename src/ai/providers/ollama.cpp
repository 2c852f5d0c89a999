// Ollama's native API: POST /api/chat, NDJSON streaming (Ollama streams unless
// the body says "stream": false, which the writer always states). No key by
// default; an api_key (Ollama's hosted API, or a proxy in front) goes as
// `Authorization: Bearer`.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"

namespace gatehouse::ai::providers {
namespace {

class Ollama final : public HttpProvider {
 public:
  explicit Ollama(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {}
  Format format() const override { return Format::kOllama; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    HttpRequest r = request("/api/chat", std::move(body),
                            ir.stream ? "application/x-ndjson" : "application/json");
    if (!cfg_.api_key.empty()) r.headers.emplace_back("Authorization", "Bearer " + cfg_.api_key);
    return make_http_call(ex, std::move(r));
  }
};

}  // namespace

std::unique_ptr<Provider> make_ollama(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Ollama>(cfg);
}

}  // namespace gatehouse::ai::providers
