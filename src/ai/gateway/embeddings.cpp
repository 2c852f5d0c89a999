// /v1/embeddings: OpenAI's embeddings API in front of every provider that has
// one (OpenAI and OpenAI-compatible over HTTP, Bedrock's InvokeModel translated
// in its provider, the mock locally). The client's
// body goes to the provider as it came, with only "model" replaced by the
// target's; the provider's answer comes back untouched (parse only what we
// act on: the usage, for metering and token limits).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ai/gateway/internal.hpp"
#include "ai/tokenizer/tokenizer.hpp"
#include "common/clock.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::gateway::detail {

namespace json = boost::json;

namespace {

constexpr size_t kMaxInputs = 2048;          // OpenAI's limit on inputs per request
constexpr int64_t kMaxDimensions = 16'384;

// Reads the fields we act on; the error names the parameter like OpenAI does.
Result<providers::EmbeddingsInput> read_input(const json::object& o) {
  providers::EmbeddingsInput in;
  auto bad = [](std::string msg, std::string param) {
    return make_error("invalid_request", std::move(msg), std::move(param), 400);
  };
  const json::value* input = o.if_contains("input");
  if (!input) return bad("'input' is required", "input");
  if (input->is_string()) {
    in.texts.emplace_back(input->get_string());
  } else if (input->is_array()) {
    const auto& a = input->get_array();
    if (a.empty()) return bad("'input' cannot be an empty array", "input");
    if (a.size() > kMaxInputs)
      return bad("'input' has more than " + std::to_string(kMaxInputs) + " items", "input");
    bool ints = a.front().is_int64() || a.front().is_uint64();
    if (ints) {  // one input given as tokens
      std::vector<int64_t> toks;
      for (const auto& v : a) {
        if (!v.is_int64() && !v.is_uint64()) return bad("mixed token and text input", "input");
        toks.push_back(v.to_number<int64_t>());
      }
      in.token_arrays.push_back(std::move(toks));
    } else {
      for (const auto& v : a) {
        if (v.is_string()) {
          in.texts.emplace_back(v.get_string());
        } else if (v.is_array()) {
          std::vector<int64_t> toks;
          for (const auto& t : v.get_array()) {
            if (!t.is_int64() && !t.is_uint64())
              return bad("token arrays hold integers only", "input");
            toks.push_back(t.to_number<int64_t>());
          }
          if (toks.empty()) return bad("'input' holds an empty token array", "input");
          in.token_arrays.push_back(std::move(toks));
        } else {
          return bad("'input' items are strings or arrays of token integers", "input");
        }
      }
    }
  } else {
    return bad("'input' is a string, an array of strings, or token arrays", "input");
  }
  for (const auto& t : in.texts)
    if (t.empty()) return bad("'input' cannot contain an empty string", "input");
  if (const json::value* f = o.if_contains("encoding_format")) {
    if (!f->is_string() || (f->get_string() != "float" && f->get_string() != "base64"))
      return bad("'encoding_format' is 'float' or 'base64'", "encoding_format");
    in.base64 = f->get_string() == "base64";
  }
  if (const json::value* d = o.if_contains("dimensions")) {
    if (!d->is_int64() && !d->is_uint64())
      return bad("'dimensions' is a positive integer", "dimensions");
    int64_t n = d->to_number<int64_t>();
    if (n < 1 || n > kMaxDimensions)
      return bad("'dimensions' must be between 1 and " + std::to_string(kMaxDimensions),
                 "dimensions");
    in.dimensions = n;
  }
  // Cohere Embed's input_type (Bedrock); OpenAI has no such field.
  if (const json::value* t = o.if_contains("input_type")) {
    static constexpr std::string_view kTypes[] = {"search_document", "search_query",
                                                  "classification", "clustering"};
    if (!t->is_string() ||
        std::find(std::begin(kTypes), std::end(kTypes), t->get_string()) == std::end(kTypes))
      return bad("'input_type' is search_document, search_query, classification or clustering",
                 "input_type");
    in.input_type = std::string(t->get_string());
  }
  return in;
}

// Input tokens for token limits: texts counted with o200k_base (what
// OpenAI's embedding models use), token arrays by length; bytes / 4 when the
// rank files are missing.
int64_t estimate_tokens(const providers::EmbeddingsInput& in) {
  static const std::shared_ptr<const Tokenizer> tk = [] {
    auto t = Tokenizer::load(Encoding::kO200kBase);
    return t ? t.value() : std::shared_ptr<const Tokenizer>();
  }();
  int64_t n = 0;
  for (const auto& t : in.texts)
    n += tk ? static_cast<int64_t>(tk->count(t)) : static_cast<int64_t>(t.size() / 4 + 1);
  for (const auto& a : in.token_arrays) n += static_cast<int64_t>(a.size());
  return n;
}

// usage.prompt_tokens of an embeddings answer, when present.
void read_usage(std::string_view body, Usage& u) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec || !v.is_object()) return;
  const json::value* usage = v.get_object().if_contains("usage");
  if (!usage || !usage->is_object()) return;
  const json::value* p = usage->get_object().if_contains("prompt_tokens");
  if (!p || !(p->is_int64() || p->is_uint64())) return;
  u.input_uncached = p->to_number<int64_t>();
  u.known = true;
}

}  // namespace

awaitable<bool> serve_embeddings(const Catalog& cat, const Call& call, Downstream& down,
                                 Outcome& out) {
  const Format client = Format::kChat;  // OpenAI's error shape
  boost::system::error_code ec;
  json::value parsed = parse_json(call.body, ec);
  if (ec || !parsed.is_object())
    co_return co_await send_error(
        down, client, info("invalid_request", "the request body is not a JSON object", 400), out,
        "ai_bad_request");
  json::object& req = parsed.get_object();
  const json::value* model = req.if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty())
    co_return co_await send_error(
        down, client, info("invalid_request", "'model' is required", 400, "model"), out,
        "ai_bad_request");
  out.model = std::string(model->get_string());
  auto in = read_input(req);
  if (!in)
    co_return co_await send_error(
        down, client, info("invalid_request", in.error().message, 400, in.error().field), out,
        "ai_bad_request");

  int mi = cat.find_model(out.model);
  if (mi < 0 || !allows(call, cat.model(static_cast<size_t>(mi))))
    co_return co_await send_error(
        down, client,
        info("not_found", "model '" + out.model + "' is not available here", 404, "model"), out,
        "ai_unknown_model");

  in.value().estimated_tokens = estimate_tokens(in.value());
  if (call.admission) {
    std::string why;
    if (!co_await call.admission->admit(in.value().estimated_tokens, 0, why))
      co_return co_await send_error(down, client, info("rate_limit", why, 429), out,
                                    "llm_token_limit");
  }

  auto ex = co_await asio::this_coro::executor;
  ErrorInfo last = info("invalid_request",
                        "model '" + out.model + "' has no target whose provider offers embeddings",
                        400, "model");
  std::string last_code = "ai_no_embeddings";
  std::string last_body;
  int last_status = 0;
  int64_t last_retry_ms = -1;
  int64_t soonest_ms = -1;
  const auto tries = candidates(cat, cat.model(static_cast<size_t>(mi)));
  for (size_t step = 0; step < tries.size(); ++step) {
    const ModelEntry& m = cat.model(tries[step].first);
    const size_t t = tries[step].second;
    if (cooling(cat, m, t, out, soonest_ms)) continue;
    const auto& target = m.cfg.targets[t];
    const providers::Provider& prov = cat.provider(m.target_provider[t]);
    req["model"] = target.model;
    in.value().model = target.model;
    auto pc = prov.embeddings(ex, json::serialize(req), in.value());
    if (!pc) continue;  // e.g. Anthropic: no embeddings API
    out.served_model = m.cfg.name;
    out.provider = prov.config().name;
    out.provider_model = target.model;
    out.stats = m.target_stats[t];
    ++out.attempts;
    auto st = co_await pc->start();
    out.peer = pc->peer();
    if (!st) {
      last = info("api_error", st.error().message, 502);
      last_code = st.error().code;
      last_status = 0;
      continue;
    }
    auto body = co_await read_all(*pc);
    if (!body) {
      last = info("api_error", body.error().message, 502);
      last_code = body.error().code;
      last_status = 0;
      if (step + 1 < tries.size()) continue;
      break;
    }
    if (*st < 200 || *st >= 300) {
      last_status = *st;
      last_body = std::move(body.value());
      last_code = "ai_provider_error";
      last_retry_ms = note_failure(cat, m, t, *st, *pc, out);
      if (falls_back(*st) && step + 1 < tries.size()) continue;
      break;
    }
    out.ttft_us = steady_us() - call.start_us;
    read_usage(body.value(), out.usage);
    out.status = 200;
    co_return co_await down.respond(200, "application/json", body.value());
  }
  if (out.attempts == 0 && soonest_ms >= 0)
    co_return co_await send_all_cooling(down, client, out.model, soonest_ms, out);
  if (last_status != 0) {
    forward_retry_after(down, last_status, last_retry_ms);
    auto b = translate_error(client, last_status, last_body);
    out.status = b.status;
    out.error = last_code;
    co_return co_await down.respond(b.status, "application/json", b.body);
  }
  co_return co_await send_error(down, client, last, out, last_code);
}

}  // namespace gatehouse::ai::gateway::detail
