// Google Gemini (Generative Language API): generateContent, or
// streamGenerateContent?alt=sse for streams, the model in the path and the key
// in `x-goog-api-key` (never in the query string, where access logs keep it).
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"

namespace gatehouse::ai::providers {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Model names travel in the path: anything outside RFC 3986's unreserved set
// is percent-encoded (a "models/" prefix the operator may have written is
// dropped, since the path adds it).
std::string model_segment(std::string_view model) {
  if (model.substr(0, 7) == "models/") model.remove_prefix(7);
  return percent_encode(model);
}

class Gemini final : public HttpProvider {
 public:
  explicit Gemini(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {
    // base_url may already carry the API version (".../v1beta" or ".../v1").
    version_ = ends_with(url_.prefix, "/v1beta") || ends_with(url_.prefix, "/v1") ? "" : "/v1beta";
  }
  Format format() const override { return Format::kGemini; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    HttpRequest r = request(version_ + "/models/" + model_segment(ir.model) +
                                (ir.stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
                            std::move(body), ir.stream ? "text/event-stream" : "application/json");
    r.headers.emplace_back("x-goog-api-key", cfg_.api_key);
    return make_http_call(ex, std::move(r));
  }

 private:
  std::string version_;
};

}  // namespace

std::unique_ptr<Provider> make_gemini(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Gemini>(cfg);
}

}  // namespace gatehouse::ai::providers
