// Forwarding to an HTTP/2 upstream: the same pick / retry / policy rules as
// forward.cpp, over a multiplexed nghttp2 client connection
// (upstream/h2_client.*). The request body is pumped by its own coroutine
// while this one streams the response, so bidirectional gRPC streams work.
#include "proxy/forward_h2.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdlib>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/tls/client.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2_call.hpp"
#include "proxy/forward_util.hpp"
#include "proxy/grpc.hpp"
#include "proxy/grpc_web.hpp"
#include "proxy/h2_fields.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream/h2_client.hpp"

namespace gatehouse::proxy {

namespace {
// Request body bytes queued for DATA frames before the pump stops reading
// the client (the peer's flow-control window drains the queue).
constexpr size_t kTxHighWater = 64 * 1024;
// Streams refused by the peer (REFUSED_STREAM, past GOAWAY) are retried on
// another connection this many times without counting as attempts.
constexpr int kMaxRefusedRetries = 2;
}  // namespace

awaitable<bool> H2Forward::run(Session& s, Exchange& ex) {
  Call c(s.worker_.ioc().get_executor());
  bool keep = co_await exchange(s, ex, c);
  if (c.st && c.conn) c.conn->abandon(*c.st);
  if (c.pump_running && !c.pump_done) {
    // The answer is out but the request body is not all read: stop the
    // pump (closing the client's side ends a read it waits in) and close.
    c.pump_stop = true;
    if (c.st) c.st->tx_wake.notify();
    s.stream_.close();
    s.closing_ = true;
    keep = false;
    while (!c.pump_done) co_await c.pump_wake.wait(0);
  }
  co_return keep;
}

awaitable<bool> H2Forward::exchange(Session& s, Exchange& ex, Call& c) {
  const Snapshot& snap = *ex.snap;
  const RouteRuntime& rr = *ex.route;
  const config::RouteConfig& rc = *ex.match.route;
  int upstream_index = ex.pctx.upstream_override >= 0 ? ex.pctx.upstream_override : rr.upstream;
  c.wu = s.worker_.upstream_for(snap.upstreams[static_cast<size_t>(upstream_index)]);
  net::WorkerUpstream& wu = *c.wu;
  UpstreamShared& us = *wu.shared;
  const config::UpstreamConfig& ucfg = us.cfg;
  metrics::UpstreamShard& ustats = *wu.stats;
  const http1::RequestHead& head = *ex.head;
  c.to = &rr.timeouts;
  const config::TimeoutsConfig& to = rr.timeouts;
  const bool close_after_error = head.body != http1::BodyKind::kNone;
  if (!wu.h2) wu.h2 = std::make_shared<H2Pools>(ucfg.targets.size());
  // WebSocket goes up as an RFC 8441 extended CONNECT (forward_h2_tunnel.cpp);
  // other upgrades have no HTTP/2 form.
  const std::string* upgrade_to = head.upgrade ? head.find("upgrade") : nullptr;
  c.tunnel = upgrade_to && head.method == "GET" && iequals(*upgrade_to, "websocket");
  if (c.tunnel && !head.find("sec-websocket-key")) {
    co_return co_await s.send_error(&ex, 400, "bad_websocket_handshake",
                                    "WebSocket upgrade without Sec-WebSocket-Key", true);
  }
  if (upgrade_to && !c.tunnel) {
    co_return co_await s.send_error(&ex, 501, "upgrade_unsupported",
                                    "upstream '" + ucfg.name +
                                        "' speaks HTTP/2: protocol upgrades are not forwarded",
                                    close_after_error);
  }
  if (us.in_flight.load(std::memory_order_relaxed) >= ucfg.breaker.max_requests) {
    ustats.breaker_rejections.inc();
    co_return co_await s.send_error(&ex, 503, "upstream_overloaded",
                                    "upstream '" + ucfg.name + "' has too many requests in flight",
                                    close_after_error);
  }
  CounterGuard in_flight = CounterGuard::enter(us.in_flight);

  std::string path = snap.router->rewrite_path(ex.match, ex.target.path);
  const std::string& query = ex.pctx.query_overridden ? ex.pctx.query_override : ex.target.query;
  if (!query.empty()) {
    path += '?';
    path += query;
  }

  // Deadlines: the route's request timeout, and for gRPC the client's
  // grpc-timeout, whichever ends first; the upstream is told what is left.
  // Both count from the start of the request (docs/proxy.md).
  const int64_t start_ms = ex.start_us / 1000;
  c.grpc = grpc::is_grpc_request(head);
  if (rc.grpc_web) {
    const std::string* ct = head.find("content-type");
    c.web = ct && grpc_web::parse_content_type(*ct, c.web_kind);
    c.web_text = c.web && grpc_web::wants_text(head, c.web_kind);
    c.grpc = c.grpc || c.web;
  }
  if (rr.transcoder && !c.grpc) {
    // HTTP/JSON on a grpc_transcode route (gRPC itself passes through).
    c.tc = rr.transcoder.get();
    c.tm = c.tc->match(head.method, ex.target.path);
    if (!c.tm.binding) co_return co_await transcode_unmatched(s, ex, c);
    c.grpc = true;
    path = c.tm.method->grpc_path;
  }
  c.deadline_ms = to.request_ms > 0 ? start_ms + to.request_ms : 0;
  if (c.grpc) {
    if (const std::string* v = head.find("grpc-timeout")) {
      int64_t t = grpc::parse_timeout(*v);
      if (t < 0) {
        co_return co_await s.send_error(&ex, 400, "bad_grpc_timeout",
                                        "grpc-timeout '" + *v + "' is not 1-8 digits and a unit",
                                        close_after_error);
      }
      c.grpc_deadline_ms = start_ms + t;
      if (!c.deadline_ms || c.grpc_deadline_ms < c.deadline_ms) c.deadline_ms = c.grpc_deadline_ms;
    }
  }

  // A body is replayable when it is all in memory already: none, complete
  // in the read buffer (Content-Length or chunked with its terminator, as a
  // unary gRPC call usually is), or buffered whole by a policy.
  std::string owned_body;
  Session::BodyStep body_step;
  if (uint64_t want = s.request_body_want(ex))
    body_step = co_await s.buffer_request_body(ex, owned_body, want);
  if (body_step.kind == Session::BodyStep::kAnswered) co_return body_step.keep;
  const bool body_owned = body_step.kind == Session::BodyStep::kBuffered;
  uint64_t max_body = 0;
  if (auto it = ex.pctx.vars.find("max_body"); it != ex.pctx.vars.end())
    max_body = std::strtoull(it->second.c_str(), nullptr, 10);
  if (c.tc) {
    auto tb = co_await transcode_request_body(s, ex, c, body_owned, owned_body);
    if (tb.answered) co_return tb.keep;
    c.buffered = true;
    c.replay = std::move(owned_body);
  } else if (c.web) {
    auto wb = co_await web_request_body(s, ex, c.web_kind, body_owned, owned_body);
    if (wb.answered) co_return wb.keep;
    c.buffered = true;
    c.replay = std::move(owned_body);
  } else if (body_owned) {
    c.buffered = true;
    c.replay = std::move(owned_body);
  } else if (head.body == http1::BodyKind::kNone) {
    c.buffered = true;
  } else if (head.body == http1::BodyKind::kContentLength && head.content_length <= s.buf_.size()) {
    c.buffered = true;
    c.replay = std::string(s.buf_.view().substr(0, static_cast<size_t>(head.content_length)));
    c.replay_consume = static_cast<size_t>(head.content_length);
  } else if (head.body == http1::BodyKind::kChunked) {
    http1::ChunkedDecoder dec;
    dec.keep_trailers();
    auto out = dec.feed(s.buf_.view());
    if (!out.error && out.done) {
      c.buffered = true;
      for (auto d : out.data) c.replay += d;
      c.replay_trailers = to_h2_trailers(dec.trailers());
      c.replay_consume = out.consumed;
      if (max_body && c.replay.size() > max_body) {
        co_return co_await s.send_error(&ex, 413, "body_too_large",
                                        "request body exceeds the route's limit", true);
      }
    }
  }
  if (c.buffered) ex.bytes_in = c.replay.size();

  ForwardOptions fo;
  fo.method = c.tc ? std::string_view("POST") : std::string_view(head.method);
  fo.path_and_query = path;
  fo.client_ip = s.client_ip_;
  fo.original_host = ex.original_host;
  fo.request_id = ex.request_id;
  fo.trust_forwarded = snap.config.server.trust_forwarded;
  fo.https = s.tls_info_ != nullptr;
  fo.has_length = body_owned || c.web || c.tc || head.body == http1::BodyKind::kContentLength;
  fo.content_length = body_owned || c.web || c.tc ? c.replay.size() : head.content_length;
  const bool te_trailers = c.grpc || accepts_trailers(head);
  const std::string_view scheme = us.tls ? "https" : "http";

  std::string hash_key;
  if (ucfg.balancer.kind == config::BalancerKind::kConsistentHash)
    hash_key = hash_key_for(ucfg.balancer, ex, s.client_ip_);

  const int max_attempts = 1 + std::max(0, ucfg.retries.attempts);
  TargetSet tried(ucfg.targets.size());
  int refused_retries = 0;
  bool unsafe = false;  // the upstream may have acted on it: never replayed
  CounterGuard retry_count;
  // A streamed body that ended within the replay limit becomes replayable.
  auto promote_captured = [&c] {
    if (c.buffered || !c.pump_done || !c.capture_complete) return;
    c.buffered = true;
    c.replay = std::move(c.captured);
    c.replay_trailers = std::move(c.captured_trailers);
  };

  for (int attempt = 0;; ++attempt) {
    if (c.st && c.conn) c.conn->abandon(*c.st);
    c.st.reset();
    c.conn.reset();
    promote_captured();
    const bool replayable = c.buffered && !unsafe;
    if (attempt > 0) {
      int allowed = std::max(ucfg.retries.min_retry_concurrency,
                             static_cast<int>(ucfg.retries.budget_percent / 100.0 *
                                              us.in_flight.load(std::memory_order_relaxed)));
      bool budget_ok = us.retries_in_flight.load(std::memory_order_relaxed) < allowed;
      if (attempt >= max_attempts || !replayable || !budget_ok ||
          (c.deadline_ms && steady_ms() >= c.deadline_ms)) {
        co_return co_await s.send_error(&ex, c.last_status, c.last_code, c.last_detail,
                                        close_after_error || c.pump_running);
      }
      retry_count.enter_once(us.retries_in_flight);
      ++ex.retries;
      ustats.retries.inc();
      int64_t backoff = std::min(ucfg.retries.backoff_max_ms,
                                 ucfg.retries.backoff_base_ms << std::min(attempt - 1, 10));
      if (backoff > 0) {
        backoff = static_cast<int64_t>(s.worker_.rng()() % static_cast<uint64_t>(backoff + 1));
        asio::steady_timer t(s.worker_.ioc(), std::chrono::milliseconds(backoff));
        co_await t.async_wait(use_nothrow);
      }
    }

    PickContext pc;
    pc.hash_key = hash_key;
    pc.now_ms = steady_ms();
    pc.exclude = &tried;
    int target = wu.balancer->pick(pc);
    if (target < 0 && attempt > 0) {
      tried.clear();
      target = wu.balancer->pick(pc);
    }
    if (target < 0) {
      co_return co_await s.send_error(&ex, 503, "no_healthy_upstream",
                                      "upstream '" + ucfg.name + "' has no available target",
                                      close_after_error);
    }
    c.target = target;
    tried.set(static_cast<size_t>(target), true);
    const auto& tcfg = ucfg.targets[static_cast<size_t>(target)];
    ustats.requests.inc();
    c.attempt_start_us = steady_us();

    // ---- a connection with room for one more stream, or a new one
    std::shared_ptr<H2ClientConn> conn = wu.h2->find(target);
    if (conn) {
      ex.connect_us = -1;
    } else {
      if (us.connections.load(std::memory_order_relaxed) >= ucfg.breaker.max_connections ||
          us.pending.load(std::memory_order_relaxed) >= ucfg.breaker.max_pending) {
        ustats.breaker_rejections.inc();
        co_return co_await s.send_error(&ex, 503, "upstream_overloaded",
                                        "upstream '" + ucfg.name + "' connection limit reached",
                                        close_after_error || c.pump_running);
      }
      int64_t connect_deadline = steady_ms() + to.connect_ms;
      if (c.deadline_ms) connect_deadline = std::min(connect_deadline, c.deadline_ms);
      conn = co_await connect(s, ex, c, target, connect_deadline);
      if (!conn) continue;
      wu.h2->add(target, conn);
    }
    ex.upstream_target = conn->peer();
    if (c.tunnel) {
      // RFC 8441 3: extended CONNECT only to a peer whose SETTINGS allow it;
      // a new connection's come with the peer's first bytes.
      int64_t until = steady_ms() + std::max<int64_t>(to.connect_ms, 1);
      asio::steady_timer wait(s.worker_.ioc());
      while (!conn->settings_received() && conn->usable() && steady_ms() < until) {
        wait.expires_after(std::chrono::milliseconds(2));
        co_await wait.async_wait(use_nothrow);
      }
      if (!conn->connect_protocol()) {
        co_return co_await s.send_error(
            &ex, 501, "upgrade_unsupported",
            "upstream '" + ucfg.name +
                "' speaks HTTP/2 and does not accept extended CONNECT (RFC 8441)",
            close_after_error);
      }
    }
    wu.balancer->on_start(target);
    auto& tstate = *us.states[static_cast<size_t>(target)];
    CounterGuard target_in_flight = CounterGuard::enter(tstate.requests_in_flight);

    std::string host_value = !ex.pctx.upstream_host.empty() ? ex.pctx.upstream_host
                             : !rc.rewrite.host.empty()     ? rc.rewrite.host
                             : rc.rewrite.preserve_host     ? ex.original_host
                                                            : tcfg.address;
    fo.upstream_host = host_value;
    std::string grpc_timeout;
    if (c.grpc && c.deadline_ms) grpc_timeout = grpc::format_timeout(c.deadline_ms - steady_ms());
    auto fields = to_h2_fields(build_upstream_head(head, fo), scheme, te_trailers, grpc_timeout);
    if (c.web) {
      // The upstream sees a gRPC call; Accept named the gRPC-Web encoding.
      std::erase_if(fields, [](const H2Field& f) { return f.name == "accept"; });
      for (auto& f : fields)
        if (f.name == "content-type") f.value = grpc_web::upstream_content_type(c.web_kind);
    }
    if (c.tc) transcode_fields(fields);
    if (c.tunnel) tunnel_fields(ex, fields);

    auto st = std::make_shared<H2Stream>(s.worker_.ioc().get_executor());
    bool has_body = head.body != http1::BodyKind::kNone;
    if (c.buffered) {
      st->tx = c.replay;
      st->tx_trailers = c.replay_trailers;
      st->tx_end = true;
      has_body = !c.replay.empty() || !c.replay_trailers.empty();
    }
    if (c.tunnel) {  // the stream stays open for the tunnel's bytes
      st->tx_end = false;
      has_body = true;
    }
    if (!conn->open(st, fields, has_body)) {
      // Full or going away since find(): another connection, same attempt.
      if (++refused_retries > kMaxRefusedRetries) {
        c.last_status = 503;
        c.last_code = "upstream_refused";
        c.last_detail = "upstream " + tcfg.address + " takes no more streams";
        unsafe = true;
        continue;
      }
      tried.set(static_cast<size_t>(target), false);
      --attempt;
      continue;
    }
    c.conn = conn;
    c.st = st;
    if (!c.buffered && !c.pump_running) {
      if (head.expect_continue &&
          !co_await s.write_all(s.stream_, s.deadline_, "HTTP/1.1 100 Continue\r\n\r\n", {},
                                snap.config.server.http.client_idle_timeout_ms)) {
        co_return false;
      }
      c.pump_running = true;
      asio::co_spawn(s.worker_.ioc(), pump_body(s, ex, c, conn, st), asio::detached);
    }

    // ---- response head
    int64_t now_ms = steady_ms();
    int64_t head_deadline = 0;
    if (ucfg.retries.per_try_timeout_ms > 0) head_deadline = now_ms + ucfg.retries.per_try_timeout_ms;
    if (c.deadline_ms && (!head_deadline || c.deadline_ms < head_deadline)) head_deadline = c.deadline_ms;
    if (!head_deadline) head_deadline = now_ms + std::max<int64_t>(to.idle_ms, 1);
    bool timed_out = false;
    while (!st->head_ready && !st->closed && !c.down_failed && c.bad_body.empty()) {
      if (!co_await st->rx_wake.wait(head_deadline)) {
        timed_out = true;
        break;
      }
    }
    if (c.down_failed) {
      ex.status = 499;
      ex.error = "client_aborted";
      s.closing_ = true;
      co_return false;
    }
    if (!c.bad_body.empty()) {
      if (c.bad_body == "body_too_large")
        co_return co_await s.send_error(&ex, 413, c.bad_body, "request body exceeds the route's limit",
                                        true);
      co_return co_await s.send_error(&ex, 400, c.bad_body, "invalid chunked request body", true);
    }
    auto took = std::chrono::microseconds(steady_us() - c.attempt_start_us);
    if (!st->head_ready) {
      ustats.failures.inc();
      wu.balancer->on_finish(target, took, false);
      if (timed_out) {
        ustats.timeouts.inc();
        record_outcome(us, target, false, true, steady_ms());
        c.last_status = 504;
        c.last_code = "upstream_timeout";
        c.last_detail = "upstream " + tcfg.address + " did not answer in time";
        if (!ex.idempotent) unsafe = true;  // it may have been processed
        continue;
      }
      if (st->refused) {
        // REFUSED_STREAM, or above a GOAWAY's last stream id: the peer
        // guarantees it did nothing with it (RFC 9113 8.7).
        c.last_status = 503;
        c.last_code = "upstream_refused";
        c.last_detail = "upstream " + tcfg.address + " refused the stream";
        if (c.buffered && refused_retries < kMaxRefusedRetries) {
          ++refused_retries;
          tried.set(static_cast<size_t>(target), false);
          --attempt;
        }
        continue;
      }
      record_outcome(us, target, false, true, steady_ms());
      c.last_status = 502;
      c.last_code = "upstream_reset";
      c.last_detail = "upstream " + tcfg.address + " reset the stream (HTTP/2 error " +
                      std::to_string(st->error_code) + ")";
      if (!ex.idempotent) unsafe = true;
      continue;
    }
    bool server_error = st->status >= 500;
    record_outcome(us, target, false, server_error, steady_ms());
    wu.balancer->on_finish(target, took, !server_error);
    // Retries on an answer: an HTTP status for idempotent requests, a gRPC
    // status (trailers-only, so nothing of it reached the client) for gRPC.
    const bool trailers_only = st->rx_end && st->rx.empty();
    int grpc_status = -1;
    if (c.grpc && trailers_only) {
      std::string gs(find_field(st->headers, "grpc-status"));
      grpc_status = grpc::parse_status(gs.empty() ? nullptr : &gs);
    }
    const auto& rt = ucfg.retries;
    bool retry_status = ex.idempotent && std::find(rt.on_statuses.begin(), rt.on_statuses.end(),
                                                   st->status) != rt.on_statuses.end();
    bool retry_grpc = grpc_status > 0 && std::find(rt.on_grpc_statuses.begin(),
                                                   rt.on_grpc_statuses.end(),
                                                   grpc_status) != rt.on_grpc_statuses.end();
    promote_captured();
    if (c.buffered && attempt + 1 < max_attempts && (retry_status || retry_grpc)) {
      c.last_status = retry_grpc ? 503 : st->status;
      c.last_code = retry_grpc ? "upstream_grpc_status" : "upstream_status";
      c.last_detail = retry_grpc ? "upstream answered grpc-status " + std::to_string(grpc_status)
                                 : "upstream answered " + std::to_string(st->status);
      continue;
    }
    break;
  }
  retry_count.release();
  in_flight.release();
  // The replayed body came from the read buffer; it is done with now.
  if (c.replay_consume && !body_owned) s.buf_.consume(c.replay_consume);
  // Two statements, not `?:` with a co_await in each arm: GCC 12 miscompiles
  // that (the transcoding arm ran with c.tc null).
  if (c.tc) co_return co_await transcode_respond(s, ex, c);
  if (c.tunnel && c.st->status / 100 == 2) co_return co_await tunnel(s, ex, c);
  co_return co_await respond(s, ex, c);
}

awaitable<void> H2Forward::pump_body(Session& s, Exchange& ex, Call& c,
                                     std::shared_ptr<H2ClientConn> conn,
                                     std::shared_ptr<H2Stream> st) {
  const http1::RequestHead& head = *ex.head;
  const int64_t idle = ex.snap->config.server.http.client_idle_timeout_ms;
  uint64_t max_body = 0;
  if (auto it = ex.pctx.vars.find("max_body"); it != ex.pctx.vars.end())
    max_body = std::strtoull(it->second.c_str(), nullptr, 10);
  http1::ChunkedDecoder dec;
  dec.keep_trailers();
  uint64_t remaining = head.content_length;
  const bool chunked = head.body == http1::BodyKind::kChunked;
  for (;;) {
    if (c.pump_stop || st->closed) break;
    if (!chunked && remaining == 0) {
      c.capture_complete = c.capture;
      st->tx_end = true;
      conn->resume(*st);
      break;
    }
    if (s.buf_.empty()) {
      s.deadline_.arm(s.worker_.deadlines(), &s.stream_.socket(), steady_ms() + idle);
      if (!co_await s.read_some()) {
        if (!c.pump_stop) c.down_failed = true;
        break;
      }
      if (c.pump_stop || st->closed) break;
    }
    if (chunked) {
      auto out = dec.feed(s.buf_.view());
      if (out.error) {
        c.bad_body = out.error_code.empty() ? "bad_chunked_body" : std::string(out.error_code);
        break;
      }
      for (auto d : out.data) {
        st->tx.append(d);
        ex.bytes_in += d.size();
        c.keep(d);
      }
      s.buf_.consume(out.consumed);
      if (max_body && ex.bytes_in > max_body) {
        c.bad_body = "body_too_large";
        break;
      }
      if (out.done) {
        st->tx_trailers = to_h2_trailers(dec.trailers());
        if (c.capture) c.captured_trailers = st->tx_trailers;
        c.capture_complete = c.capture;
        st->tx_end = true;
        conn->resume(*st);
        break;
      }
    } else {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, s.buf_.size()));
      st->tx.append(s.buf_.view().substr(0, take));
      c.keep(s.buf_.view().substr(0, take));
      s.buf_.consume(take);
      remaining -= take;
      ex.bytes_in += take;
    }
    conn->resume(*st);
    while (!c.pump_stop && !st->closed && st->tx_queued() >= kTxHighWater)
      co_await st->tx_wake.wait(0);
  }
  s.deadline_.disarm();
  if (c.down_failed || !c.bad_body.empty()) {
    conn->abandon(*st);
    st->rx_wake.notify();
  }
  c.pump_done = true;
  c.pump_wake.notify();
}

awaitable<bool> H2Forward::respond(Session& s, Exchange& ex, Call& c) {
  const http1::RequestHead& head = *ex.head;
  H2Stream& st = *c.st;
  H2ClientConn& conn = *c.conn;
  const config::TimeoutsConfig& to = *c.to;

  http1::ResponseHead resp;
  resp.status = st.status;
  resp.reason = reason_phrase(st.status);
  const std::string* cl = nullptr;
  for (auto& f : st.headers) {
    resp.headers.push_back({f.name, f.value});
  }
  cl = resp.find("content-length");
  const bool no_body = ex.method_head || st.status == 204 || st.status == 304;
  if (no_body) {
    resp.body = http1::BodyKind::kNone;
  } else if (st.rx_end && st.rx.empty() && !cl) {
    // Ended with its headers (a gRPC trailers-only answer): an explicit
    // empty body, so HTTP/1.1 framing does not read it as until-close.
    resp.body = http1::BodyKind::kContentLength;
    resp.headers.push_back({"content-length", "0"});
    // Headers, then trailers with no DATA between (a stream of no
    // messages) both arrived before this: one head carries them all, as a
    // trailers-only answer would, or the status would be lost.
    for (const auto& f : st.trailers) resp.headers.push_back({f.name, f.value});
  } else if (cl) {
    char* end = nullptr;
    resp.content_length = std::strtoull(cl->c_str(), &end, 10);
    resp.body = http1::BodyKind::kContentLength;
  } else {
    resp.body = http1::BodyKind::kChunked;
  }
  // gRPC-Web: the status travels in the body (a trailer frame), so the body
  // is chunked whatever its length, except for trailers-only answers.
  const std::string* uct = resp.find("content-type");
  const bool web = c.web && !no_body && uct && grpc::is_grpc(*uct);
  const bool web_trailers_only = web && st.rx_end && st.rx.empty();
  if (web) web_response_head(c.web_text, c.web_kind, web_trailers_only, resp);
  if (c.web && web_cors(ex))
    for (auto& h : grpc_web::cors_response_headers(head)) resp.headers.push_back(std::move(h));
  if (c.grpc) ex.grpc_status = grpc::parse_status(resp.find("grpc-status"));
  ex.status = resp.status;
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response(ex.pctx, resp.status, resp.headers);
  });
  for (auto& h : ex.pctx.response_headers) resp.headers.push_back(std::move(h));
  ex.pctx.response_headers.clear();

  const bool client11 = head.version_minor >= 1;
  const int framing = resp.body == http1::BodyKind::kChunked ? (client11 ? 1 : 2) : 0;
  const bool close_down = !head.keep_alive || s.worker_.draining() || framing == 2;
  std::string dhead = build_downstream_head(resp, head.version_minor, framing, close_down,
                                            ex.request_id, framing == 0);
  const bool trailers_ok = framing == 1 && accepts_trailers(head);

  // Downstream writes get their own deadline: the pump arms the session's
  // for its reads of the same connection.
  net::Deadline wdl;
  const int64_t idle = to.idle_ms > 0 ? to.idle_ms : 60'000;
  const int64_t stream_idle = to.stream_idle_ms > 0 ? to.stream_idle_ms : idle;
  int64_t stream_end = to.stream_total_ms > 0 ? steady_ms() + to.stream_total_ms : 0;
  if (c.grpc_deadline_ms && (!stream_end || c.grpc_deadline_ms < stream_end))
    stream_end = c.grpc_deadline_ms;
  bool head_sent = false, ok_down = true, up_failed = false, timed_out = false;
  for (;;) {
    if (!head_sent || !st.rx.empty()) {
      // Taken out of the stream: the connection's reader appends to st.rx
      // while this write is in flight.
      std::string data;
      data.swap(st.rx);
      const size_t raw = data.size();  // flow control counts what the upstream sent
      if (web && c.web_text && !data.empty()) data = grpc_web::base64_encode(data);
      std::string line;
      std::vector<asio::const_buffer> bufs;
      if (!head_sent) bufs.push_back(asio::buffer(dhead));
      if (!data.empty() && !no_body) {
        if (framing == 1) bufs.push_back(asio::buffer(line = chunk_line(data.size())));
        bufs.push_back(asio::buffer(data));
        if (framing == 1) bufs.push_back(asio::buffer("\r\n", 2));
      }
      wdl.arm(s.worker_.deadlines(), &s.stream_.socket(), steady_ms() + idle);
      auto [wec, wn] = co_await asio::async_write(s.stream_, bufs, use_nothrow);
      wdl.disarm();
      if (wec) {
        ok_down = false;
        break;
      }
      head_sent = true;
      ex.bytes_out += data.size();
      conn.consume(st, raw);
      if (ex.first_byte_us < 0) ex.first_byte_us = steady_us() - ex.start_us;
    }
    if (st.rx_end && st.rx.empty()) break;
    if (st.closed && st.rx.empty()) {
      up_failed = true;
      break;
    }
    if (c.down_failed) {
      ok_down = false;
      break;
    }
    int64_t at = steady_ms() + stream_idle;
    if (stream_end && stream_end < at) at = stream_end;
    if (!co_await st.rx_wake.wait(at)) {
      timed_out = true;
      break;
    }
  }
  wdl.unlink();
  if (!ok_down) {
    ex.error = "client_aborted";
    s.closing_ = true;
    co_return false;
  }
  if (!up_failed && !timed_out) {
    // Complete: trailers go on as the chunked trailer section (the HTTP/2
    // bridge turns it into a trailing HEADERS frame).
    if (c.grpc && !st.trailers.empty()) {
      std::string gs(find_field(st.trailers, "grpc-status"));
      if (!gs.empty()) ex.grpc_status = grpc::parse_status(&gs);
    }
    if (web && !web_trailers_only) {
      // The trailers become the body's last frame: browsers cannot read
      // HTTP trailers. An upstream that sent none broke the gRPC contract.
      std::vector<http1::Header> tr;
      for (const auto& f : st.trailers) tr.push_back({f.name, f.value});
      if (find_field(st.trailers, "grpc-status").empty()) {
        ex.grpc_status = grpc::kInternal;
        tr.push_back({"grpc-status", std::to_string(grpc::kInternal)});
        tr.push_back({"grpc-message", "upstream ended the call without grpc-status"});
      }
      if (!co_await s.write_all(s.stream_, wdl, web_trailer_frame(tr, c.web_text, framing), {}, idle)) {
        s.closing_ = true;
        co_return false;
      }
      wdl.unlink();
    } else if (framing == 1) {
      std::vector<http1::Header> tr;
      if (trailers_ok)
        for (const auto& f : st.trailers) tr.push_back({f.name, f.value});
      if (!co_await s.write_all(s.stream_, wdl, last_chunk(tr), {}, idle)) {
        s.closing_ = true;
        co_return false;
      }
      wdl.unlink();
    }
    if (close_down) s.closing_ = true;
    co_return !close_down;
  }
  // Cut short. A gRPC client that takes trailers gets a status rather than
  // a truncated stream: DEADLINE_EXCEEDED or UNAVAILABLE.
  conn.abandon(st);
  wdl.unlink();
  c.wu->stats->failures.inc();
  const bool deadline = timed_out && c.grpc_deadline_ms && steady_ms() >= c.grpc_deadline_ms;
  ex.error = up_failed ? "upstream_body_aborted"
             : deadline ? "grpc_deadline_exceeded"
             : stream_end && steady_ms() >= stream_end ? "stream_total_timeout"
                                                       : "stream_idle_timeout";
  if (timed_out) c.wu->stats->timeouts.inc();
  if (web && !web_trailers_only && framing != 0) {
    // gRPC-Web: the status as the body's trailer frame, then a clean end.
    int code = timed_out ? grpc::kDeadlineExceeded : grpc::kUnavailable;
    ex.grpc_status = code;
    std::vector<http1::Header> tr{
        {"grpc-status", std::to_string(code)},
        {"grpc-message", grpc::encode_message(up_failed ? "upstream reset the stream"
                                                        : "deadline exceeded at the gateway")}};
    bool ok = co_await s.write_all(s.stream_, wdl, web_trailer_frame(tr, c.web_text, framing), {}, idle);
    wdl.unlink();
    if (ok && !close_down) co_return true;
  } else if (c.grpc && trailers_ok) {
    int code = timed_out ? grpc::kDeadlineExceeded : grpc::kUnavailable;
    ex.grpc_status = code;
    std::vector<http1::Header> tr{
        {"grpc-status", std::to_string(code)},
        {"grpc-message", grpc::encode_message(up_failed ? "upstream reset the stream"
                                                        : "deadline exceeded at the gateway")}};
    bool ok = co_await s.write_all(s.stream_, wdl, last_chunk(tr), {}, idle);
    wdl.unlink();
    if (ok && !close_down) co_return true;
  }
  s.closing_ = true;  // the client got a truncated body: framing says so only by closing
  co_return false;
}

}  // namespace gatehouse::proxy
