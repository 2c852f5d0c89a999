// The gateway's side of the llm-semantic-cache policy: the last user turn is
// embedded through the policy's embeddings model (the same provider code as
// /v1/embeddings, so the mock, OpenAI and OpenAI-compatible providers all
// work), looked up in the request's exact context, and a hit is answered
// like an exact one. The cache lives in src/ai/cache/semantic_cache.
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ai/cache/semantic_cache.hpp"
#include "ai/gateway/internal.hpp"
#include "common/clock.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::gateway::detail {

namespace json = boost::json;

namespace {

constexpr size_t kMaxDimensions = 16'384;

Error embed_error(std::string code, std::string msg) {
  return make_error(std::move(code), std::move(msg), "", 502, ErrorSide::kUpstream);
}

// data[0].embedding of an OpenAI embeddings answer (we ask for floats).
Result<std::vector<float>> read_embedding(std::string_view body) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  const json::value* data = !ec && v.is_object() ? v.get_object().if_contains("data") : nullptr;
  if (!data || !data->is_array() || data->get_array().empty() ||
      !data->get_array()[0].is_object())
    return embed_error("semantic_bad_embedding", "the embeddings answer has no data[0]");
  const json::value* e = data->get_array()[0].get_object().if_contains("embedding");
  if (!e || !e->is_array() || e->get_array().empty() ||
      e->get_array().size() > kMaxDimensions)
    return embed_error("semantic_bad_embedding",
                       "data[0].embedding is not an array of 1 to 16384 numbers");
  std::vector<float> out;
  out.reserve(e->get_array().size());
  for (const auto& x : e->get_array()) {
    if (!x.is_number())
      return embed_error("semantic_bad_embedding", "data[0].embedding holds a non-number");
    out.push_back(static_cast<float>(x.to_number<double>()));
  }
  return out;
}

// The embedding of `text` from the first target of `model` (then its other
// targets and fallbacks) that answers.
awaitable<Result<std::vector<float>>> embed(const Catalog& cat, const std::string& model,
                                            const std::string& text) {
  int mi = cat.find_model(model);
  if (mi < 0) co_return embed_error("semantic_no_model", "no model '" + model + "'");
  auto ex = co_await asio::this_coro::executor;
  Error last = embed_error("semantic_no_embeddings",
                           "model '" + model + "' has no target whose provider offers embeddings");
  providers::EmbeddingsInput in;
  in.texts.push_back(text);
  for (auto [mi2, t] : candidates(cat, cat.model(static_cast<size_t>(mi)))) {
    const ModelEntry& m = cat.model(mi2);
    const auto& target = m.cfg.targets[t];
    const providers::Provider& prov = cat.provider(m.target_provider[t]);
    in.model = target.model;
    json::object body{{"model", target.model}, {"input", text}, {"encoding_format", "float"}};
    auto pc = prov.embeddings(ex, json::serialize(body), in);
    if (!pc) continue;
    auto st = co_await pc->start();
    if (!st) {
      last = st.error();
      continue;
    }
    auto all = co_await read_all(*pc);
    if (!all) {
      last = all.error();
      continue;
    }
    if (*st < 200 || *st >= 300) {
      last = embed_error("semantic_embeddings_status",
                         "the embeddings model answered " + std::to_string(*st));
      continue;
    }
    auto v = read_embedding(all.value());
    if (v) co_return v;
    last = v.error();
  }
  co_return last;
}

}  // namespace

awaitable<std::optional<bool>> serve_from_semantic(const Catalog& cat, const Call& call,
                                                   Format client, const Request& req,
                                                   const ModelEntry& m, SemanticPending& pending,
                                                   Downstream& down, Outcome& out) {
  if (!call.semantic) co_return std::nullopt;
  auto& stats = cache::semantic_stats();
  auto bypass = [&] {
    stats.bypasses.fetch_add(1, std::memory_order_relaxed);
    out.semantic = "bypass";
    if (out.cache.empty()) out.cache = "bypass";
  };
  if (!call.cache_store) {  // no-store: not even embedded
    bypass();
    co_return std::nullopt;
  }
  auto key = cache::semantic_key(call.semantic_scope, m.cfg.name, req);
  if (!key) {
    stats.skips.fetch_add(1, std::memory_order_relaxed);
    out.semantic = "skip";
    co_return std::nullopt;
  }
  auto vec = co_await embed(cat, call.semantic_model, key->text);
  if (!vec) {
    // Fail open: a cache must never take the route down. Nothing is stored.
    stats.errors.fetch_add(1, std::memory_order_relaxed);
    out.semantic = "error";
    if (out.cache.empty()) out.cache = "miss";
    co_return std::nullopt;
  }
  pending.context = std::move(key->context);
  pending.vec = std::move(vec.value());
  if (!call.cache_lookup) {  // no-cache: the fresh answer is still stored
    bypass();
    co_return std::nullopt;
  }
  auto found = call.semantic->get(pending.context, pending.vec, steady_ms());
  out.similarity = found.similarity;
  if (!found.answer) {
    stats.misses.fetch_add(1, std::memory_order_relaxed);
    out.semantic = "miss";
    if (out.cache.empty() || out.cache == "bypass") out.cache = "miss";
    co_return std::nullopt;
  }
  stats.hits.fetch_add(1, std::memory_order_relaxed);
  out.semantic = "hit";
  out.cache = "semantic-hit";
  co_return co_await answer_cached(client, req, m, *found.answer, down, out);
}

void store_semantic(const Call& call, SemanticPending& pending, const Response& r) {
  if (pending.context.empty() || !call.semantic || r.error || r.stop == StopReason::kError) return;
  call.semantic->put(pending.context, std::move(pending.vec), r, steady_ms());
  pending.context.clear();
}

}  // namespace gatehouse::ai::gateway::detail
