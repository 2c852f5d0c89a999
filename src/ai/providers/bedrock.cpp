// AWS Bedrock Runtime: Converse (`POST /model/{modelId}/converse`) and
// ConverseStream (`/converse-stream`, AWS event-stream framing), signed with
// SigV4 (service "bedrock") from the provider's access key, secret and
// optional session token. The model id goes into the path percent-encoded
// (':' in "anthropic.claude-...-v1:0" becomes %3A), and SigV4 signs that path
// encoded once more, as AWS's non-S3 services expect.
#include "ai/providers/http_call.hpp"
#include "ai/providers/provider.hpp"
#include "ai/providers/sigv4.hpp"

namespace gatehouse::ai::providers {
namespace {

constexpr std::string_view kService = "bedrock";

class Bedrock final : public HttpProvider {
 public:
  explicit Bedrock(const config::LlmProviderConfig& cfg) : HttpProvider(cfg) {}
  Format format() const override { return Format::kBedrock; }
  std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                             std::string body) const override {
    HttpRequest r = request(
        "/model/" + percent_encode(ir.model) + (ir.stream ? "/converse-stream" : "/converse"),
        std::move(body), ir.stream ? "application/vnd.amazon.eventstream" : "application/json");
    sign(r, sigv4::amz_date(std::chrono::system_clock::now()));
    return make_http_call(ex, std::move(r));
  }

 private:
  // Signs host, x-amz-date and the session token: what AWS requires. The
  // operator's extra headers go unsigned, so they cannot break the signature.
  void sign(HttpRequest& r, const std::string& date) const {
    sigv4::Request s;
    s.method = "POST";
    s.path = join_api_path(url_.prefix, r.path);
    s.headers = {{"host", host_header(url_)}, {"x-amz-date", date}};
    r.headers.emplace_back("X-Amz-Date", date);
    if (!cfg_.aws_session_token.empty()) {
      s.headers.emplace_back("x-amz-security-token", cfg_.aws_session_token);
      r.headers.emplace_back("X-Amz-Security-Token", cfg_.aws_session_token);
    }
    s.body = r.body;
    sigv4::Credentials c{cfg_.aws_access_key_id, cfg_.aws_secret_access_key,
                         cfg_.aws_session_token};
    r.headers.emplace_back("Authorization", sigv4::sign(s, c, cfg_.region, kService, date).authorization);
  }
};

}  // namespace

std::unique_ptr<Provider> make_bedrock(const config::LlmProviderConfig& cfg) {
  return std::make_unique<Bedrock>(cfg);
}

}  // namespace gatehouse::ai::providers
