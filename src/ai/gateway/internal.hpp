// Pieces of the gateway shared by its endpoint files (gateway.cpp for Chat,
// Messages and Responses; embeddings.cpp). Not part of the module's interface.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ai/gateway/catalog.hpp"
#include "ai/gateway/gateway.hpp"
#include "ai/providers/provider.hpp"
#include "ai/guardrails/guardrails.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/stream.hpp"

namespace gatehouse::ai::gateway::detail {

// The client's wire format for an endpoint (Chat for everything OpenAI).
Format format_of(Endpoint e);
// Statuses after which the next target or fallback model is tried.
bool falls_back(int status);
ErrorInfo info(std::string type, std::string message, int status, std::string param = {});
// Answers an error of ours in the client's format, keeping our status.
awaitable<bool> send_error(Downstream& down, Format f, const ErrorInfo& e, Outcome& out,
                           std::string_view code);
bool route_allows(const config::RouteLlmConfig& route, const ModelEntry& m);
// The route offers the model (name or alias) and the consumer, if limited, may use it.
bool allows(const Call& call, const ModelEntry& m);
// (model index, target index) in the order they are tried: per model of the
// chain, its targets in its strategy's order (balance.hpp).
std::vector<std::pair<size_t, size_t>> candidates(const Catalog& cat, const ModelEntry& first,
                                                  const PickHints& hints = {});
// The delay before retry number `attempt` (0-based) of a target: exponential
// from retry.backoff, capped at max_backoff, with equal jitter.
int64_t backoff_ms(const config::LlmRetryConfig& rc, uint32_t attempt);
awaitable<void> sleep_for_ms(int64_t ms);
// Cooldowns (cooldown.hpp). Whether candidate (model m, target t) is cooling
// down: counts the skip and keeps the soonest end in `soonest_ms` (-1: none yet).
bool cooling(const Catalog& cat, const ModelEntry& m, size_t t, Outcome& out, int64_t& soonest_ms);
// After a non-2xx answer: a 429 or 503 carrying Retry-After / retry-after-ms
// cools the target down. The delay the provider asked for, or -1.
int64_t note_failure(const Catalog& cat, const ModelEntry& m, size_t t, int status,
                     const providers::Call& pc, Outcome& out);
// Every candidate was cooling down: 429 in the client's format with Retry-After.
awaitable<bool> send_all_cooling(Downstream& down, Format f, const std::string& model,
                                 int64_t soonest_ms, Outcome& out);
// A forwarded 429/503 keeps the provider's Retry-After (rounded up to seconds).
void forward_retry_after(Downstream& down, int status, int64_t retry_ms);

// Reads a whole provider body (non-streamed answers, error bodies), bounded.
awaitable<Result<std::string>> read_all(providers::Call& pc);

// Guardrails (guard_hooks.cpp). Prompt checks once the request is parsed:
// nullopt to go on, else the request was answered (blocked, or the moderation
// hook failed closed) and the value is serve()'s result.
awaitable<std::optional<bool>> guard_prompt(const Call& call, Format client, Request& req,
                                            guardrails::Findings& f, Downstream& down,
                                            Outcome& out);
// A whole completion: masks in place; false when blocked (`why` for the client).
awaitable<bool> guard_completion(const Call& call, Response& r, guardrails::Findings& f,
                                 std::string& why);
// The guards that check streamed completions.
std::vector<const guardrails::Guard*> completion_guards(const Call& call);

// The moderation hook on a streamed completion: the translator's frames are
// held until the text the StreamGuard released reaches the hook's
// stream_window (or the stream ends), then the hook sees that window (with
// the end of the one before as context). Passed: the held frames go to the
// client. Flagged (or failing closed): they are dropped and the stream ends
// with an in-band error instead. Without a hook, frames pass at once.
class StreamModeration {
 public:
  StreamModeration(const Call& call, guardrails::StreamGuard& guard, guardrails::Findings& f);
  bool active() const { return guard_ != nullptr; }
  // `frame`: what the translator just produced; on return, what to write now.
  awaitable<void> gate(StreamTranslator& tr, std::string& frame, bool last);

 private:
  const guardrails::Guard* guard_ = nullptr;
  guardrails::StreamGuard& stream_;
  guardrails::Findings& f_;
  std::string held_;
  std::string text_;
  std::string tail_;
  bool stopped_ = false;
};

// The response cache (cache_hooks.cpp). Looks the request up once guardrails
// passed: nullopt to go on (then `key` is set when the answer is to be
// stored), else the request was answered from the cache.
awaitable<std::optional<bool>> serve_from_cache(const Call& call, Format client,
                                                const Request& req, const ModelEntry& m,
                                                std::string& key, Downstream& down,
                                                Outcome& out);
// Stores a complete answer under `key` (no-op when empty).
void store_in_cache(const Call& call, const std::string& key, const Response& r);
// Answers from a cached Response: JSON, or replayed as SSE in the client's protocol.
awaitable<bool> answer_cached(Format client, const Request& req, const ModelEntry& m,
                              const Response& hit, Downstream& down, Outcome& out);

// The semantic cache (semantic_hooks.cpp), after the exact one: embeds the
// last user turn with the policy's embeddings model and looks it up in the
// request's context. nullopt to go on (then `pending` says where to store the
// answer, when it may be), else the request was answered.
struct SemanticPending {
  std::string context;
  std::vector<float> vec;
};
awaitable<std::optional<bool>> serve_from_semantic(const Catalog& cat, const Call& call,
                                                   Format client, const Request& req,
                                                   const ModelEntry& m, SemanticPending& pending,
                                                   Downstream& down, Outcome& out);
void store_semantic(const Call& call, SemanticPending& pending, const Response& r);

// A provider answered 2xx (answer.cpp): the client gets this answer, whole
// (`whole`, non-streamed) or translated frame by frame starting with
// `first_piece` (streamed; the client's head goes out with its first frame).
awaitable<bool> serve_answer(const Call& call, Format client, const Request& req, Format provider,
                             providers::Call& pc, std::string first_piece, std::string whole,
                             const std::string& cache_key, SemanticPending& semantic,
                             guardrails::Findings& findings, Downstream& down, Outcome& out);

// /v1/embeddings (embeddings.cpp).
awaitable<bool> serve_embeddings(const Catalog& cat, const Call& call, Downstream& down,
                                 Outcome& out);

}  // namespace gatehouse::ai::gateway::detail
