#include "ai/gateway/gateway.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <random>
#include <utility>
#include <vector>

#include "ai/gateway/internal.hpp"
#include "ai/tokenizer/prompt_estimate.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/raw_request.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"
#include "common/clock.hpp"

namespace gatehouse::ai::gateway {

namespace json = boost::json;

namespace {

constexpr size_t kMaxProviderBody = 64 * 1024 * 1024;  // non-streamed answers and error bodies

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

namespace detail {

Format format_of(Endpoint e) {
  switch (e) {
    case Endpoint::kMessages:
      return Format::kMessages;
    case Endpoint::kResponses:
      return Format::kResponses;
    default:
      return Format::kChat;
  }
}

// Statuses after which the next model in the fallback chain is tried.
bool falls_back(int status) {
  return status == 408 || status == 429 || status >= 500;
}

ErrorInfo info(std::string type, std::string message, int status, std::string param) {
  ErrorInfo e;
  e.type = std::move(type);
  e.message = std::move(message);
  e.status = status;
  e.param = std::move(param);
  return e;
}

awaitable<bool> send_error(Downstream& down, Format f, const ErrorInfo& e, Outcome& out,
                           std::string_view code) {
  auto b = write_error(f, e);
  // Our own errors keep the status we chose (405, 413, 502), which the
  // format's type -> status mapping cannot express.
  if (e.status >= 400) b.status = e.status;
  out.status = b.status;
  if (out.error.empty()) out.error = std::string(code);
  co_return co_await down.respond(b.status, "application/json", b.body);
}

namespace {
// A list of model names may name a model or one of its aliases.
bool lists(const std::vector<std::string>& names, const ModelEntry& m) {
  for (const auto& n : names) {
    if (n == m.cfg.name) return true;
    if (std::find(m.cfg.aliases.begin(), m.cfg.aliases.end(), n) != m.cfg.aliases.end())
      return true;
  }
  return false;
}
}  // namespace

bool route_allows(const config::RouteLlmConfig& route, const ModelEntry& m) {
  return lists(route.models, m);
}

bool allows(const Call& call, const ModelEntry& m) {
  return route_allows(*call.route, m) && (!call.consumer_models || lists(*call.consumer_models, m));
}

std::vector<std::pair<size_t, size_t>> candidates(const Catalog& cat, const ModelEntry& first,
                                                  const PickHints& hints) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t mi2 : first.chain) {
    const ModelEntry& m = cat.model(mi2);
    if (m.total_weight == 0) continue;
    for (size_t t : order_targets(m.cfg.strategy, m.cfg.targets, m.target_state.get(),
                                  m.target_price, cat.pick_target(m), hints))
      out.emplace_back(mi2, t);
  }
  return out;
}

int64_t backoff_ms(const config::LlmRetryConfig& rc, uint32_t attempt) {
  int64_t d = rc.backoff_ms;
  for (uint32_t i = 0; i < attempt && d < rc.max_backoff_ms; ++i) d *= 2;
  d = std::min(d, rc.max_backoff_ms);
  // Equal jitter: half fixed, half random, so retries of many requests that
  // failed together spread out.
  thread_local std::minstd_rand rng(std::random_device{}());
  int64_t half = d / 2;
  return half + (half > 0 ? std::uniform_int_distribution<int64_t>(0, half)(rng) : 0);
}

awaitable<void> sleep_for_ms(int64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  co_await timer.async_wait(use_nothrow);
}

bool cooling(const Catalog& cat, const ModelEntry& m, size_t t, Outcome& out,
             int64_t& soonest_ms) {
  Cooldown& c = cat.cooldown(m.target_provider[t]);
  int64_t left = c.remaining_ms(steady_ms());
  if (left <= 0) return false;
  c.count_skip();
  ++out.cooling_skips;
  if (soonest_ms < 0 || left < soonest_ms) soonest_ms = left;
  return true;
}

int64_t note_failure(const Catalog& cat, const ModelEntry& m, size_t t, int status,
                     const providers::Call& pc, Outcome& out) {
  if (status != 429 && status != 503) return -1;
  const int64_t now_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  int64_t ms = retry_after_ms(pc.header("retry-after"), pc.header("retry-after-ms"), now_unix_ms);
  if (ms > 0) {
    cat.cooldown(m.target_provider[t]).start(steady_ms(), ms);
    ++out.cooldowns;
  }
  return ms;
}

void forward_retry_after(Downstream& down, int status, int64_t retry_ms) {
  if ((status == 429 || status == 503) && retry_ms >= 0)
    down.retry_after_s = (std::min(retry_ms, kMaxCooldownMs) + 999) / 1000;
}

awaitable<bool> send_all_cooling(Downstream& down, Format f, const std::string& model,
                                 int64_t soonest_ms, Outcome& out) {
  int64_t secs = (soonest_ms + 999) / 1000;
  down.retry_after_s = secs;
  co_return co_await send_error(down, f,
                                info("rate_limit",
                                     "every provider of model '" + model +
                                         "' is cooling down after a rate limit; retry in " +
                                         std::to_string(secs) + " s",
                                     429),
                                out, "ai_cooling_down");
}

}  // namespace detail

namespace {

using namespace detail;

awaitable<bool> list_models(const Catalog& cat, const Call& call, Downstream& down, Outcome& out) {
  json::array data;
  for (const auto& name : call.route->models) {
    int i = cat.find_model(name);
    if (i < 0 || !allows(call, cat.model(static_cast<size_t>(i)))) continue;
    if (call.anthropic_client) {
      data.push_back(json::object{{"type", "model"},
                                  {"id", name},
                                  {"display_name", name},
                                  {"created_at", "1970-01-01T00:00:00Z"}});
    } else {
      data.push_back(json::object{
          {"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "gatehouse"}});
    }
  }
  json::object body;
  if (call.anthropic_client) {
    auto id_at = [&](const json::value& v) { return v.as_object().at("id"); };
    body["first_id"] = data.empty() ? json::value(nullptr) : id_at(data.front());
    body["last_id"] = data.empty() ? json::value(nullptr) : id_at(data.back());
    body["has_more"] = false;
    body["data"] = std::move(data);
  } else {
    body["object"] = "list";
    body["data"] = std::move(data);
  }
  out.status = 200;
  co_return co_await down.respond(200, "application/json", json::serialize(body));
}

}  // namespace

namespace detail {

// Reads a whole provider body (non-streamed answers, error bodies).
awaitable<Result<std::string>> read_all(providers::Call& pc) {
  std::string body;
  for (;;) {
    auto more = co_await pc.read(body);
    if (!more) co_return more.error();
    if (!*more) co_return body;
    if (body.size() > kMaxProviderBody)
      co_return make_error("provider_body_too_large", "provider answer too large", "", 502,
                           ErrorSide::kUpstream);
  }
}

}  // namespace detail

Endpoint classify(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (ends_with(path, "/chat/completions")) return Endpoint::kChat;
  if (ends_with(path, "/messages")) return Endpoint::kMessages;
  if (ends_with(path, "/responses")) return Endpoint::kResponses;
  if (ends_with(path, "/embeddings")) return Endpoint::kEmbeddings;
  if (ends_with(path, "/models")) return Endpoint::kModels;
  return Endpoint::kUnknown;
}

Format error_format(Endpoint e) {
  return format_of(e);
}

void price_outcome(Outcome& o) {
  o.cost = o.price && o.usage.known ? usage::cost(*o.price, o.usage) : -1;
}

void record_metrics(const Outcome& o, size_t worker) {
  if (!o.stats) return;
  if (o.cost > 0) add_cost(worker, o.consumer, o.served_model, o.cost);
  AiShard& s = o.stats->shard(worker);
  int cls = o.status >= 100 && o.status < 600 ? o.status / 100 : 0;
  s.by_class[static_cast<size_t>(cls)].inc();
  auto add = [&](TokenType t, int64_t v) {
    if (v > 0) s.tokens[t].inc(static_cast<uint64_t>(v));
  };
  add(kTokInput, o.usage.input_uncached);
  add(kTokCacheRead, o.usage.cache_read);
  add(kTokCacheWrite, o.usage.cache_write);
  add(kTokOutput, o.usage.output);
  add(kTokReasoning, o.usage.reasoning);
  if (o.usage.partial) s.partial.inc();
  if (o.ttft_us >= 0) s.ttft.observe_us(static_cast<uint64_t>(o.ttft_us));
  // Generation speed: streams from the first byte to the end; a whole
  // answer arrives at once, so over the whole call.
  if (o.usage.known && o.usage.output > 0 && o.ttft_us >= 0 && o.duration_us > 0) {
    int64_t gen_us = o.stream ? o.duration_us - o.ttft_us : o.duration_us;
    if (gen_us > 0)
      s.observe_tps(static_cast<double>(o.usage.output) * 1e6 / static_cast<double>(gen_us));
  }
}

int64_t estimate_prompt_tokens(Format client, const Request& req, std::string_view body) {
  // Loaded once per process, on the first request that needs it (the rank
  // files take a moment); missing files mean the byte-based fallback.
  static const std::optional<Tokenizers> tk = []() -> std::optional<Tokenizers> {
    auto t = Tokenizers::load();
    if (!t) return std::nullopt;
    return std::move(t.value());
  }();
  const int64_t fallback = static_cast<int64_t>(body.size() / 4) + 1;
  if (!tk) return fallback;
  Result<PromptEstimate> e = client == Format::kMessages ? estimate_anthropic_messages(*tk, body)
                             : client == Format::kChat
                                 ? estimate_openai_chat(*tk, body)
                                 : estimate_openai_chat(*tk, write_request(Format::kChat, req));
  return e ? static_cast<int64_t>(e.value().tokens) : fallback;
}

awaitable<bool> serve(const Catalog& cat, Call call, Downstream& down, Outcome& out) {
  const Format client = format_of(call.endpoint);
  if (call.endpoint == Endpoint::kUnknown)
    co_return co_await send_error(down, client,
                                  info("not_found",
                                       "no AI endpoint here; use /v1/chat/completions, "
                                       "/v1/messages, /v1/responses, /v1/embeddings or "
                                       "/v1/models",
                                       404),
                                  out, "ai_unknown_endpoint");
  const bool is_get = call.endpoint == Endpoint::kModels;
  if ((is_get && call.method != "GET") || (!is_get && call.method != "POST"))
    co_return co_await send_error(down, client,
                                  info("invalid_request",
                                       std::string("method ") + std::string(call.method) +
                                           " is not allowed here; use " + (is_get ? "GET" : "POST"),
                                       405),
                                  out, "ai_method_not_allowed");
  if (is_get) co_return co_await list_models(cat, call, down, out);
  if (call.endpoint == Endpoint::kEmbeddings)
    co_return co_await serve_embeddings(cat, call, down, out);

  auto parsed = parse_request(client, call.body);
  if (!parsed) {
    co_return co_await send_error(down, client, from_error(parsed.error()), out, "ai_bad_request");
  }
  Request req = std::move(parsed.value());
  out.model = req.model;
  out.stream = req.stream;
  int mi = cat.find_model(req.model);
  if (mi < 0 || !allows(call, cat.model(static_cast<size_t>(mi)))) {
    co_return co_await send_error(
        down, client,
        info("not_found", "model '" + req.model + "' is not available here", 404, "model"), out,
        "ai_unknown_model");
  }

  guardrails::Findings findings;
  if (auto answered = co_await guard_prompt(call, client, req, findings, down, out))
    co_return *answered;
  std::string cache_key;  // set: store the answer under it
  const ModelEntry& resolved = cat.model(static_cast<size_t>(mi));
  if (auto answered = co_await serve_from_cache(call, client, req, resolved, cache_key, down, out))
    co_return *answered;
  SemanticPending semantic;  // set: store the answer in the semantic cache
  if (auto answered =
          co_await serve_from_semantic(cat, call, client, req, resolved, semantic, down, out))
    co_return *answered;

  const ModelEntry& first = cat.model(static_cast<size_t>(mi));
  // The prompt estimate feeds token limits, budgets and the cost strategy.
  bool wants_estimate = call.admission != nullptr;
  for (size_t c : first.chain)
    wants_estimate = wants_estimate || cat.model(c).cfg.strategy == config::LlmStrategy::kCost;
  const int64_t prompt_estimate =
      wants_estimate ? estimate_prompt_tokens(client, req, call.body) : 0;
  if (call.admission) {
    std::string why;
    if (!co_await call.admission->admit(prompt_estimate, req.max_tokens.value_or(-1), why))
      co_return co_await send_error(down, client, info("rate_limit", why, 429), out,
                                    "llm_token_limit");
  }
  std::string budget_why;  // the last target a budget refused
  int64_t budget_retry_s = -1;

  auto ex = co_await asio::this_coro::executor;
  // The last failure, answered when every model in the chain failed.
  ErrorInfo last = info("api_error", "no provider answered", 502);
  std::string last_code = "ai_no_provider";
  std::string last_body;
  int last_status = 0;
  int64_t last_retry_ms = -1;
  int64_t soonest_ms = -1;  // cooling candidates: the earliest end
  PickHints hints;
  hints.prompt_tokens = prompt_estimate;
  hints.max_output = req.max_tokens.value_or(4096);
  const auto candidates = detail::candidates(cat, first, hints);
  bool final_error = false;  // a status that does not fall back: answer it now
  for (size_t step = 0; step < candidates.size() && !final_error; ++step) {
    const ModelEntry& m = cat.model(candidates[step].first);
    const size_t t = candidates[step].second;
    if (cooling(cat, m, t, out, soonest_ms)) continue;
    const auto& target = m.cfg.targets[t];
    const providers::Provider& prov = cat.provider(m.target_provider[t]);
    TargetState& ts = m.target_state[t];
    const config::LlmRetryConfig& rc = m.retry;
    for (uint32_t attempt = 0;; ++attempt) {
      if (call.admission && !co_await call.admission->reserve_cost(
                                m.cfg.name, prov.config().name, m.target_price[t], prompt_estimate,
                                req.max_tokens.value_or(-1), budget_why, budget_retry_s))
        break;  // over budget: the next candidate may be another model or provider
      Request up = req;
      up.model = target.model;
      // Same format and a prompt no guardrail rewrote: the client's own bytes,
      // so fields the IR does not model still reach the provider.
      std::string body;
      const bool usage_chunk = client == Format::kChat && req.stream;
      if (prov.format() == client && findings.masked.empty())
        if (auto raw = rewrite_same_format(call.body, target.model, usage_chunk))
          body = std::move(*raw);
      if (body.empty()) body = write_request(prov.format(), up);
      out.served_model = m.cfg.name;
      out.provider = prov.config().name;
      out.provider_model = target.model;
      out.stats = m.target_stats[t];
      out.price = m.target_price[t];
      ++out.attempts;
      InflightGuard inflight(&ts);
      const int64_t attempt_start = steady_us();
      auto pc = prov.call(ex, up, std::move(body));
      pc->set_first_byte_timeout(rc.first_token_timeout_ms);
      auto st = co_await pc->start();
      out.peer = pc->peer();
      int64_t retry_ms = -1;
      // Nothing reached the client yet in any branch that falls through to
      // the retry below.
      std::string first_piece;  // streams: the provider's first body bytes
      std::string whole;        // whole answers
      bool answered = false;
      if (!st) {
        last = info("api_error", st.error().message, st.error().status == 504 ? 504 : 502);
        last_code = st.error().code;
        last_status = 0;
      } else if (*st < 200 || *st >= 300) {
        auto eb = co_await read_all(*pc);
        last_status = *st;
        last_body = eb ? eb.value() : std::string();
        last_code = "ai_provider_error";
        retry_ms = last_retry_ms = note_failure(cat, m, t, *st, *pc, out);
        if (!falls_back(*st)) final_error = true;
      } else {
        // 2xx: the first bytes (streams) or the whole answer are read before
        // the client hears anything, so a provider that stalls or cuts here
        // is still retried. A stream's head reaches the client with its first
        // frame.
        Result<bool> got = req.stream ? co_await pc->read(first_piece) : Result<bool>(true);
        if (!req.stream) {
          auto all = co_await read_all(*pc);
          if (all)
            whole = std::move(all.value());
          else
            got = all.error();
        }
        if (got && (!req.stream || *got)) {
          answered = true;
        } else {
          Error e = got ? make_error("provider_body_cut",
                                     "provider ended the stream before "
                                     "any event",
                                     "", 502)
                        : got.error();
          last = info("api_error", e.message, e.status == 504 ? 504 : 502);
          last_code = e.code;
          last_status = 0;
        }
      }
      if (answered) {
        ts.observe(steady_us() - attempt_start);
        out.ttft_us = steady_us() - call.start_us;
        co_return co_await serve_answer(call, client, req, prov.format(), *pc,
                                        std::move(first_piece), std::move(whole), cache_key,
                                        semantic, findings, down, out);
      }
      if (call.admission) co_await call.admission->release_cost();
      // A failure counts as slow, so the latency strategy moves away from it.
      int64_t took = steady_us() - attempt_start;
      ts.observe(std::max(took, 2 * ts.ewma_us.load(std::memory_order_relaxed)));
      if (final_error || attempt >= rc.attempts) break;
      if (retry_ms > rc.max_retry_after_ms) break;  // too long to wait: the next target
      int64_t delay = retry_ms >= 0 ? retry_ms : backoff_ms(rc, attempt);
      inflight.release();
      co_await sleep_for_ms(delay);
      ++out.retries;
    }
  }
  if (out.attempts == 0 && !budget_why.empty()) {
    down.retry_after_s = budget_retry_s;
    co_return co_await send_error(down, client, info("rate_limit", budget_why, 429), out,
                                  call.admission->cost_refusal_code());
  }
  if (out.attempts == 0 && soonest_ms >= 0)
    co_return co_await send_all_cooling(down, client, req.model, soonest_ms, out);
  if (last_status != 0) {
    forward_retry_after(down, last_status, last_retry_ms);
    auto b = translate_error(client, last_status, last_body);
    out.status = b.status;
    out.error = last_code;
    co_return co_await down.respond(b.status, "application/json", b.body);
  }
  co_return co_await send_error(down, client, last, out, last_code);
}

}  // namespace gatehouse::ai::gateway
