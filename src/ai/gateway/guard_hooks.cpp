// The gateway's side of the guardrails: prompts before the first provider
// call, completions before they reach the client (streams: StreamGuard in
// the translator). The rules themselves live in src/ai/guardrails.
#include <algorithm>

#include "ai/gateway/internal.hpp"
#include "ai/guardrails/moderation.hpp"

namespace gatehouse::ai::gateway::detail {

namespace gr = guardrails;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Runs the hook; "" when the text passes, else the reason to refuse. A hook
// failure passes (noted in f.moderation_error) or refuses, per on_error.
awaitable<std::string> run_moderation(const gr::Guard& g, gr::Direction d,
                                      const std::vector<std::string>& input, gr::Findings& f,
                                      bool& unavailable) {
  const auto& m = *g.config().moderation;
  auto ex = co_await asio::this_coro::executor;
  auto v = co_await gr::moderate(ex, m, input);
  if (!v) {
    f.moderation_error = v.error().code;
    if (!m.fail_closed) {
      g.count("moderation_unavailable", gr::Action::kOff, d);
      co_return std::string();
    }
    g.count("moderation_unavailable", gr::Action::kBlock, d);
    f.blocked = "moderation_unavailable";
    f.blocked_in = d;
    unavailable = true;
    co_return "the moderation service is unavailable (" + v.error().message +
        ") and guardrail rule 'moderation' fails closed";
  }
  if (!v.value().flagged) co_return std::string();
  g.count("moderation", gr::Action::kBlock, d);
  f.blocked = "moderation";
  f.blocked_in = d;
  std::string cats = join(v.value().categories);
  co_return std::string(d == gr::Direction::kPrompt ? "the prompt" : "the completion") +
      " was flagged by guardrail rule 'moderation'" + (cats.empty() ? "" : " (" + cats + ")");
}

}  // namespace

awaitable<std::optional<bool>> guard_prompt(const Call& call, Format client, Request& req,
                                            gr::Findings& f, Downstream& down, Outcome& out) {
  if (call.guards.empty()) co_return std::nullopt;
  int64_t tokens = -1;
  for (const gr::Guard* g : call.guards) {
    if (g->config().max_prompt_tokens > 0 && tokens < 0)
      tokens = estimate_prompt_tokens(client, req, call.body);
    std::string why;
    bool unavailable = false;
    if (g->check_prompt(req, tokens, f, why)) {
      const auto& m = g->config().moderation;
      if (!m || !m->prompt || !g->config().prompt) continue;
      why = co_await run_moderation(*g, gr::Direction::kPrompt, gr::prompt_texts(req), f,
                                    unavailable);
      if (why.empty()) continue;
    }
    out.guardrails = f.summary();
    ErrorInfo e =
        unavailable ? info("api_error", why, 503) : info("invalid_request", why, 400, "messages");
    e.code = unavailable ? "guardrail_unavailable" : "guardrail_blocked";
    co_return co_await send_error(down, client, e, out, e.code);
  }
  out.guardrails = f.summary();
  co_return std::nullopt;
}

awaitable<bool> guard_completion(const Call& call, Response& r, gr::Findings& f, std::string& why) {
  for (const gr::Guard* g : call.guards) {
    if (!g->check_completion(r, f, why)) co_return false;
    const auto& m = g->config().moderation;
    if (!m || !m->completion || !g->config().completion) continue;
    bool unavailable = false;
    std::vector<std::string> input{gr::completion_text(r)};
    why = co_await run_moderation(*g, gr::Direction::kCompletion, input, f, unavailable);
    if (!why.empty()) co_return false;
  }
  co_return true;
}

namespace {
constexpr size_t kModerationContext = 256;  // bytes of the previous window sent again
}

StreamModeration::StreamModeration(const Call& call, gr::StreamGuard& guard, gr::Findings& f)
    : stream_(guard), f_(f) {
  for (const gr::Guard* g : call.guards) {
    const auto& m = g->config().moderation;
    if (m && m->completion && g->config().completion) {
      guard_ = g;  // the first hook in chain order; one call per window
      break;
    }
  }
}

awaitable<void> StreamModeration::gate(StreamTranslator& tr, std::string& frame, bool last) {
  if (!guard_) co_return;
  if (stopped_) {  // nothing after the error
    frame.clear();
    co_return;
  }
  held_ += frame;
  frame.clear();
  text_ += stream_.take_released();
  const size_t window = guard_->config().moderation->stream_window;
  if (!last && text_.size() < window) co_return;
  // A stream the guards already stopped ends with their error: nothing to moderate.
  if (!text_.empty() && f_.blocked.empty()) {
    bool unavailable = false;
    std::vector<std::string> input{tail_ + text_};
    std::string why =
        co_await run_moderation(*guard_, gr::Direction::kCompletion, input, f_, unavailable);
    if (!why.empty()) {
      stopped_ = true;
      held_.clear();
      ErrorInfo e = unavailable ? info("api_error", why, 503) : info("invalid_request", why, 400);
      e.code = unavailable ? "guardrail_unavailable" : "guardrail_blocked";
      tr.withdraw(e, frame);
      co_return;
    }
    tail_ = text_.size() > kModerationContext ? text_.substr(text_.size() - kModerationContext)
                                              : text_;
    text_.clear();
  }
  frame = std::move(held_);
  held_.clear();
}

std::vector<const gr::Guard*> completion_guards(const Call& call) {
  std::vector<const gr::Guard*> out;
  for (const gr::Guard* g : call.guards)
    if (g->config().completion) out.push_back(g);
  return out;
}

}  // namespace gatehouse::ai::gateway::detail
