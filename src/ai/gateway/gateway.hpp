// Serves one request on an `llm` route, after the policy chain: dispatch by
// endpoint, parse, resolve the model, call the provider (falling back before
// the first byte), translate the answer back, streaming frame by frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ai/gateway/catalog.hpp"
#include "ai/translate/ir.hpp"
#include "ai/usage/cost.hpp"
#include "ai/usage/record.hpp"
#include "config/entities.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::guardrails {
class Guard;
}
namespace gatehouse::ai::cache {
class ExactCache;
class SemanticCache;
}

namespace gatehouse::ai::gateway {

enum class Endpoint { kChat, kMessages, kResponses, kEmbeddings, kModels, kUnknown };

// By the path's ending ("/v1/chat/completions", "/openai/v1/chat/completions").
Endpoint classify(std::string_view path);
// Whether the endpoint takes a request body (the session reads it first).
inline bool wants_body(Endpoint e) {
  return e == Endpoint::kChat || e == Endpoint::kMessages || e == Endpoint::kResponses ||
         e == Endpoint::kEmbeddings;
}

// The client side, implemented by the proxy session.
class Downstream {
 public:
  virtual ~Downstream() = default;
  // A whole response with Content-Length.
  virtual awaitable<bool> respond(int status, std::string_view content_type,
                                  std::string_view body) = 0;
  // 200, text/event-stream, chunked; then chunks written and flushed at once.
  virtual awaitable<bool> start_stream() = 0;
  virtual awaitable<bool> write_chunk(std::string_view data) = 0;
  virtual awaitable<bool> end_stream() = 0;
  // respond() adds `Retry-After: <seconds>` when set (>= 0): a provider's own
  // on a forwarded 429/503, or ours when every target is cooling down.
  int64_t retry_after_s = -1;
  // respond() adds `X-Gatehouse-LLM-Cost: <money>` when set (>= 0): a
  // non-streamed answer whose target has a price (streams end after the head).
  double cost = -1;
};

// What happened, for the access log and metrics.
struct Outcome {
  int status = 0;
  std::string model;         // as the client asked
  std::string served_model;  // the model entry that answered (after fallbacks)
  std::string provider;
  std::string provider_model;
  std::string peer;  // provider ip:port
  Usage usage;
  bool stream = false;
  int attempts = 0;
  int retries = 0;            // attempts that repeated a target after a backoff
  int cooldowns = 0;          // targets this request put into cooldown (429/503 + Retry-After)
  int cooling_skips = 0;      // candidates skipped because they were cooling down
  int64_t ttft_us = -1;       // request start -> first provider body byte
  int64_t duration_us = -1;   // request start -> done (set by the caller before metrics)
  std::string error;          // our error code, when the gateway answered an error
  std::string guardrails;     // Findings::summary(): rules that blocked/masked, never the text
  std::string cache;          // llm-cache: hit, miss or bypass; semantic-hit (x-gatehouse-cache)
  std::string semantic;       // llm-semantic-cache: hit, miss, bypass, skip or error
  double similarity = -1;     // llm-semantic-cache: of the closest entry in the context; -1: none
  AiFamily* stats = nullptr;  // metrics of the last target tried
  std::optional<usage::Price> price;  // of the last target tried, when llm.prices has it
  double cost = -1;                   // from usage at `price`; -1: unknown (no price, no usage)
  std::string consumer;               // the identified consumer (metrics), empty: anonymous
};

// Sets out.cost from its usage and price (when both are known).
void price_outcome(Outcome& o);

// Counts a finished request in the AI metrics (the worker's shard).
void record_metrics(const Outcome& o, size_t worker);

// The usage record (analytics) of a finished request that started at
// `start_us` (steady clock).
usage::Record usage_record(const Outcome& o, Endpoint e, int64_t start_us,
                           const std::string& request_id, const std::string& route,
                           const std::string& credential);

// Token limits: consulted once the request is parsed and before the first
// provider call, with the estimated prompt tokens and the requested output
// (max_tokens, -1 when absent). The proxy's AI route implements it on top of
// the llm-token-limit policies that ran, and settles with real usage after.
class Admission {
 public:
  virtual ~Admission() = default;
  // False refuses the request with 429 and `why` in the client's format.
  // Awaitable: a cluster-wide limit reserves in Redis (one round trip).
  virtual awaitable<bool> admit(int64_t prompt_tokens, int64_t max_output, std::string& why) = 0;
  // Money (llm-budget): before each provider attempt, the target about to be
  // called and its price (none: the attempt costs nothing known). False
  // refuses this target with `why`; the gateway then tries the next candidate
  // or answers 429 with Retry-After `retry_after_s`.
  virtual awaitable<bool> reserve_cost(const std::string& /*model*/,
                                       const std::string& /*provider*/,
                                       const std::optional<usage::Price>& /*price*/,
                                       int64_t /*prompt_tokens*/, int64_t /*max_output*/,
                                       std::string& /*why*/, int64_t& /*retry_after_s*/) {
    co_return true;
  }
  // The attempt reserve_cost() admitted got no answer (connect error,
  // non-2xx): its reservation is freed. The answered one is settled by the
  // caller once the cost is known.
  virtual awaitable<void> release_cost() { co_return; }
  // What refused when reserve_cost() admitted no target (the access log's
  // `error`): a budget, or a per-model/provider token limit.
  virtual const char* cost_refusal_code() const { return "llm_budget"; }
  // The answered call's real usage and cost (cost < 0: unknown), settled
  // before the answer's last bytes go out, so a client that sends its next
  // request as soon as it has this answer never meets this one's estimate
  // still held. Settling twice is a no-op.
  virtual awaitable<void> settle(const Usage& /*u*/, bool /*provider_answered*/,
                                 double /*cost*/) {
    co_return;
  }
};

// Estimated prompt tokens of a parsed request (src/ai/tokenizer's
// prompt_estimate in the client's format; bytes / 4 when the rank files are
// missing). Exposed for tests.
int64_t estimate_prompt_tokens(Format client, const Request& req, std::string_view body);

struct Call {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string_view method;
  bool anthropic_client = false;  // anthropic-version header: /v1/models in Anthropic's shape
  std::string body;
  const config::RouteLlmConfig* route = nullptr;
  int64_t start_us = 0;
  Admission* admission = nullptr;
  // The identified consumer's llm.models; null: no restriction.
  const std::vector<std::string>* consumer_models = nullptr;
  // llm-guardrails policies that ran, in chain order (src/ai/guardrails).
  std::vector<const guardrails::Guard*> guards;
  // llm-cache: the cache, the caller's scope, and the client's Cache-Control
  // (no-cache: no lookup, the answer is stored; no-store: neither).
  cache::ExactCache* cache = nullptr;
  std::string cache_scope;
  bool cache_lookup = true;
  bool cache_store = true;
  // llm-semantic-cache: the cache, the caller's scope and the model entry
  // that embeds the last user turn (Cache-Control as above).
  cache::SemanticCache* semantic = nullptr;
  std::string semantic_scope;
  std::string semantic_model;
};

awaitable<bool> serve(const Catalog& cat, Call call, Downstream& down, Outcome& out);

// The client's error format for an endpoint (OpenAI's for everything but Messages).
Format error_format(Endpoint e);

}  // namespace gatehouse::ai::gateway
