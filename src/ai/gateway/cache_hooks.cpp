// The gateway's side of the llm-cache policy: a hit is answered without any
// provider call, as JSON or replayed as SSE in the client's protocol; a
// complete, unblocked answer is stored. The cache lives in src/ai/cache.
#include "ai/cache/exact_cache.hpp"
#include "ai/cache/replay.hpp"
#include "ai/gateway/internal.hpp"
#include "ai/translate/translate.hpp"
#include "common/clock.hpp"

namespace gatehouse::ai::gateway::detail {

awaitable<std::optional<bool>> serve_from_cache(const Call& call, Format client, const Request& req,
                                                const ModelEntry& m, std::string& key,
                                                Downstream& down, Outcome& out) {
  if (!call.cache) co_return std::nullopt;
  auto& stats = cache::cache_stats();
  if (!call.cache_store) {
    stats.bypasses.fetch_add(1, std::memory_order_relaxed);
    out.cache = "bypass";
    co_return std::nullopt;
  }
  key = cache::request_key(call.cache_scope, m.cfg.name, req);
  if (!call.cache_lookup) {
    stats.bypasses.fetch_add(1, std::memory_order_relaxed);
    out.cache = "bypass";
    co_return std::nullopt;
  }
  auto hit = call.cache->get(key, steady_ms());
  if (!hit) {
    stats.misses.fetch_add(1, std::memory_order_relaxed);
    out.cache = "miss";
    co_return std::nullopt;
  }
  stats.hits.fetch_add(1, std::memory_order_relaxed);
  out.cache = "hit";
  co_return co_await answer_cached(client, req, m, *hit, down, out);
}

awaitable<bool> answer_cached(Format client, const Request& req, const ModelEntry& m,
                              const Response& hit, Downstream& down, Outcome& out) {
  out.served_model = m.cfg.name;
  out.provider = "cache";
  out.status = 200;
  // No provider tokens were spent: the ledger stays empty (token limits and
  // cost see nothing); the body keeps the usage of the answer it replays.
  out.usage = Usage{};
  out.usage.known = true;
  if (!req.stream)
    co_return co_await down.respond(200, "application/json", write_response(client, hit));
  EncoderOptions eo;
  eo.include_usage = client != Format::kChat || req.include_usage;
  std::string body = cache::replay_stream(client, hit, eo);
  if (!co_await down.start_stream()) co_return false;
  if (!co_await down.write_chunk(body)) co_return false;
  co_return co_await down.end_stream();
}

void store_in_cache(const Call& call, const std::string& key, const Response& r) {
  if (key.empty() || !call.cache || r.error || r.stop == StopReason::kError) return;
  call.cache->put(key, r, steady_ms());
}

}  // namespace gatehouse::ai::gateway::detail
