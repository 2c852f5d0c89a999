// One interface for every LLM provider: given a translated request, start a
// call and read the provider's answer (status, then body bytes) incrementally.
// One provider per file: openai.cpp (also openai-compatible), anthropic.cpp,
// mock.cpp. HTTP providers share http_call.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ai/translate/ir.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::providers {

class Call {
 public:
  virtual ~Call() = default;
  // Sends the request and reads the response head. An error means no answer
  // at all (connect failure, timeout, reset before the head): safe to fall back.
  virtual awaitable<Result<int>> start() = 0;
  // Appends the next piece of the body to `out`; false once the body ended.
  // An error after start() means the body was cut.
  virtual awaitable<Result<bool>> read(std::string& out) = 0;
  // "ip:port" the call went to (access log); empty for the mock.
  virtual std::string peer() const { return {}; }
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The wire format the provider speaks.
  virtual Format format() const = 0;
  const config::LlmProviderConfig& config() const { return cfg_; }
  // `body` is `ir` already written in format(); providers that are not HTTP
  // (the mock) read the IR instead.
  virtual std::unique_ptr<Call> call(asio::any_io_executor ex, const Request& ir,
                                     std::string body) const = 0;

 protected:
  explicit Provider(config::LlmProviderConfig cfg) : cfg_(std::move(cfg)) {}
  config::LlmProviderConfig cfg_;
};

std::unique_ptr<Provider> make_openai(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_anthropic(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_mock(const config::LlmProviderConfig& cfg);
std::unique_ptr<Provider> make_provider(const config::LlmProviderConfig& cfg);

// The text the mock answers with and its token counts (exposed for tests).
struct MockAnswer {
  std::string text;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::vector<std::string> pieces;  // streaming deltas, concatenating to text
};
MockAnswer mock_answer(const config::LlmMockConfig& cfg, const Request& ir);

}  // namespace gatehouse::ai::providers
