// AWS Bedrock Runtime: Converse (`POST /model/{modelId}/converse`) and
// ConverseStream (`/converse-stream`, AWS event-stream framing), and
// InvokeModel for embeddings (bedrock_embeddings.cpp), signed with SigV4
// (service "bedrock"). The keys are the provider's static `aws` keys or the
// AWS credential chain's (aws_credentials.hpp), fetched before signing. The
// model id goes into the path percent-encoded (':' in
// "anthropic.claude-...-v1:0" becomes %3A), and SigV4 signs that path encoded
// once more, as AWS's non-S3 services expect.
#include "ai/providers/bedrock.hpp"

#include "ai/providers/provider.hpp"
#include "ai/providers/sigv4.hpp"

namespace gatehouse::ai::providers {
namespace {

constexpr std::string_view kService = "bedrock";

// Fetches the keys, signs, then hands over to the HTTP call.
class SignedCall final : public Call {
 public:
  SignedCall(asio::any_io_executor ex, HttpRequest req, std::shared_ptr<const BedrockAuth> auth)
      : ex_(std::move(ex)), req_(std::move(req)), auth_(std::move(auth)) {}

  awaitable<Result<int>> start() override {
    auto c = co_await auth_->creds->get();
    if (!c) {
      Error e = c.error();
      e.message = "bedrock provider " + auth_->provider + ": " + e.message;
      co_return e;
    }
    sign_bedrock_request(req_, (*c)->keys, auth_->region,
                         sigv4::amz_date(std::chrono::system_clock::now()));
    inner_ = make_http_call(ex_, std::move(req_));
    inner_->set_first_byte_timeout(first_byte_timeout_ms_);
    co_return co_await inner_->start();
  }
  awaitable<Result<bool>> read(std::string& out) override {
    if (!inner_) co_return false;
    co_return co_await inner_->read(out);
  }
  std::string peer() const override { return inner_ ? inner_->peer() : std::string(); }
  std::string_view header(std::string_view name) const override {
    return inner_ ? inner_->header(name) : std::string_view();
  }

 private:
  asio::any_io_executor ex_;
  HttpRequest req_;
  std::shared_ptr<const BedrockAuth> auth_;
  std::unique_ptr<Call> inner_;
};

class Bedrock final : public HttpProvider {
 public:
  explicit Bedrock(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {
    auto a = std::make_shared<BedrockAuth>();
    a->creds = cfg.aws_chain
                   ? aws::CredentialSource::chain(cfg.aws_profile)
                   : aws::CredentialSource::fixed(
                         {cfg.aws_access_key_id, cfg.aws_secret_access_key, cfg.aws_session_token});
    a->region = cfg.region;
    a->provider = cfg.name;
    auth_ = std::move(a);
  }
  Format format() const override { return Format::kBedrock; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    HttpRequest r = request(
        "/model/" + percent_encode(ir.model) + (ir.stream ? "/converse-stream" : "/converse"),
        std::move(body), ir.stream ? "application/vnd.amazon.eventstream" : "application/json");
    return make_signed_call(std::move(ex), std::move(r), auth_);
  }
  std::unique_ptr<Call> embeddings(asio::any_io_executor ex, std::string,
                                   const EmbeddingsInput& in) const override {
    // A chat model has no embeddings API: skipped like a provider without one.
    if (embed_family(in.model) == EmbedFamily::kUnknown) return nullptr;
    return make_bedrock_embeddings(std::move(ex), request("", "", "application/json"), auth_, in,
                                   in.input_type);
  }

 private:
  std::shared_ptr<const BedrockAuth> auth_;
};

}  // namespace

void sign_bedrock_request(HttpRequest& r, const sigv4::Credentials& c, std::string_view region,
                          const std::string& amz_date) {
  sigv4::Request s;
  s.method = "POST";
  s.path = join_api_path(r.url.prefix, r.path);
  s.headers = {{"host", host_header(r.url)}, {"x-amz-date", amz_date}};
  r.headers.emplace_back("X-Amz-Date", amz_date);
  if (!c.session_token.empty()) {
    s.headers.emplace_back("x-amz-security-token", c.session_token);
    r.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  }
  s.body = r.body;
  r.headers.emplace_back("Authorization",
                         sigv4::sign(s, c, region, kService, amz_date).authorization);
}

std::unique_ptr<Call> make_signed_call(asio::any_io_executor ex, HttpRequest req,
                                       std::shared_ptr<const BedrockAuth> auth) {
  return std::make_unique<SignedCall>(std::move(ex), std::move(req), std::move(auth));
}

std::unique_ptr<Provider> make_bedrock(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Bedrock>(cfg);
}

}  // namespace gatehouse::ai::providers
