// The upstream half of a request: pick a target, get a pooled or new
// connection, send the head and stream the body, read the response head
// (retrying when that is safe), then stream the response back.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/forward_util.hpp"
#include "net/tls/client.hpp"
#include "proxy/http_util.hpp"
#include "proxy/mirror.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace {

// Formats a chunk-size line into `out` (no allocation).
std::string_view chunk_line(std::array<char, 24>& out, size_t n) {
  int len = std::snprintf(out.data(), out.size(), "%zx\r\n", n);
  return {out.data(), static_cast<size_t>(len)};
}

}  // namespace

awaitable<bool> Session::forward(Exchange& ex) {
  const Snapshot& snap = *ex.snap;
  const RouteRuntime& rr = *ex.route;
  const config::RouteConfig& rc = *ex.match.route;
  // A traffic-split policy may have chosen another upstream for this request.
  int upstream_index = ex.pctx.upstream_override >= 0 ? ex.pctx.upstream_override : rr.upstream;
  auto wu = worker_.upstream_for(snap.upstreams[static_cast<size_t>(upstream_index)]);
  UpstreamShared& us = *wu->shared;
  const config::UpstreamConfig& ucfg = us.cfg;
  metrics::UpstreamShard& ustats = *wu->stats;
  const http1::RequestHead& head = *ex.head;
  const config::TimeoutsConfig& to = rr.timeouts;
  const auto& http_cfg = snap.config.server.http;
  const bool close_after_error = head.body != http1::BodyKind::kNone;
  if (ex.pctx.serve_stored && head.body == http1::BodyKind::kNone) co_return co_await serve_stored(ex);
  if (ucfg.protocol == config::UpstreamProtocol::kHttp2) co_return co_await H2Forward::run(*this, ex);

  // Circuit breaker: requests in flight for this upstream, node-wide.
  if (us.in_flight.fetch_add(1, std::memory_order_relaxed) >= ucfg.breaker.max_requests) {
    us.in_flight.fetch_sub(1, std::memory_order_relaxed);
    ustats.breaker_rejections.inc();
    co_return co_await send_error(&ex, 503, "upstream_overloaded",
                                  "upstream '" + ucfg.name + "' has too many requests in flight",
                                  close_after_error);
  }
  CounterGuard in_flight_guard(us.in_flight);

  std::string path = snap.router->rewrite_path(ex.match, ex.target.path);
  const std::string& query = ex.pctx.query_overridden ? ex.pctx.query_override : ex.target.query;
  if (!query.empty()) {
    path += '?';
    path += query;
  }

  // Bodies already complete in our read buffer can be replayed on retry.
  bool buffered = head.body == http1::BodyKind::kNone ||
                  (head.body == http1::BodyKind::kContentLength &&
                   head.content_length <= buf_.size());
  std::string_view buffered_body =
      head.body == http1::BodyKind::kContentLength && buffered
          ? buf_.view().substr(0, static_cast<size_t>(head.content_length))
          : std::string_view{};
  // A policy editing the whole body (JSON transforms) reads it first; it is
  // then ours, sent with a Content-Length and replayable.
  std::string owned_body;
  BodyStep body_step;
  if (uint64_t want = request_body_want(ex))
    body_step = co_await buffer_request_body(ex, owned_body, want);
  if (body_step.kind == BodyStep::kAnswered) co_return body_step.keep;
  const bool body_owned = body_step.kind == BodyStep::kBuffered;
  if (body_owned) {
    buffered = true;
    buffered_body = owned_body;
  }

  ForwardOptions fo;
  fo.method = head.method;
  fo.path_and_query = path;
  fo.client_ip = client_ip_;
  fo.original_host = ex.original_host;
  fo.request_id = ex.request_id;
  fo.trust_forwarded = snap.config.server.trust_forwarded;
  fo.https = tls_info_ != nullptr;
  // WebSocket (RFC 6455 4.1): a GET asking to upgrade to websocket keeps its
  // Connection: Upgrade / Upgrade headers; any other upgrade (h2c, ...) is
  // dropped as hop-by-hop like before.
  const std::string* upgrade_to = head.upgrade ? head.find("upgrade") : nullptr;
  const bool websocket = upgrade_to && head.method == "GET" && iequals(*upgrade_to, "websocket");
  if (websocket) fo.upgrade = *upgrade_to;
  fo.chunked = head.body == http1::BodyKind::kChunked && !body_owned;
  fo.has_length = head.body == http1::BodyKind::kContentLength || body_owned;
  fo.content_length = body_owned ? owned_body.size() : head.content_length;

  std::string hash_key;
  if (ucfg.balancer.kind == config::BalancerKind::kConsistentHash)
    hash_key = hash_key_for(ucfg.balancer, ex, client_ip_);

  // Shadow copy (proxy-mirror): only requests whose body is already in
  // memory are mirrored, so mirroring never holds back a streamed upload.
  if (ex.pctx.mirror_upstream >= 0 && buffered) {
    auto mwu = worker_.upstream_for(snap.upstreams[static_cast<size_t>(ex.pctx.mirror_upstream)]);
    ForwardOptions mo = fo;
    mo.upstream_host = "";
    std::string mhead = build_upstream_head(head, mo);
    size_t host_line = mhead.find("\r\nHost: \r\n");
    if (host_line != std::string::npos) mhead.erase(host_line + 2, 8);
    spawn_mirror(worker_, std::move(mwu), std::move(mhead), std::string(buffered_body));
  }

  // timeouts.request counts from the start of the request (docs/proxy.md).
  const int64_t start_ms = ex.start_us / 1000;
  const int64_t request_deadline = to.request_ms > 0 ? start_ms + to.request_ms : 0;
  const int max_attempts = 1 + std::max(0, ucfg.retries.attempts);
  TargetSet tried(ucfg.targets.size());
  constexpr int kMaxStaleRetries = 2;
  int stale_retries = 0;
  bool sent_continue = false;
  bool body_streamed = false;  // non-replayable body bytes went upstream
  int last_status = 502;
  // Literals and an empty detail until an attempt fails: strings built up
  // front for the error path cost a proxied request two allocations.
  std::string_view last_code = "upstream_unavailable";
  std::string last_detail;

  ReadBuffer ubuf(worker_);
  std::unique_ptr<UpstreamConn> conn;
  auto resp_lease = worker_.response_heads().take();
  http1::ResponseHead& resp = *resp_lease;
  int target = -1;
  int64_t attempt_start_us = 0;
  CounterGuard retry_guard;

  for (int attempt = 0;; ++attempt) {
    if (conn) {
      conn->deadline.unlink();
      conn.reset();
      ustats.pool_active.add(-1);
    }
    if (attempt > 0) {
      // Retry only when safe and within the budget.
      bool budget_ok = true;
      int retries_now = us.retries_in_flight.load(std::memory_order_relaxed);
      int allowed = std::max(ucfg.retries.min_retry_concurrency,
                             static_cast<int>(ucfg.retries.budget_percent / 100.0 *
                                              us.in_flight.load(std::memory_order_relaxed)));
      if (retries_now >= allowed) budget_ok = false;
      if (attempt >= max_attempts || body_streamed || !budget_ok ||
          (request_deadline && steady_ms() >= request_deadline)) {
        if (last_detail.empty()) last_detail = "no upstream attempt was made";
        co_return co_await send_error(&ex, last_status, last_code, last_detail, close_after_error);
      }
      retry_guard.enter_once(us.retries_in_flight);
      ++ex.retries;
      ustats.retries.inc();
      int64_t backoff = std::min(ucfg.retries.backoff_max_ms,
                                 ucfg.retries.backoff_base_ms << std::min(attempt - 1, 10));
      if (backoff > 0) {
        // Full jitter keeps retry storms from synchronising.
        backoff = static_cast<int64_t>(worker_.rng()() % static_cast<uint64_t>(backoff + 1));
        asio::steady_timer t(worker_.ioc(), std::chrono::milliseconds(backoff));
        co_await t.async_wait(use_nothrow);
      }
      if (worker_.draining() && !stream_.is_open()) co_return false;
    }

    // Clock reads are reused where a few microseconds do not matter: each is
    // a vDSO call, and a proxied request made fifteen.
    attempt_start_us = steady_us();
    PickContext pc;
    pc.hash_key = hash_key;
    pc.now_ms = attempt_start_us / 1000;
    pc.exclude = &tried;
    target = wu->balancer->pick(pc);
    if (target < 0 && attempt > 0) {
      // Every target tried once: allow a second go at any of them.
      tried.clear();
      target = wu->balancer->pick(pc);
    }
    if (target < 0) {
      co_return co_await send_error(&ex, 503, "no_healthy_upstream",
                                    "upstream '" + ucfg.name + "' has no available target",
                                    close_after_error);
    }
    tried.set(static_cast<size_t>(target), true);
    const auto& tcfg = ucfg.targets[static_cast<size_t>(target)];
    auto& pool = wu->pools[static_cast<size_t>(target)];
    auto& tstate = *us.states[static_cast<size_t>(target)];
    ustats.requests.inc();

    // ---- connection: pooled or new
    // After one stale connection the rest of the pool is checked: a restarted
    // upstream leaves every pooled connection closed.
    conn = pool.take(pc.now_ms, buffered && ex.idempotent && stale_retries == 0);
    if (conn) {
      ex.connect_us = -1;
    } else {
      if (us.connections.load(std::memory_order_relaxed) >= ucfg.breaker.max_connections ||
          us.pending.load(std::memory_order_relaxed) >= ucfg.breaker.max_pending) {
        ustats.breaker_rejections.inc();
        co_return co_await send_error(&ex, 503, "upstream_overloaded",
                                      "upstream '" + ucfg.name + "' connection limit reached",
                                      close_after_error);
      }
      us.pending.fetch_add(1, std::memory_order_relaxed);
      CounterGuard pending_guard(us.pending);
      auto eps = us.addresses[static_cast<size_t>(target)]->endpoints.load();
      conn = std::make_unique<UpstreamConn>(worker_.ioc().get_executor());
      conn->target = target;
      int64_t connect_deadline = steady_ms() + to.connect_ms;
      if (request_deadline) connect_deadline = std::min(connect_deadline, request_deadline);
      boost::system::error_code cec = asio::error::host_not_found;
      for (const auto& ep : *eps) {
        conn->stream.socket() = tcp::socket(worker_.ioc());
        conn->deadline.reset_fired();
        conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), connect_deadline);
        auto [ec] = co_await conn->stream.socket().async_connect(ep, use_nothrow);
        cec = ec;
        if (!ec || conn->deadline.fired()) break;
      }
      conn->deadline.disarm();
      pending_guard.release();
      bool timed_out = conn->deadline.fired();
      if (cec || timed_out) {
        ustats.failures.inc();
        if (timed_out) ustats.timeouts.inc();
        record_outcome(us, target, true, false, steady_ms());
        wu->balancer->on_finish(target, std::chrono::microseconds(steady_us() - attempt_start_us),
                                false);
        last_status = timed_out ? 504 : 502;
        last_code = timed_out ? "upstream_connect_timeout" : "upstream_connect_failed";
        last_detail = "connecting to " + tcfg.address + " failed: " +
                      (timed_out ? std::string("timed out") : cec.message());
        ex.upstream_target = tcfg.address;
        conn.reset();
        continue;
      }
      us.connections.fetch_add(1, std::memory_order_relaxed);
      conn->live_counter = &us.connections;
      boost::system::error_code ec;
      conn->stream.socket().set_option(tcp::no_delay(true), ec);
      if (us.tls) {
        // TLS to the upstream, bounded by the same connect deadline. A
        // failed handshake (unverifiable certificate, wrong name) counts as
        // a connect failure of the target.
        auto& tls = conn->stream.start_tls(*us.tls);
        const std::string& name = ucfg.tls.sni.empty() ? tcfg.host : ucfg.tls.sni;
        boost::system::error_code hec = asio::error::invalid_argument;
        if (net::tls::prepare_client_ssl(tls.native_handle(), name, ucfg.tls.verify)) {
          conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), connect_deadline);
          std::tie(hec) = co_await tls.async_handshake(asio::ssl::stream_base::client, use_nothrow);
          conn->deadline.disarm();
        }
        if (hec) {
          bool tls_timed_out = conn->deadline.fired();
          ustats.failures.inc();
          if (tls_timed_out) ustats.timeouts.inc();
          record_outcome(us, target, true, false, steady_ms());
          wu->balancer->on_finish(target, std::chrono::microseconds(steady_us() - attempt_start_us),
                                  false);
          last_status = tls_timed_out ? 504 : 502;
          last_code = tls_timed_out ? "upstream_connect_timeout" : "upstream_tls_failed";
          last_detail = "TLS to " + tcfg.address + " (" + name + ") failed: " +
                        (tls_timed_out ? std::string("timed out") : hec.message());
          ex.upstream_target = tcfg.address;
          conn.reset();
          continue;
        }
      }
      ex.connect_us = steady_us() - attempt_start_us;
      ustats.connect_latency.observe_us(static_cast<uint64_t>(ex.connect_us));
    }
    ustats.pool_active.add(1);
    if (conn->peer.empty()) {
      // Once per connection: getpeername on every request showed in profiles.
      boost::system::error_code ec;
      auto rep = conn->stream.socket().remote_endpoint(ec);
      conn->peer = ec ? tcfg.address
                      : rep.address().to_string() + ":" + std::to_string(rep.port());
    }
    ex.upstream_target = conn->peer;
    wu->balancer->on_start(target);
    tstate.requests_in_flight.fetch_add(1, std::memory_order_relaxed);
    struct TargetDone {
      std::atomic<int>& c;
      ~TargetDone() { c.fetch_sub(1, std::memory_order_relaxed); }
    } target_done{tstate.requests_in_flight};

    // ---- request head (+ replayable body)
    // Every candidate outlives the attempt (the exchange, the snapshot's config).
    fo.upstream_host = !ex.pctx.upstream_host.empty() ? std::string_view(ex.pctx.upstream_host)
                       : !rc.rewrite.host.empty()     ? std::string_view(rc.rewrite.host)
                       : rc.rewrite.preserve_host     ? std::string_view(ex.original_host)
                                                      : std::string_view(tcfg.address);
    std::string uhead = build_upstream_head(head, fo);
    Written w = write_now(conn->stream, uhead, buffered_body);
    bool wrote = w.ok;
    if (!w.finished)
      wrote = co_await write_rest(conn->stream, conn->deadline, uhead, buffered_body, w.done,
                                  to.idle_ms);
    if (!wrote) {
      ustats.failures.inc();
      bool stale = conn->reused && !conn->deadline.fired();
      wu->balancer->on_finish(target, std::chrono::microseconds(0), false);
      last_status = 502;
      last_code = "upstream_write_failed";
      last_detail = "sending the request to " + tcfg.address + " failed";
      if (stale && stale_retries < kMaxStaleRetries) {
        // A pooled connection closed under us: not the target's fault, and
        // the request never arrived. Go again on a fresh connection.
        ++stale_retries;
        tried.set(static_cast<size_t>(target), false);
        --attempt;
      }
      continue;
    }

    // ---- streamed request body
    if (!buffered) {
      if (head.expect_continue && !sent_continue) {
        sent_continue = true;
        if (!co_await write_all(stream_, deadline_, "HTTP/1.1 100 Continue\r\n\r\n", {},
                                http_cfg.client_idle_timeout_ms)) {
          co_return false;
        }
      }
      body_streamed = true;
      bool down_ok = true, up_ok = true, bad_body = false;
      std::string bad_code;
      if (head.body == http1::BodyKind::kContentLength) {
        uint64_t remaining = head.content_length;
        // Whatever arrived with the head goes first; a large rest moves
        // kernel to kernel like large response bodies.
        if (!buf_.empty() && remaining > 0) {
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, buf_.size()));
          up_ok = co_await write_all(conn->stream, conn->deadline, buf_.view().substr(0, take), {},
                                     to.idle_ms);
          buf_.consume(take);
          remaining -= take;
          ex.bytes_in += take;
        }
        if (up_ok && remaining > 0 && buf_.empty() && http_cfg.splice_threshold > 0 &&
            stream_.plain_tcp() && conn->stream.plain_tcp() &&
            remaining >= http_cfg.splice_threshold) {
          net::Pipe pipe = worker_.pipes().take();
          if (pipe.valid()) {
            auto r = co_await net::splice_relay(stream_.socket(), deadline_, conn->stream.socket(), conn->deadline,
                                                worker_.deadlines(), remaining,
                                                http_cfg.client_idle_timeout_ms, pipe, to.idle_ms);
            remaining -= r.moved;
            ex.bytes_in += r.moved;
            down_ok = r.in_ok;
            up_ok = r.out_ok;
            if (r.pipe_clean) worker_.pipes().put(std::move(pipe));
          }
        }
        while (up_ok && down_ok && remaining > 0) {
          if (buf_.empty()) {
            deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + http_cfg.client_idle_timeout_ms);
            if (!co_await read_some()) { down_ok = false; break; }
          }
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, buf_.size()));
          if (!co_await write_all(conn->stream, conn->deadline, buf_.view().substr(0, take), {},
                                  to.idle_ms)) {
            up_ok = false;
            break;
          }
          buf_.consume(take);
          remaining -= take;
          ex.bytes_in += take;
        }
      } else {  // chunked: decode and re-encode, so no extension or odd framing leaks upstream
        // A size limit set by a policy (request-size-limit) is enforced while
        // streaming, since a chunked body announces no length.
        uint64_t max_body = 0;
        if (auto it = ex.pctx.vars.find("max_body"); it != ex.pctx.vars.end())
          max_body = std::strtoull(it->second.c_str(), nullptr, 10);
        http1::ChunkedDecoder dec;
        dec.keep_trailers();  // request trailers go upstream (forbidden ones dropped)
        std::string last;
        for (;;) {
          if (buf_.empty()) {
            deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + http_cfg.client_idle_timeout_ms);
            if (!co_await read_some()) { down_ok = false; break; }
          }
          auto out = dec.feed(buf_.view());
          if (out.error) {
            bad_body = true;
            bad_code = out.error_code.empty() ? "bad_chunked_body" : out.error_code;
            break;
          }
          std::vector<asio::const_buffer> bufs;
          std::vector<std::array<char, 24>> lines(out.data.size());
          for (size_t i = 0; i < out.data.size(); ++i) {
            if (out.data[i].empty()) continue;
            bufs.push_back(asio::buffer(chunk_line(lines[i], out.data[i].size())));
            bufs.push_back(asio::buffer(out.data[i].data(), out.data[i].size()));
            bufs.push_back(asio::buffer("\r\n", 2));
            ex.bytes_in += out.data[i].size();
          }
          if (max_body && ex.bytes_in > max_body) {
            bad_body = true;
            bad_code = "body_too_large";
            break;
          }
          if (out.done) bufs.push_back(asio::buffer(last = last_chunk(dec.trailers())));
          if (!bufs.empty()) {
            conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), steady_ms() + to.idle_ms);
            if (co_await net::write_all(conn->stream, bufs)) { up_ok = false; break; }
          }
          buf_.consume(out.consumed);
          if (out.done) break;
        }
      }
      deadline_.disarm();
      if (!down_ok) {
        ex.status = 499;  // client closed request (nginx's convention)
        ex.error = "client_aborted";
        closing_ = true;
        co_return false;
      }
      if (bad_body) {
        if (bad_code == "body_too_large")
          co_return co_await send_error(&ex, 413, bad_code, "request body exceeds the route's limit",
                                        true);
        co_return co_await send_error(&ex, 400, bad_code, "invalid chunked request body", true);
      }
      if (!up_ok) {
        ustats.failures.inc();
        co_return co_await send_error(&ex, 502, "upstream_write_failed",
                                      "upstream closed while receiving the request body", true);
      }
    } else {
      ex.bytes_in = buffered_body.size();
    }

    // ---- response head
    int64_t head_deadline = 0;
    // The head's time counts from when the request is sent; a request without
    // a streamed body went out just now.
    int64_t now_ms = body_streamed ? steady_ms() : attempt_start_us / 1000;
    if (ucfg.retries.per_try_timeout_ms > 0) head_deadline = now_ms + ucfg.retries.per_try_timeout_ms;
    if (request_deadline && (!head_deadline || request_deadline < head_deadline))
      head_deadline = request_deadline;
    if (!head_deadline) head_deadline = now_ms + std::max<int64_t>(to.idle_ms, 1);
    conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), head_deadline);
    http1::ParseError perr;
    bool got_head = false, timed_out = false, bad_head = false;
    size_t received = 0;
    for (;;) {
      if (!ubuf.empty()) {
        auto st = http1::parse_response_head(ubuf.view(), snap.limits, head.method, resp, perr);
        if (st == http1::ParseStatus::kError) { bad_head = true; break; }
        if (st == http1::ParseStatus::kComplete) {
          if (resp.status == 101 && websocket) {
            got_head = true;  // the upgrade was asked for: the exchange turns into a relay
            break;
          }
          if (resp.status >= 100 && resp.status < 200) {
            // Interim responses: 100 is ours to send (already handled); 103
            // goes to HTTP/1.1 clients; 101 was not asked for (no upgrade
            // was forwarded), so it is a broken answer.
            bool forward_it = resp.status == 103 && head.version_minor >= 1;
            // The same field rules as a final head: hop-by-hop fields (and
            // those Connection names) stay here, Via is added.
            std::string hints = forward_it ? build_downstream_head(resp, head.version_minor, 0, false,
                                                                   ex.request_id, false)
                                           : std::string();
            ubuf.consume(resp.head_bytes);
            if (forward_it && !co_await write_all(stream_, deadline_, hints, {}, to.idle_ms))
              co_return false;
            if (resp.status == 101) {
              perr.message = "101 Switching Protocols to a request that asked for no upgrade";
              bad_head = true;
              break;
            }
            continue;
          }
          got_head = true;
          break;
        }
      }
      if (!ubuf.prepare(snap.limits.max_header_bytes + 1)) { bad_head = true; break; }
      auto [ec, n] = co_await net::read_after_ready_work(conn->stream, ubuf.writable(), nullptr,
                                                           &worker_.upstream_reads(), use_nothrow);
      if (ec || n == 0) {
        timed_out = conn->deadline.fired();
        break;
      }
      if (received == 0) ex.first_byte_us = steady_us() - ex.start_us;
      received += n;
      ubuf.commit(n);
    }
    if (!got_head) {
      ustats.failures.inc();
      wu->balancer->on_finish(target, std::chrono::microseconds(steady_us() - attempt_start_us),
                              false);
      while (!ubuf.empty()) ubuf.consume(ubuf.size());
      if (timed_out) {
        ustats.timeouts.inc();
        record_outcome(us, target, false, true, steady_ms());
        last_status = 504;
        last_code = "upstream_timeout";
        last_detail = "upstream " + tcfg.address + " did not answer in time";
        // A timed-out non-idempotent request may have been processed.
        if (!ex.idempotent) body_streamed = true;
        continue;
      }
      if (bad_head) {
        record_outcome(us, target, false, true, steady_ms());
        last_status = 502;
        last_code = "upstream_bad_response";
        last_detail = "upstream " + tcfg.address + " sent an invalid response: " + perr.message;
        body_streamed = true;  // do not replay a request the upstream may have acted on
        continue;
      }
      // Closed or reset without a response. On a reused connection with
      // nothing received the upstream most likely closed the idle connection
      // as we sent; but it may also have read the request and acted on it, so
      // only idempotent requests go again (as Go's transport does).
      bool stale = conn->reused && received == 0;
      last_status = 502;
      last_code = "upstream_reset";
      last_detail = "upstream " + tcfg.address + " closed the connection without a response";
      if (stale && buffered && ex.idempotent && stale_retries < kMaxStaleRetries) {
        ++stale_retries;
        tried.set(static_cast<size_t>(target), false);
        --attempt;
        continue;
      }
      record_outcome(us, target, false, true, steady_ms());
      if (!ex.idempotent) body_streamed = true;
      continue;
    }

    // A retryable status on a replayable, idempotent request goes again.
    bool server_error = resp.status >= 500;
    const int64_t answered_us = steady_us();
    record_outcome(us, target, false, server_error, answered_us / 1000);
    wu->balancer->on_finish(target, std::chrono::microseconds(answered_us - attempt_start_us),
                            !server_error);
    if (ex.idempotent && buffered && attempt + 1 < max_attempts &&
        std::find(ucfg.retries.on_statuses.begin(), ucfg.retries.on_statuses.end(),
                  resp.status) != ucfg.retries.on_statuses.end()) {
      last_status = resp.status;
      last_code = "upstream_status";
      last_detail = "upstream answered " + std::to_string(resp.status);
      // The connection carries an unread body: close rather than drain.
      while (!ubuf.empty()) ubuf.consume(ubuf.size());
      continue;
    }
    break;
  }
  retry_guard.release();
  in_flight_guard.release();
  if (resp.status == 101) co_return co_await relay_upgraded(ex, *conn, ubuf, resp, ustats, to.idle_ms);
  ubuf.consume(resp.head_bytes);
  // The replayable body was kept in the read buffer for retries; it is done
  // with now, and must not be read as the next request.
  if (!buffered_body.empty() && !body_owned) buf_.consume(buffered_body.size());

  // ---- response to the client
  ex.status = resp.status;
  // Where the headers policies asked for start in resp.headers: a 502 sent
  // instead of this response carries them too (CORS grants, RateLimit-*).
  size_t policy_headers_at = 0;
  {
    // Response hooks run in reverse order (the first policy has the final say).
    for_each_policy_run(ex, true, [&](const policy::Policy& p) {
      p.on_response(ex.pctx, resp.status, resp.headers);
    });
    policy_headers_at = resp.headers.size();
    for (auto& h : ex.pctx.response_headers) resp.headers.push_back(std::move(h));
    ex.pctx.response_headers.clear();
  }
  const bool client11 = head.version_minor >= 1;
  int framing = 0;
  bool keep_cl = true;
  switch (resp.body) {
    case http1::BodyKind::kNone:
    case http1::BodyKind::kContentLength: framing = 0; break;
    case http1::BodyKind::kChunked:
    case http1::BodyKind::kUntilClose:
      framing = client11 ? 1 : 2;
      keep_cl = false;
      break;
  }
  bool close_down = !head.keep_alive || worker_.draining() || framing == 2;
  std::string dhead =
      build_downstream_head(resp, head.version_minor, framing, close_down, ex.request_id, keep_cl);

  bool up_reusable = resp.keep_alive && !worker_.draining();
  bool ok_down = true, ok_up = true;
  // A chunked body that is malformed in the bytes that came with the head is
  // found before anything went to the client: it gets a 502, not a closed connection.
  std::string early_body_error;
  int64_t idle = to.idle_ms > 0 ? to.idle_ms : 60'000;
  // Route stream limits (SSE, long downloads) count from the response head.
  const int64_t stream_idle = to.stream_idle_ms > 0 ? to.stream_idle_ms : idle;
  const int64_t stream_end = to.stream_total_ms > 0 ? steady_ms() + to.stream_total_ms : 0;
  auto body_deadline = [&] {
    int64_t at = steady_ms() + stream_idle;
    return stream_end && stream_end < at ? stream_end : at;
  };

  // Whole-body edits (response-transformer `body`): bounded buffering.
  ResponseBodyStep rbody;
  if (auto want = response_body_want(ex, resp); want.limit > 0)
    rbody = co_await transform_response_body(ex, *conn, ubuf, resp, close_down, idle, want);
  if (rbody.kind == ResponseBodyStep::kTooLarge || rbody.kind == ResponseBodyStep::kUpstreamFailed) {
    conn->deadline.unlink();
    conn.reset();
    ustats.pool_active.add(-1);
    if (rbody.kind == ResponseBodyStep::kUpstreamFailed) ustats.failures.inc();
    co_return co_await send_error(&ex, 502,
                                  rbody.kind == ResponseBodyStep::kTooLarge
                                      ? "response_body_too_large" : "upstream_body_aborted",
                                  rbody.kind == ResponseBodyStep::kTooLarge
                                      ? "the upstream's response body exceeds the route's transform limit"
                                      : "the upstream response body was cut or malformed",
                                  !head.keep_alive);
  }
  if (rbody.kind == ResponseBodyStep::kSent) {
    ok_down = rbody.ok_down;
    up_reusable = up_reusable && rbody.up_reusable;
  } else if (resp.body == http1::BodyKind::kNone) {
    Written w = write_now(stream_, dhead);
    ok_down = w.ok;
    if (!w.finished) ok_down = co_await write_rest(stream_, deadline_, dhead, {}, w.done, idle);
    if (!ubuf.empty()) up_reusable = false;  // bytes after a body-less response
  } else if (resp.body == http1::BodyKind::kContentLength) {
    uint64_t remaining = resp.content_length;
    size_t first = static_cast<size_t>(std::min<uint64_t>(remaining, ubuf.size()));
    std::string_view part = ubuf.view().substr(0, first);
    Written w = write_now(stream_, dhead, part);
    ok_down = w.ok;
    if (!w.finished) ok_down = co_await write_rest(stream_, deadline_, dhead, part, w.done, idle);
    ubuf.consume(first);
    remaining -= first;
    ex.bytes_out += first;
    if (ok_down && remaining > 0 && http_cfg.splice_threshold > 0 && stream_.plain_tcp() &&
        conn->stream.plain_tcp() &&
        remaining >= http_cfg.splice_threshold && ubuf.empty() && !stream_end) {
      net::Pipe pipe = worker_.pipes().take();
      if (pipe.valid()) {
        auto r = co_await net::splice_relay(conn->stream.socket(), conn->deadline, stream_.socket(), deadline_,
                                            worker_.deadlines(), remaining, stream_idle, pipe);
        remaining -= r.moved;
        ex.bytes_out += r.moved;
        ok_up = r.in_ok;
        ok_down = r.out_ok;
        if (r.pipe_clean) worker_.pipes().put(std::move(pipe));
      }
    }
    while (ok_down && ok_up && remaining > 0) {
      ubuf.prepare(net::Worker::kIoBufferSize);
      conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), body_deadline());
      auto [ec, n] = co_await conn->stream.async_read_some(ubuf.writable(), use_nothrow);
      if (ec || n == 0) { ok_up = false; break; }
      ubuf.commit(n);
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, ubuf.size()));
      ok_down = co_await write_all(stream_, deadline_, ubuf.view().substr(0, take), {}, idle);
      ubuf.consume(take);
      remaining -= take;
      ex.bytes_out += take;
    }
    if (!ubuf.empty()) up_reusable = false;
  } else if (resp.body == http1::BodyKind::kChunked) {
    http1::ChunkedDecoder dec;
    if (framing == 1 && accepts_trailers(head)) dec.keep_trailers();
    std::string last;
    bool head_sent = false;
    for (;;) {
      auto out = dec.feed(ubuf.view());
      if (out.error) {
        ok_up = false;
        if (!head_sent) early_body_error = out.error_code;
        break;
      }
      std::vector<asio::const_buffer> bufs;
      std::vector<std::array<char, 24>> lines(out.data.size());
      if (!head_sent) bufs.push_back(asio::buffer(dhead));
      for (size_t i = 0; i < out.data.size(); ++i) {
        if (out.data[i].empty()) continue;
        if (framing == 1) bufs.push_back(asio::buffer(chunk_line(lines[i], out.data[i].size())));
        bufs.push_back(asio::buffer(out.data[i].data(), out.data[i].size()));
        if (framing == 1) bufs.push_back(asio::buffer("\r\n", 2));
        ex.bytes_out += out.data[i].size();
      }
      if (out.done && framing == 1) bufs.push_back(asio::buffer(last = last_chunk(dec.trailers())));
      if (!bufs.empty()) {
        deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + idle);
        if (co_await net::write_all(stream_, bufs)) { ok_down = false; break; }
        head_sent = true;
      }
      ubuf.consume(out.consumed);
      if (out.done) break;
      ubuf.prepare(net::Worker::kIoBufferSize);
      conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), body_deadline());
      auto [ec, n] = co_await conn->stream.async_read_some(ubuf.writable(), use_nothrow);
      if (ec || n == 0) { ok_up = false; break; }
      ubuf.commit(n);
    }
    if (!ubuf.empty()) up_reusable = false;
  } else {  // until close
    up_reusable = false;
    bool head_sent = false;
    for (;;) {
      std::array<char, 24> line;
      std::vector<asio::const_buffer> bufs;
      if (!head_sent) bufs.push_back(asio::buffer(dhead));
      if (!ubuf.empty()) {
        if (framing == 1) bufs.push_back(asio::buffer(chunk_line(line, ubuf.size())));
        bufs.push_back(asio::buffer(ubuf.view().data(), ubuf.size()));
        if (framing == 1) bufs.push_back(asio::buffer("\r\n", 2));
        ex.bytes_out += ubuf.size();
      }
      if (!bufs.empty()) {
        deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + idle);
        if (co_await net::write_all(stream_, bufs)) { ok_down = false; break; }
        head_sent = true;
      }
      ubuf.consume(ubuf.size());
      ubuf.prepare(net::Worker::kIoBufferSize);
      conn->deadline.arm(worker_.deadlines(), &conn->stream.socket(), body_deadline());
      auto [ec, n] = co_await conn->stream.async_read_some(ubuf.writable(), use_nothrow);
      if (ec || n == 0) {
        if (conn->deadline.fired()) ok_up = false;
        break;
      }
      ubuf.commit(n);
    }
    if (ok_down && ok_up && framing == 1) {
      ok_down = co_await write_all(stream_, deadline_, "0\r\n\r\n", {}, idle);
    }
  }
  deadline_.disarm();
  while (!ubuf.empty()) ubuf.consume(ubuf.size());

  const bool stream_timed_out = !ok_up && conn->deadline.fired();
  // ---- return the upstream connection
  conn->deadline.disarm();
  ustats.pool_active.add(-1);
  ++conn->requests;
  int max_req = ucfg.pool.max_requests_per_connection;
  if (ok_up && ok_down && up_reusable && conn->stream.is_open() &&
      (max_req == 0 || conn->requests < static_cast<uint32_t>(max_req)) &&
      wu->pools[static_cast<size_t>(target)].size() <
          static_cast<size_t>(ucfg.pool.max_idle_per_target)) {
    conn->reused = false;
    wu->pools[static_cast<size_t>(target)].put(std::move(conn), steady_ms());
  } else {
    conn.reset();
  }
  if (!ok_up) {
    ustats.failures.inc();
    if (!early_body_error.empty()) {
      for (size_t i = policy_headers_at; i < resp.headers.size(); ++i)
        ex.pctx.response_headers.push_back(std::move(resp.headers[i]));
      co_return co_await send_error(&ex, 502, "upstream_bad_response",
                                    "upstream " + ex.upstream_target +
                                        " sent an invalid chunked body (" + early_body_error + ")",
                                    !head.keep_alive);
    }
    ex.error = !stream_timed_out                          ? "upstream_body_aborted"
               : stream_end && steady_ms() >= stream_end ? "stream_total_timeout"
                                                         : "stream_idle_timeout";
    if (stream_timed_out) ustats.timeouts.inc();
    closing_ = true;  // the client got a truncated body: framing says so only by closing
    co_return false;
  }
  if (!ok_down) {
    ex.error = "client_aborted";
    closing_ = true;
    co_return false;
  }
  if (close_down) closing_ = true;
  co_return !close_down;
}

}  // namespace gatehouse::proxy
