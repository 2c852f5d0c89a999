#include "ai/guardrails/moderation.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ai/providers/http_call.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::guardrails {

namespace json = boost::json;

namespace {
constexpr size_t kMaxAnswer = 1024 * 1024;

Error bad(std::string msg) {
  return make_error("moderation_bad_answer", std::move(msg), "", 502, ErrorSide::kUpstream);
}
}  // namespace

std::string moderation_request(const ModerationConfig& cfg, const std::vector<std::string>& input) {
  json::object o;
  if (!cfg.model.empty()) o["model"] = cfg.model;
  json::array in;
  for (const auto& t : input) in.emplace_back(t);
  o["input"] = std::move(in);
  return json::serialize(o);
}

Result<ModerationVerdict> parse_moderation(std::string_view body) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec || !v.is_object()) return bad("the moderation answer is not a JSON object");
  const json::value* results = v.as_object().if_contains("results");
  if (!results || !results->is_array()) return bad("the moderation answer has no results array");
  ModerationVerdict out;
  for (const auto& r : results->as_array()) {
    if (!r.is_object()) return bad("a moderation result is not an object");
    const json::value* flagged = r.as_object().if_contains("flagged");
    if (!flagged || !flagged->is_bool()) return bad("a moderation result has no boolean flagged");
    if (!flagged->as_bool()) continue;
    out.flagged = true;
    if (const json::value* cats = r.as_object().if_contains("categories");
        cats && cats->is_object())
      for (const auto& [k, val] : cats->as_object())
        if (val.is_bool() && val.as_bool()) out.categories.emplace_back(k);
  }
  std::sort(out.categories.begin(), out.categories.end());
  out.categories.erase(std::unique(out.categories.begin(), out.categories.end()),
                       out.categories.end());
  return out;
}

awaitable<Result<ModerationVerdict>> moderate(asio::any_io_executor ex, const ModerationConfig& cfg,
                                              const std::vector<std::string>& input) {
  providers::HttpRequest req;
  req.url = cfg.parsed;
  req.path = cfg.parsed.prefix.empty() ? "/" : "";
  req.tls = cfg.tls;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!cfg.api_key.empty()) req.headers.emplace_back("Authorization", "Bearer " + cfg.api_key);
  req.body = moderation_request(cfg, input);
  req.timeouts.connect_ms = cfg.timeout_ms;
  req.timeouts.idle_ms = cfg.timeout_ms;
  req.timeouts.request_ms = cfg.timeout_ms;
  auto call = providers::make_http_call(ex, std::move(req));
  auto st = co_await call->start();
  if (!st) co_return st.error();
  std::string body;
  for (;;) {
    auto more = co_await call->read(body);
    if (!more) co_return more.error();
    if (!*more) break;
    if (body.size() > kMaxAnswer) co_return bad("the moderation answer is larger than 1 MiB");
  }
  if (*st < 200 || *st >= 300)
    co_return make_error("moderation_status", "the moderation hook answered " + std::to_string(*st),
                         "", 502, ErrorSide::kUpstream);
  co_return parse_moderation(body);
}

}  // namespace gatehouse::ai::guardrails
