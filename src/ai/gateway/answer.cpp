// The success path of a chat, messages or responses call: once a provider
// answered 2xx and its first bytes (or its whole answer) are in, the client
// gets that answer; a failure after this point is an in-band error event.
#include "ai/gateway/internal.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai::gateway::detail {

awaitable<bool> serve_answer(const Call& call, Format client, const Request& req, Format provider,
                             providers::Call& pc, std::string first_piece, std::string whole,
                             const std::string& cache_key, SemanticPending& semantic,
                             guardrails::Findings& findings, Downstream& down, Outcome& out) {
  if (!req.stream) {
    auto resp = parse_response(provider, whole);
    if (!resp)
      co_return co_await send_error(
          down, client,
          info("api_error", "unreadable provider answer: " + resp.error().message, 502), out,
          "ai_bad_provider_answer");
    out.usage = extract_usage(resp.value(), false);
    size_t masks_before = findings.total_masked();
    if (!call.guards.empty()) {
      std::string why;
      bool passed = co_await guard_completion(call, resp.value(), findings, why);
      out.guardrails = findings.summary();
      if (!passed) {
        ErrorInfo e = info("invalid_request", why, 400);
        e.code = "guardrail_blocked";
        co_return co_await send_error(down, client, e, out, e.code);
      }
    }
    store_in_cache(call, cache_key, resp.value());
    store_semantic(call, semantic, resp.value());
    out.status = 200;
    price_outcome(out);
    if (call.admission) co_await call.admission->settle(out.usage, true, out.cost);
    down.cost = out.cost;
    // Same format and nothing masked: the provider's answer as it came (n > 1
    // choices, logprobs, system_fingerprint and the like survive).
    if (provider == client && findings.total_masked() == masks_before)
      co_return co_await down.respond(200, "application/json", std::move(whole));
    co_return co_await down.respond(200, "application/json", write_response(client, resp.value()));
  }

  StreamOptions so;
  so.encoder.include_usage = client != Format::kChat || req.include_usage;
  guardrails::StreamGuard guard(completion_guards(call), findings);
  if (guard.active()) so.filter = &guard;
  StreamTranslator tr(provider, client, so);
  StreamModeration moderation(call, guard, findings);
  out.status = 200;
  if (!co_await down.start_stream()) {
    out.usage = tr.usage();
    out.usage.partial = true;
    out.error = "client_gone";
    co_return false;
  }
  std::string frame;
  bool client_ok = true;
  std::string chunk = std::move(first_piece);
  Result<bool> more = true;
  for (;;) {
    if (!more) {
      ErrorInfo e = info("api_error", more.error().message, 502);
      e.code = more.error().code;
      tr.fail(e, frame);
      out.error = more.error().code;
    } else if (!*more) {
      tr.finish(frame);
    } else if (!moderation.active()) {
      (void)tr.feed(chunk, frame);
    } else {
      // The hook judges the stream in windows, and what passed reaches the
      // client before the rest is judged: so one gate per SSE event, not per
      // read (a read that brought the whole stream would be one window). The
      // translator takes its input in any pieces.
      std::string_view rest = chunk;
      for (;;) {
        size_t end = rest.find("\n\n");
        size_t n = end == std::string_view::npos ? rest.size() : end + 2;
        (void)tr.feed(rest.substr(0, n), frame);
        rest.remove_prefix(n);
        if (rest.empty() || tr.done()) break;  // the last piece takes the gate below
        co_await moderation.gate(tr, frame, false);
        if (!frame.empty() && client_ok) client_ok = co_await down.write_chunk(frame);
        frame.clear();
      }
    }
    if (moderation.active()) co_await moderation.gate(tr, frame, !more || !*more || tr.done());
    if (!frame.empty()) {
      client_ok = co_await down.write_chunk(frame);
      frame.clear();
    }
    if (!client_ok) {
      out.error = "client_gone";
      break;
    }
    if (!more || !*more || tr.done()) break;
    chunk.clear();
    more = co_await pc.read(chunk);
  }
  if (client_ok && !tr.done()) {
    tr.finish(frame);
    if (moderation.active()) co_await moderation.gate(tr, frame, true);
    if (!frame.empty()) client_ok = co_await down.write_chunk(frame);
  }
  out.usage = tr.usage();
  out.guardrails = findings.summary();
  if (!findings.blocked.empty()) out.error = "guardrail_blocked";
  if (client_ok && tr.done() && !tr.partial() && findings.blocked.empty()) {
    store_in_cache(call, cache_key, tr.response());
    store_semantic(call, semantic, tr.response());
  }
  if (!client_ok) out.usage.partial = true;
  if (client_ok && call.admission) {
    price_outcome(out);
    co_await call.admission->settle(out.usage, true, out.cost);
  }
  if (client_ok) client_ok = co_await down.end_stream();
  co_return client_ok;
}

}  // namespace gatehouse::ai::gateway::detail
