// Azure OpenAI: OpenAI's Chat Completions and Embeddings wire format, the key
// in `api-key`, and the model named by a deployment. Two URL forms:
// - api_version "v1" or unset: /openai/v1/chat/completions, deployment in the
//   body's `model` (Azure's v1 API);
// - any other api_version: /openai/deployments/{deployment}/chat/completions
//   ?api-version=..., where Azure ignores the body's model.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"
#include "ai/translate/json_util.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::providers {
namespace {

class AzureOpenAi final : public HttpProvider {
 public:
  explicit AzureOpenAi(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {
    v1_ = cfg_.api_version.empty() || cfg_.api_version == "v1";
  }
  Format format() const override { return Format::kChat; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    return send(ex, ir.model, "/chat/completions", std::move(body),
                "application/json, text/event-stream");
  }
  std::unique_ptr<Call> embeddings(asio::any_io_executor ex, std::string body,
                                   const EmbeddingsInput& in) const override {
    return send(ex, in.model, "/embeddings", std::move(body), "application/json");
  }

 private:
  std::string deployment(const std::string& model) const {
    for (const auto& [m, d] : cfg_.deployments)
      if (m == model) return d;
    return model;
  }

  std::unique_ptr<Call> send(asio::any_io_executor ex, const std::string& model,
                             std::string_view api, std::string body, const char* accept) const {
    const std::string dep = deployment(model);
    std::string path;
    if (v1_) {
      path = "/openai/v1" + std::string(api);
      if (dep != model) body = with_model(body, dep);
    } else {
      path = "/openai/deployments/" + dep + std::string(api) + "?api-version=" + cfg_.api_version;
    }
    HttpRequest r = request(std::move(path), std::move(body), accept);
    r.headers.emplace_back("api-key", cfg_.api_key);
    return make_http_call(ex, std::move(r));
  }

  // The v1 form reads the deployment from the body's model.
  static std::string with_model(const std::string& body, const std::string& dep) {
    boost::system::error_code ec;
    boost::json::value v = parse_json(body, ec);
    if (ec || !v.is_object()) return body;
    v.as_object()["model"] = dep;
    return boost::json::serialize(v);
  }

  bool v1_ = true;
};

}  // namespace

std::unique_ptr<Provider> make_azure_openai(const config::LlmProviderConfig& cfg) {
  return std::make_unique<AzureOpenAi>(cfg);
}

}  // namespace gatehouse::ai::providers
