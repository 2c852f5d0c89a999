// The analytics record of a finished request (src/ai/usage), from its Outcome.
#include <chrono>

#include "ai/gateway/gateway.hpp"
#include "common/clock.hpp"

namespace gatehouse::ai::gateway {

namespace {
std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::kChat:
      return "chat";
    case Endpoint::kMessages:
      return "messages";
    case Endpoint::kResponses:
      return "responses";
    case Endpoint::kEmbeddings:
      return "embeddings";
    case Endpoint::kModels:
      return "models";
    case Endpoint::kUnknown:
      break;
  }
  return "unknown";
}
}  // namespace

usage::Record usage_record(const Outcome& o, Endpoint e, int64_t start_us,
                           const std::string& request_id, const std::string& route,
                           const std::string& credential) {
  usage::Record r;
  const int64_t now_us = steady_us();
  const int64_t unix_now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  r.at_ms = unix_now_ms - (now_us - start_us) / 1000;
  r.request_id = request_id;
  r.route = route;
  r.consumer = o.consumer;
  r.credential = credential;
  r.endpoint = std::string(endpoint_name(e));
  r.requested_model = o.model;
  // The entry that answered; one that never reached a provider (unknown
  // model, refused by a limit) is filed under the name the client asked for.
  r.model = o.served_model.empty() ? o.model : o.served_model;
  r.provider = o.provider;
  r.provider_model = o.provider_model;
  r.input_tokens = o.usage.input_uncached;
  r.cache_read_tokens = o.usage.cache_read;
  r.cache_write_tokens = o.usage.cache_write;
  r.output_tokens = o.usage.output;
  r.reasoning_tokens = o.usage.reasoning;
  r.usage_known = o.usage.known;
  r.cost = o.cost;
  r.status = o.status;
  r.error = o.error;
  r.partial = o.usage.partial;
  r.stream = o.stream;
  r.ttft_us = o.ttft_us;
  r.duration_us = o.duration_us >= 0 ? o.duration_us : now_us - start_us;
  r.attempts = o.attempts;
  return r;
}

}  // namespace gatehouse::ai::gateway
