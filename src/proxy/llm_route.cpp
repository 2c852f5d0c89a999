// Routes with `llm:` are served by the AI gateway (src/ai/gateway) instead of
// an upstream: the session reads the whole request body (bounded by the
// route's llm.max_body) and gives the gateway a Downstream that writes plain
// responses or a chunked event stream flushed frame by frame.
#include <array>
#include <cstdio>

#include "ai/translate/errors.hpp"
#include "ai/usage/cost.hpp"
#include "ai/usage/recorder.hpp"
#include "common/clock.hpp"
#include "net/worker.hpp"
#include "common/strings.hpp"
#include "policies/llm_cache/cache_policy.hpp"
#include "policies/llm_guardrails/guardrails_policy.hpp"
#include "policies/llm_semantic_cache/semantic_policy.hpp"
#include "policies/llm_budget/budget.hpp"
#include "policies/llm_token_limit/token_limit.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace {
constexpr int64_t kBodyTimeoutMs = 60'000;   // the whole request body
constexpr int64_t kWriteTimeoutMs = 60'000;  // one write to the client
}  // namespace

class LlmDownstream final : public ai::gateway::Downstream {
 public:
  LlmDownstream(Session& s, Exchange& ex) : s_(s), ex_(ex) {}

  awaitable<bool> respond(int status, std::string_view content_type,
                          std::string_view body) override {
    std::string head = head_line(status);
    head += "Content-Type: ";
    head += content_type;
    head += "\r\nContent-Length: ";
    head += std::to_string(body.size());
    head += "\r\n";
    finish_head(head);
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, head,
                                    ex_.method_head ? std::string_view{} : body, kWriteTimeoutMs);
    s_.deadline_.disarm();
    ex_.status = status;
    ex_.bytes_out += ex_.method_head ? 0 : body.size();
    co_return ok;
  }

  awaitable<bool> start_stream() override {
    std::string head = head_line(200);
    head +=
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n";
    finish_head(head);
    ex_.status = 200;
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, head, {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  awaitable<bool> write_chunk(std::string_view data) override {
    if (data.empty()) co_return true;
    std::array<char, 24> line{};
    int n = std::snprintf(line.data(), line.size(), "%zx\r\n", data.size());
    std::string framed;
    framed.reserve(data.size() + 32);
    framed.append(line.data(), static_cast<size_t>(n));
    framed.append(data);
    framed.append("\r\n");
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, framed, {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    if (ok) {
      if (ex_.first_byte_us < 0) ex_.first_byte_us = steady_us() - ex_.start_us;
      ex_.bytes_out += data.size();
    }
    co_return ok;
  }

  awaitable<bool> end_stream() override {
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, "0\r\n\r\n", {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  bool close_after = false;  // the request body was not (fully) read

 private:
  static std::string head_line(int status) {
    std::string h;
    h.reserve(256);
    h += "HTTP/1.1 ";
    h += std::to_string(status);
    h += ' ';
    h += reason_phrase(status);
    h += "\r\n";
    return h;
  }
  void finish_head(std::string& head) const {
    for (const auto& h : ex_.pctx.response_headers) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
    head += "X-Request-Id: ";
    head += ex_.request_id;
    head += "\r\n";
    if (retry_after_s >= 0) head += "Retry-After: " + std::to_string(retry_after_s) + "\r\n";
    if (ex_.llm && !ex_.llm->cache.empty()) head += "x-gatehouse-cache: " + ex_.llm->cache + "\r\n";
    if (cost >= 0) head += "X-Gatehouse-LLM-Cost: " + ai::usage::format_cost(cost) + "\r\n";
    if (close_after) head += "Connection: close\r\n";
    head += "\r\n";
  }

  Session& s_;
  Exchange& ex_;
};

namespace {

// The llm-token-limit and llm-budget policies that ran for this request, as
// the gateway's Admission: reserve every limit's estimate (all or nothing)
// before the first provider call, and every budget's and every per-target
// limit's (by: model / provider) before each attempt; settle with the real
// usage and cost once the call is over.
class TokenAdmission final : public ai::gateway::Admission {
 public:
  explicit TokenAdmission(Exchange& ex) : ex_(ex) {
    for_each_policy_run(ex, false, [&](const policy::Policy& p) {
      if (auto* l = dynamic_cast<const policy::llm_token_limit::TokenLimiter*>(&p)) {
        if (l->per_target())
          targets_.push_back({l, {}, false});
        else
          limits_.push_back({l, {}});
      }
      if (auto* b = dynamic_cast<const policy::llm_budget::BudgetLimiter*>(&p))
        budgets_.push_back({b, {}});
    });
  }
  bool empty() const { return limits_.empty() && budgets_.empty() && targets_.empty(); }

  awaitable<bool> reserve_cost(const std::string& model, const std::string& provider,
                               const std::optional<ai::usage::Price>& price,
                               int64_t prompt_tokens, int64_t max_output, std::string& why,
                               int64_t& retry_after_s) override {
    // Token limits keyed by this target first (all or nothing with the budgets).
    for (auto& th : targets_) {
      int64_t need =
          prompt_tokens + (max_output >= 0 ? max_output : th.limit->default_output_tokens());
      th.r = {};
      th.held = co_await th.limit->reserve_target_async(ex_.pctx, model, provider, need, th.r, why,
                                                        retry_after_s);
      if (th.held) continue;
      co_await release_targets();
      refusal_code_ = "llm_token_limit";
      co_return false;
    }
    for (size_t i = 0; i < budgets_.size(); ++i) {
      const auto* budget = budgets_[i].first;
      // Without a price the spend is unknown: nothing to reserve, nothing counted.
      double estimate = price ? ai::usage::estimate(*price, prompt_tokens,
                                                    max_output >= 0
                                                        ? max_output
                                                        : budget->default_output_tokens())
                              : 0;
      if (co_await budget->reserve_async(ex_.pctx, model, provider, estimate, budgets_[i].second,
                                         why, retry_after_s))
        continue;
      for (size_t k = 0; k < i; ++k)
        co_await budgets_[k].first->settle_async(budgets_[k].second, 0);
      co_await release_targets();
      refusal_code_ = "llm_budget";
      co_return false;
    }
    co_return true;
  }
  const char* cost_refusal_code() const override { return refusal_code_; }
  awaitable<void> release_cost() override {
    for (auto& bh : budgets_) co_await bh.first->settle_async(bh.second, 0);
    co_await release_targets();
  }

  awaitable<bool> admit(int64_t prompt_tokens, int64_t max_output, std::string& why) override {
    for (size_t i = 0; i < limits_.size(); ++i) {
      const auto* limit = limits_[i].first;
      int64_t need =
          prompt_tokens + (max_output >= 0 ? max_output : limit->default_output_tokens());
      int64_t retry_after_s = 1;
      if (co_await limit->reserve_async(ex_.pctx, need, limits_[i].second, why, retry_after_s))
        continue;
      for (size_t k = 0; k < i; ++k)
        co_await limits_[k].first->settle_async(limits_[k].second, 0, steady_ms());
      ex_.pctx.response_headers.push_back({"Retry-After", std::to_string(retry_after_s)});
      co_return false;
    }
    admitted_ = true;
    co_return true;
  }

  // Real usage when the provider reported it; nothing when no provider
  // answered at all (connect errors, every fallback failed before a byte);
  // the estimate when a provider answered without usage.
  awaitable<void> settle(const ai::Usage& u, bool provider_answered, double cost) override {
    if (settled_) co_return;
    settled_ = true;
    // A provider that answered without usage keeps its reservation (the
    // estimate); one that did not answer released it already.
    for (auto& bh : budgets_) {
      double kept = provider_answered ? policy::llm_budget::from_micros(bh.second.micros) : 0;
      co_await bh.first->settle_async(bh.second, cost >= 0 ? cost : kept);
    }
    const int64_t now = steady_ms();
    for (auto& th : targets_) {
      if (!th.held) continue;
      th.held = false;
      int64_t actual = u.known ? u.input_total() + u.output : provider_answered ? th.r.tokens : 0;
      co_await th.limit->settle_async(th.r, actual, now);
    }
    if (!admitted_) co_return;
    for (auto& lr : limits_) {
      int64_t actual =
          u.known ? u.input_total() + u.output : provider_answered ? lr.second.tokens : 0;
      co_await lr.first->settle_async(lr.second, actual, now);
    }
  }

 private:
  // A per-target limit's reservation for the attempt in flight.
  struct TargetHold {
    const policy::llm_token_limit::TokenLimiter* limit = nullptr;
    policy::llm_token_limit::Reservation r;
    bool held = false;
  };

  awaitable<void> release_targets() {
    for (auto& th : targets_) {
      if (!th.held) continue;
      th.held = false;
      co_await th.limit->settle_async(th.r, 0, steady_ms());
    }
  }

  Exchange& ex_;
  std::vector<
      std::pair<const policy::llm_token_limit::TokenLimiter*, policy::llm_token_limit::Reservation>>
      limits_;
  std::vector<TargetHold> targets_;
  std::vector<std::pair<const policy::llm_budget::BudgetLimiter*, policy::llm_budget::Hold>>
      budgets_;
  const char* refusal_code_ = "llm_budget";
  bool admitted_ = false;
  bool settled_ = false;  // the answer's end and the exchange's end both settle
};

}  // namespace

awaitable<bool> Session::serve_llm(Exchange& ex) {
  namespace gw = ai::gateway;
  http1::RequestHead& head = *ex.head;
  const config::RouteLlmConfig& route = *ex.match.route->llm;
  ex.llm = std::make_unique<gw::Outcome>();
  LlmDownstream down(*this, ex);

  gw::Call call;
  call.endpoint = gw::classify(ex.target.path);
  call.method = head.method;
  call.anthropic_client = head.find("anthropic-version") != nullptr;
  call.route = &route;
  call.start_us = ex.start_us;

  auto answer_error = [&](int status, std::string type, std::string message,
                          std::string code) -> awaitable<bool> {
    ai::ErrorInfo e;
    e.type = std::move(type);
    e.message = std::move(message);
    e.status = status;
    auto b = ai::write_error(gw::error_format(call.endpoint), e);
    b.status = status;  // ours: keep it whatever the format maps the type to
    ex.error = std::move(code);
    ex.llm->status = b.status;
    co_return co_await down.respond(b.status, "application/json", b.body);
  };

  if (!ex.snap->llm) {
    closing_ = head.body != http1::BodyKind::kNone;
    down.close_after = closing_;
    co_return co_await answer_error(500, "api_error", "no llm: section in the config",
                                    "ai_not_configured") &&
        !closing_;
  }

  // ---- the request body, whole
  if (head.body != http1::BodyKind::kNone) {
    if (!gw::wants_body(call.endpoint) ||
        (head.body == http1::BodyKind::kContentLength && head.content_length > route.max_body)) {
      // Not read: answer and close (the body is still on the wire).
      closing_ = true;
      down.close_after = true;
      if (gw::wants_body(call.endpoint)) {
        co_await answer_error(413, "request_too_large",
                              "request body exceeds " + std::to_string(route.max_body) + " bytes",
                              "body_too_large");
        co_return false;
      }
    } else {
      auto got = co_await read_whole_body(head, call.body, route.max_body, {kBodyTimeoutMs, false});
      ex.bytes_in = call.body.size();
      if (got.kind == WholeBody::kTooLarge || got.kind == WholeBody::kBadChunked) {
        bool too_large = got.kind == WholeBody::kTooLarge;
        closing_ = true;
        down.close_after = true;
        co_await answer_error(
            too_large ? 413 : 400, too_large ? "request_too_large" : "invalid_request",
            too_large ? "request body exceeds " + std::to_string(route.max_body) + " bytes"
                      : "invalid chunked request body",
            too_large ? "body_too_large" : got.error_code);
        co_return false;
      }
      if (got.kind == WholeBody::kIncomplete) {
        ex.status = 400;
        ex.error = "client_body_incomplete";
        closing_ = true;
        co_return false;
      }
    }
  }

  if (const policy::Consumer* who = ex.pctx.consumer;
      who && ex.snap->consumers && who->index < ex.snap->consumers->configs().size()) {
    const auto& models = ex.snap->consumers->configs()[who->index].llm_models;
    if (models) call.consumer_models = &*models;
  }
  for_each_policy_run(ex, false, [&](const policy::Policy& p) {
    if (auto* g = dynamic_cast<const policy::llm_guardrails::GuardrailsFace*>(&p))
      call.guards.push_back(&g->guard());
  });
  for_each_policy_run(ex, false, [&](const policy::Policy& p) {
    auto* c = dynamic_cast<const policy::llm_cache::CacheFace*>(&p);
    if (!c || call.cache) return;  // the first cache policy that ran serves
    call.cache = &c->cache();
    call.cache_scope = c->scope(ex.pctx);
  });
  for_each_policy_run(ex, false, [&](const policy::Policy& p) {
    auto* c = dynamic_cast<const policy::llm_semantic_cache::SemanticCacheFace*>(&p);
    if (!c || call.semantic) return;  // the first semantic cache policy that ran serves
    call.semantic = &c->cache();
    call.semantic_scope = c->scope(ex.pctx);
    call.semantic_model = c->embeddings_model();
  });
  if (call.cache || call.semantic) {
    if (const auto* cc = head.find("cache-control")) {
      std::string v = to_lower(*cc);
      if (v.find("no-store") != std::string::npos) call.cache_store = false;
      if (v.find("no-cache") != std::string::npos) call.cache_lookup = false;
    }
  }
  TokenAdmission admission(ex);
  if (!admission.empty()) call.admission = &admission;
  if (ex.pctx.consumer) ex.llm->consumer = ex.pctx.consumer->name;
  const gw::Endpoint endpoint = call.endpoint;
  bool ok = co_await gw::serve(*ex.snap->llm, std::move(call), down, *ex.llm);
  gw::price_outcome(*ex.llm);
  ex.llm->duration_us = steady_us() - ex.start_us;
  co_await admission.settle(ex.llm->usage, ex.llm->ttft_us >= 0, ex.llm->cost);
  gw::record_metrics(*ex.llm, worker_.index());
  if (gw::wants_body(endpoint) && ex.snap->llm->usage().enabled)
    ai::usage::Recorder::instance().submit(worker_.index(),
                                           gw::usage_record(*ex.llm, endpoint, ex.start_us,
                                                            ex.request_id, ex.match.route->name,
                                                            ex.pctx.credential_id),
                                           ex.snap->llm->usage());
  if (ex.llm->status) ex.status = ex.llm->status;
  if (ex.error.empty() && !ex.llm->error.empty()) ex.error = ex.llm->error;
  ex.upstream_target = ex.llm->peer;
  co_return ok && !closing_;
}

}  // namespace gatehouse::proxy
