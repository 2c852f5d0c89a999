// One usage record per LLM request: what the analytics API
// (GET /api/v1/llm/usage) and the llm_usage table hold.
#pragma once

#include <cstdint>
#include <string>

namespace gatehouse::ai::usage {

struct Record {
  int64_t at_ms = 0;  // request start, unix milliseconds
  std::string request_id;
  std::string route;
  std::string consumer;         // empty: anonymous
  std::string credential;       // the credential (application key) id used, if any
  std::string endpoint;         // chat | messages | responses | embeddings
  std::string requested_model;  // as the client sent it
  std::string model;            // the model entry that answered (after fallbacks)
  std::string provider;
  std::string provider_model;
  int64_t input_tokens = 0;  // uncached input
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;  // including reasoning
  int64_t reasoning_tokens = 0;
  bool usage_known = false;
  double cost = -1;  // in llm.currency; < 0: unknown
  int status = 0;
  std::string error;  // our error code, empty on success
  bool partial = false;
  bool stream = false;
  int64_t ttft_us = -1;  // < 0: no first token
  int64_t duration_us = 0;
  int attempts = 0;
};

// Cost in the table: integer nano-units, so sums are exact on both engines.
inline int64_t cost_to_nanos(double cost) {
  return static_cast<int64_t>(cost * 1e9 + 0.5);
}

}  // namespace gatehouse::ai::usage
