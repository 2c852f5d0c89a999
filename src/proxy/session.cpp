#include "proxy/session.hpp"

#include <charconv>
#include <tuple>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"
#include "mcp/server/auth.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/grpc.hpp"
#include "proxy/grpc_web.hpp"
#include "proxy/h2_connection.hpp"
#include "proxy/http_util.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

// ---------------------------------------------------------------- ReadBuffer

bool ReadBuffer::prepare(size_t max_cap) {
  if (!data_) {
    owned_ = worker_.get_buffer();
    data_ = owned_.get();
    cap_ = net::Worker::kIoBufferSize;
    begin_ = end_ = 0;
  }
  if (end_ < cap_) return true;
  if (begin_ > 0) {  // slide unread bytes to the front
    std::memmove(data_, data_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    return true;
  }
  if (cap_ >= max_cap) return false;
  size_t ncap = std::min(max_cap, cap_ * 2);
  auto bigger = net::allocate_io_buffer(ncap);
  std::memcpy(bigger.get(), data_, end_);
  if (cap_ == net::Worker::kIoBufferSize) worker_.put_buffer(std::move(owned_));
  owned_ = std::move(bigger);
  data_ = owned_.get();
  cap_ = ncap;
  return true;
}

void ReadBuffer::release() {
  if (!data_ || !empty()) return;
  if (cap_ == net::Worker::kIoBufferSize) worker_.put_buffer(std::move(owned_));
  owned_.reset();
  data_ = nullptr;
  cap_ = begin_ = end_ = 0;
}

// ------------------------------------------------------------------ Session

Session::Session(net::Worker& worker, tcp::socket sock)
    : worker_(worker), stream_(std::move(sock)), buf_(worker) {
  boost::system::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) client_ip_ = ep.address().to_string();
  stream_.socket().set_option(tcp::no_delay(true), ec);
  worker_.add_session(this);
  worker_.stats().active_connections.add(1);
}

Session::Session(net::Worker& worker, tcp::socket sock, std::string client_ip,
                 int64_t idle_since_ms)
    : worker_(worker),
      stream_(std::move(sock)),
      buf_(worker),
      client_ip_(std::move(client_ip)),
      idle_since_ms_(idle_since_ms) {
  first_request_ = false;  // it served HTTP/1.1 before it was parked
  worker_.add_session(this);
  worker_.stats().active_connections.add(1);
}

Session::Session(net::Worker& worker, net::DuplexEnd end, std::string client_ip,
                 std::shared_ptr<const net::tls::ConnectionInfo> tls)
    : worker_(worker),
      stream_(worker.ioc().get_executor(), std::move(end)),
      buf_(worker),
      client_ip_(std::move(client_ip)),
      tls_info_(std::move(tls)),
      protocol_("HTTP/2") {
  first_request_ = false;  // no preface sniffing inside a stream
  // A stream is not a connection: the HTTP/2 connection counts itself.
  worker_.add_session(this);
}

Session::Session(net::Worker& worker, tcp::socket sock,
                 std::shared_ptr<const net::tls::TlsServer> tls)
    : Session(worker, std::move(sock)) {
  tls_server_ = std::move(tls);
}

Session::~Session() {
  deadline_.unlink();
  worker_.remove_session(this);
  if (stream_.has_socket()) worker_.stats().active_connections.add(-1);
}

awaitable<bool> Session::read_some() {
  if (!buf_.prepare(buf_.capacity() ? buf_.capacity() : net::Worker::kIoBufferSize)) co_return false;
  auto [ec, n] = co_await stream_.async_read_some(buf_.writable(), use_nothrow);
  if (ec || n == 0) co_return false;
  buf_.commit(n);
  co_return true;
}

Session::Written Session::write_now(net::Stream& s, std::string_view a, std::string_view b) {
  std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                         asio::buffer(b.data(), b.size())};
  Written w;
  boost::system::error_code ec;
  w.finished = net::write_now(s, bufs, w.done, ec);
  w.ok = !ec;
  return w;
}

awaitable<bool> Session::write_rest(net::Stream& s, net::Deadline& d, std::string_view a,
                                    std::string_view b, size_t done, int64_t timeout_ms) {
  if (timeout_ms > 0) d.arm(worker_.deadlines(), &s.socket(), steady_ms() + timeout_ms);
  std::array<asio::const_buffer, 2> bufs{asio::buffer(a.data(), a.size()),
                                         asio::buffer(b.data(), b.size())};
  co_return !co_await net::write_rest(s, bufs, done);
}

awaitable<bool> Session::write_all(net::Stream& s, net::Deadline& d, std::string_view a,
                                   std::string_view b, int64_t timeout_ms) {
  // Most writes fit the socket buffer and finish without a trip through the
  // handler queue (net/stream.hpp, try_write_some); the deadline is armed
  // only for a write that has to wait.
  Written w = write_now(s, a, b);
  if (w.finished) co_return w.ok;
  co_return co_await write_rest(s, d, a, b, w.done, timeout_ms);
}

namespace {
// RFC 9113 3.4: what an HTTP/2 client with prior knowledge sends first.
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An active keep-alive client sends its next request well within this; a
// connection idle longer gives up its coroutine frames.
constexpr int64_t kShallowIdleMs = 2'000;
constexpr int64_t kTlsShutdownMs = 1'000;
}  // namespace

void Session::start(std::unique_ptr<Session> self) {
  auto& ioc = self->worker_.ioc();
  asio::co_spawn(ioc, serve(std::move(self)), asio::detached);
}

void Session::close() {
  stream_.close();
}

awaitable<bool> Session::handshake() {
  auto& tls = stream_.start_tls(tls_server_->context());
  deadline_.arm(worker_.deadlines(), &stream_.socket(),
                steady_ms() + tls_server_->handshake_timeout_ms());
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_nothrow);
  deadline_.disarm();
  if (ec) {
    worker_.stats().tls_handshake_errors.inc();
    co_return false;
  }
  tls_info_ = std::make_shared<const net::tls::ConnectionInfo>(
      net::tls::describe_connection(tls.native_handle()));
  h2_alpn_ = tls_info_->alpn == "h2";
  co_return true;
}

awaitable<void> Session::serve(std::unique_ptr<Session> self) {
  Session& s = *self;
  if (s.tls_server_ && !s.tls_info_ && !co_await s.handshake()) {
    s.close();
    co_return;
  }
  if (s.h2_alpn_) {
    // HTTP/2 over TLS: the connection is HTTP/2 from its first byte; this
    // session stays as the holder of the TLS stream (it cannot move).
    H2Connection::start(std::move(self), {});
    co_return;
  }
  // This frame holds only loop state; a request's state lives in
  // serve_one()'s frame, which exists only while a request is served.
  for (;;) {
    if (s.buf_.empty()) {
      if (s.worker_.draining()) break;
      // The response just written was timed in finish(): its clock read
      // serves as now (a vDSO call less per keep-alive request).
      int64_t now = s.finished_at_us_ > 0 ? s.finished_at_us_ / 1000 : steady_ms();
      if (s.idle_since_ms_ == 0) s.idle_since_ms_ = now;
      const int64_t idle_timeout = s.worker_.snapshot()->config.server.http.client_idle_timeout_ms;
      int64_t close_at = s.idle_since_ms_ + idle_timeout;
      int64_t shallow_until = s.idle_since_ms_ + kShallowIdleMs;
      s.idle_ = true;
      if (shallow_until < close_at) {
        s.deadline_.arm_cancel(s.worker_.deadlines(), &s.stream_.socket(), shallow_until);
      } else {
        s.deadline_.arm(s.worker_.deadlines(), &s.stream_.socket(), close_at);
      }
      // A keep-alive connection that already has a buffer reads straight into
      // it (a separate readiness wait costs an epoll_ctl per request); a new
      // one waits for readiness first, so connections that never send hold
      // no buffer. TLS always reads: the handshake may have left a request
      // decrypted-to-be in the TLS layer, which a socket wait cannot see.
      boost::system::error_code ec;
      size_t n = 0;
      if (s.buf_.capacity() > 0 || !s.stream_.plain_tcp()) {
        s.buf_.prepare(net::Worker::kIoBufferSize);
        std::tie(ec, n) = co_await net::read_after_ready_work(
            s.stream_, s.buf_.writable(), &s.deadline_, &s.worker_.client_reads(), use_nothrow);
      } else {
        std::tie(ec) = co_await s.stream_.socket().async_wait(tcp::socket::wait_read, use_nothrow);
        n = ec ? 0 : 1;
      }
      s.idle_ = false;
      if (ec == asio::error::operation_aborted && s.deadline_.fired() && s.stream_.is_open() &&
          shallow_until < close_at && !s.worker_.draining()) {
        s.deadline_.reset_fired();
        s.buf_.release();
        go_deep_idle(std::move(self));
        co_return;
      }
      if (ec || n == 0 || !s.stream_.is_open()) break;
      if (s.buf_.capacity() > 0 || !s.stream_.has_socket()) s.buf_.commit(n);
    }
    s.idle_since_ms_ = 0;
    bool keep = co_await s.serve_one();
    if (s.h2_preface_) {
      // The connection is HTTP/2 from its first byte: it leaves this session
      // with what was read so far (the preface included).
      std::string initial(s.buf_.view());
      s.buf_.consume(s.buf_.size());
      H2Connection::start(std::move(self), std::move(initial));
      co_return;
    }
    if (!keep || s.closing_ || !s.stream_.is_open()) break;
  }
  if (s.stream_.tls() && s.stream_.is_open()) {
    // close_notify, so clients can tell our close from a truncation
    // (OpenSSL 3 reports an EOF without it as an error). Bounded: a peer that
    // never answers costs at most a second.
    s.deadline_.arm(s.worker_.deadlines(), &s.stream_.socket(), steady_ms() + kTlsShutdownMs);
    co_await s.stream_.tls()->async_shutdown(use_nothrow);
    s.deadline_.disarm();
  }
  s.close();
}

void Session::go_deep_idle(std::unique_ptr<Session> self) {
  Session& s = *self;
  // Parked, the connection keeps no session, socket object or pending
  // operation; the session ends here and a new one starts on its next bytes.
  if (s.stream_.plain_tcp() &&
      s.worker_.park_connection(s.stream_.socket(), s.client_ip_, s.idle_since_ms_))
    return;
  s.deadline_.arm(s.worker_.deadlines(), &s.stream_.socket(),
                  s.idle_since_ms_ + s.worker_.snapshot()->config.server.http.client_idle_timeout_ms);
  s.idle_ = true;
  s.stream_.socket().async_wait(tcp::socket::wait_read,
                     [self = std::move(self)](boost::system::error_code ec) mutable {
                       Session& s = *self;
                       s.idle_ = false;
                       if (ec || !s.stream_.is_open() || s.worker_.draining()) {
                         s.close();
                         return;  // the session dies with this handler
                       }
                       Session::start(std::move(self));
                     });
}

awaitable<bool> Session::serve_one() {
  auto snap = worker_.snapshot();  // the snapshot this request starts with
  // One clock read serves the header deadline and, when the head is already
  // in the buffer (the usual keep-alive case), the request's start.
  int64_t start_us = steady_us();
  bool waited = false;
  finished_at_us_ = 0;  // only this request's finish() may stand in for the clock after it
  // Reading one head is bounded by the header timeout (slowloris defence).
  deadline_.arm(worker_.deadlines(), &stream_.socket(),
                start_us / 1000 + snap->config.server.http.client_header_timeout_ms);
  auto head_lease = worker_.request_heads().take();
  http1::RequestHead& head = *head_lease;
  http1::ParseError perr;
  http1::ParseStatus st = http1::ParseStatus::kIncomplete;
  // The parser is stateless, so a head trickling in byte by byte would be
  // re-parsed from the start on every read (quadratic). Parse only when the
  // end of the head may be in the buffer, or a limit may have been crossed.
  size_t scanned = 0;
  bool seen_newline = false;
  const bool sniff_h2 = first_request_ && stream_.plain_tcp() && snap->config.server.http2.enabled;
  first_request_ = false;
  for (;;) {
    if (sniff_h2 && !buf_.empty()) {
      std::string_view v = buf_.view();
      if (v.starts_with(kH2Preface)) {
        h2_preface_ = true;
        deadline_.disarm();
        co_return false;
      }
      // A prefix of the preface: wait for the rest before deciding.
      if (v.size() < kH2Preface.size() && kH2Preface.starts_with(v)) {
        if (!co_await read_some()) co_return false;
        waited = true;
        continue;
      }
    }
    if (!buf_.empty()) {
      std::string_view v = buf_.view();
      size_t from = scanned > 2 ? scanned - 2 : 0;
      if (!seen_newline) seen_newline = v.find('\n', scanned) != std::string_view::npos;
      bool try_parse = scanned == 0 || v.find("\n\n", from) != std::string_view::npos ||
                       v.find("\n\r\n", from) != std::string_view::npos ||
                       v.size() > snap->limits.max_header_bytes ||
                       (!seen_newline && v.size() > snap->limits.max_request_line);
      scanned = v.size();
      if (try_parse) {
        st = http1::parse_request_head(v, snap->limits, head, perr);
        if (st != http1::ParseStatus::kIncomplete) break;
      }
    }
    if (!buf_.prepare(snap->limits.max_header_bytes + 1)) {
      st = http1::ParseStatus::kError;
      perr.status = 431;
      perr.code = "headers_too_large";
      perr.message =
          "request head exceeds " + std::to_string(snap->limits.max_header_bytes) + " bytes";
      break;
    }
    if (!co_await read_some()) {
      // The client went away (or was too slow) before a full head.
      if (deadline_.fired() && !buf_.empty()) worker_.stats().parse_errors.inc();
      co_return false;
    }
    waited = true;
  }
  if (st == http1::ParseStatus::kError) {
    worker_.stats().parse_errors.inc();
    // Framing is unknown after a parse error: answer and close.
    co_await send_error(nullptr, perr.status, perr.code, perr.message, true);
    co_return false;
  }
  buf_.consume(head.head_bytes);
  worker_.stats().requests.inc();
  deadline_.disarm();
  // A head that took more reads starts when it is complete.
  co_return co_await handle(head, waited ? steady_us() : start_us, std::move(snap));
}

// ------------------------------------------------------------------- errors

awaitable<bool> Session::send_error(Exchange* ex, int status, std::string_view code,
                                    std::string_view detail, bool close) {
  if (ex && ex->head && grpc::answers_in_grpc(*ex->head)) {
    ex->error = std::string(code);
    co_return co_await H2Forward::send_grpc_error(*this, *ex, status, detail,
                                                  ex->pctx.response_headers, close);
  }
  std::string rid = ex ? ex->request_id : worker_.next_request_id();
  std::string body = problem_json(status, code, detail, rid);
  std::string head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  head += "\r\nContent-Type: application/problem+json\r\nContent-Length: ";
  head += std::to_string(body.size());
  head += "\r\nX-Request-Id: ";
  head += rid;
  head += "\r\nCache-Control: no-store\r\n";
  if (ex) {
    // Headers policies asked for (CORS grants, RateLimit-*) also go on
    // errors the gateway makes, so browsers can read them.
    for (const auto& h : ex->pctx.response_headers) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
  }
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  bool head_only = ex && ex->method_head;
  bool ok = co_await write_all(stream_, deadline_, head, head_only ? std::string_view{} : body,
                               30'000);
  deadline_.disarm();
  if (ex) {
    ex->status = status;
    ex->error = std::string(code);
    ex->bytes_out = head_only ? 0 : body.size();
  } else {
    // Errors before a route exists still get an access-log line.
    AccessRecord r;
    r.request_id = rid;
    r.client = client_ip_;
    r.protocol = protocol_;
    r.status = status;
    r.error = code;
    set_tls_fields(r);
    worker_.access_log().write(r);
  }
  if (close) closing_ = true;
  co_return ok && !close;
}

// ----------------------------------------------------------------- handling

awaitable<bool> Session::handle(http1::RequestHead& head, int64_t start_us,
                                std::shared_ptr<const Snapshot> snap) {
  Exchange ex;
  ex.start_us = start_us;
  ex.snap = std::move(snap);
  ex.head = &head;
  ex.method_head = head.method == "HEAD";
  ex.idempotent = is_idempotent(head.method);

  const std::string* rid = head.find("x-request-id");
  ex.request_id = (rid && valid_request_id(*rid)) ? *rid : worker_.next_request_id();

  auto norm = http1::normalize_target(head.target);
  if (!norm) {
    bool close = head.body != http1::BodyKind::kNone;
    bool keep = co_await send_error(&ex, 400, norm.error().code, norm.error().message, close);
    finish(ex);
    co_return keep;
  }
  ex.target = std::move(norm.value());
  if (ex.target.path == "*") {
    // Asterisk-form names the server itself (RFC 9110 9.3.7): only OPTIONS,
    // answered here rather than routed.
    if (head.method != "OPTIONS") {
      bool keep = co_await send_error(&ex, 400, "bad_request_target",
                                      "'*' is only valid with OPTIONS", true);
      finish(ex);
      co_return keep;
    }
    ex.status = 200;
    std::string resp =
        "HTTP/1.1 200 OK\r\nAllow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n"
        "Content-Length: 0\r\nX-Request-Id: " + ex.request_id + "\r\n";
    // A client that asked to close is told the server closes (RFC 9112 9.6).
    const bool close = !head.keep_alive || head.body != http1::BodyKind::kNone;
    if (close) resp += "Connection: close\r\n";
    resp += "\r\n";
    bool ok = co_await write_all(stream_, deadline_, resp, {}, 30'000);
    deadline_.disarm();
    finish(ex);
    co_return ok && !close;
  }

  // Host: absolute-form authority wins over the Host header (RFC 9112 3.2.2).
  std::string_view host_raw = ex.target.authority;
  const std::string* host_hdr = head.find("host");
  if (host_raw.empty() && host_hdr) host_raw = *host_hdr;
  ex.original_host = std::string(host_raw);
  if (!split_host(host_raw, ex.host)) {
    bool keep = co_await send_error(&ex, 400, "bad_host", "invalid Host header", true);
    finish(ex);
    co_return keep;
  }

  if (const std::string* doc = mcp_resource_metadata(ex)) {
    bool keep = co_await serve_mcp_metadata(ex, *doc);
    finish(ex);
    co_return keep && head.keep_alive && !worker_.draining();
  }
  RequestView rv;
  rv.method = head.method;
  rv.host = ex.host;
  rv.path = ex.target.path;
  rv.query = ex.target.query;
  rv.headers = &head.headers;
  if (!ex.snap->router->match(rv, ex.match)) {
    worker_.stats().no_route.inc();
    bool close = head.body != http1::BodyKind::kNone;
    bool keep = co_await send_error(&ex, 404, "no_route",
                                    "no route matches " + std::string(head.method) + " " +
                                        ex.target.path,
                                    close);
    finish(ex);
    co_return keep;
  }
  ex.route = &ex.snap->routes[ex.match.route_index];
  if (grpc_web::is_preflight(head) && H2Forward::web_cors(ex)) {
    // gRPC-Web routes answer browsers' preflights (no credentials on them).
    bool keep = co_await H2Forward::send_web_preflight(*this, ex);
    finish(ex);
    co_return keep && head.keep_alive && !worker_.draining();
  }

  // Request phase of the policy chain.
  auto& pc = ex.pctx;
  pc.head = &head;
  pc.target = &ex.target;
  pc.client_ip = client_ip_;
  pc.route_name = ex.match.route->name;
  pc.request_id = ex.request_id;
  pc.consumers = ex.snap->consumers.get();
  pc.tls = tls_info_ != nullptr;
  if (tls_info_ && tls_info_->peer) pc.client_cert = &*tls_info_->peer;
  pc.worker = worker_.index();
  pc.now_ms = ex.start_us / 1000;
  if (internal_) {
    bool keep = false;
    if (!co_await admit_internal(ex, keep)) {
      finish(ex);
      co_return keep;
    }
  }
  const auto& chain = ex.route->chain.policies;
  bool consumer_done = false;
  for (size_t i = 0; i <= chain.size(); ++i) {
    policy::Respond answer;
    bool respond = false;
    // The identified consumer's own policies run once authentication is
    // over: before the first route policy past the authn phase.
    if (!consumer_done && (i == chain.size() || chain[i]->phase() > policy::Phase::kAuthn)) {
      consumer_done = true;
      ex.consumer_split = i;
      if (pc.consumer && pc.consumer->index < ex.snap->consumer_chains.size() &&
          !ex.snap->consumer_chains[pc.consumer->index].empty()) {
        ex.consumer_chain = &ex.snap->consumer_chains[pc.consumer->index];
        for (const auto& p : ex.consumer_chain->policies) {
          ++ex.consumer_run;
          policy::Action a = p->is_async() ? co_await p->on_request_async(pc, answer)
                                           : p->on_request(pc, answer);
          if (a == policy::Action::kRespond) {
            respond = true;
            break;
          }
        }
      }
    }
    if (!respond) {
      if (i == chain.size()) break;
      ++ex.policies_run;
      if (overridden_by_consumer(ex, *chain[i])) continue;
      policy::Action a = chain[i]->is_async() ? co_await chain[i]->on_request_async(pc, answer)
                                              : chain[i]->on_request(pc, answer);
      respond = a == policy::Action::kRespond;
    }
    if (respond) {
      if (answer.status == 401 && ex.match.route->mcp && ex.match.route->mcp->authorization)
        mcp::auth::extend_challenges(*ex.match.route->mcp->authorization, answer.headers);
      bool close = head.body != http1::BodyKind::kNone;
      bool keep = co_await send_policy_response(ex, answer, close);
      finish(ex);
      co_return keep && head.keep_alive && !worker_.draining();
    }
  }
  // if/else, not a nested ?: — GCC 12 mis-compiles co_await in nested
  // conditional expressions.
  bool keep = false;
  if (ex.match.route->llm)
    keep = co_await serve_llm(ex);
  else if (ex.match.route->mcp)
    keep = co_await serve_mcp(ex);
  else if (ex.match.route->mock)
    keep = co_await serve_mock(ex);
  else {
    // Only requests bound upstream: the other kinds are final recipients.
    MaxForwards mf = step_max_forwards(head);
    if (mf == MaxForwards::kAbsent || mf == MaxForwards::kForward)
      keep = co_await forward(ex);
    else
      keep = co_await answer_max_forwards(ex, mf);
  }
  finish(ex);
  co_return keep && head.keep_alive && !worker_.draining();
}

awaitable<bool> Session::answer_max_forwards(Exchange& ex, MaxForwards mf) {
  const http1::RequestHead& head = *ex.head;
  const bool close = head.body != http1::BodyKind::kNone || !head.keep_alive;
  if (mf == MaxForwards::kInvalid)
    co_return co_await send_error(&ex, 400, "bad_max_forwards",
                                  "Max-Forwards must be one field of decimal digits", close);
  if (mf == MaxForwards::kTraceContent)
    co_return co_await send_error(&ex, 400, "trace_with_content",
                                  "a TRACE request must not carry content", true);
  // Max-Forwards: 0 (RFC 9110 7.6.2): the gateway is the final recipient.
  policy::Respond r;
  r.status = 200;
  if (head.method == "TRACE") {
    r.body = trace_reflection(head);
    r.content_type = "message/http";
  } else {
    std::string allow;
    for (const auto& m : ex.match.route->match.methods) allow += (allow.empty() ? "" : ", ") + m;
    if (allow.empty()) allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";
    r.headers.push_back({"Allow", std::move(allow)});
  }
  co_return co_await send_policy_response(ex, r, close);  // handle() adds keep-alive and drain
}

awaitable<bool> Session::send_policy_response(Exchange& ex, policy::Respond& r, bool close) {
  if (r.status >= 400 && ex.head && grpc::answers_in_grpc(*ex.head)) {
    // Auth and rate-limit refusals reach gRPC clients as a grpc-status.
    std::vector<http1::Header> extra = r.headers;
    for (const auto& h : ex.pctx.response_headers) extra.push_back(h);
    ex.error = r.code.empty() ? "policy_response" : r.code;
    co_return co_await H2Forward::send_grpc_error(*this, ex, r.status,
                                                  r.detail.empty() ? r.code : r.detail, extra, close);
  }
  std::string body = r.body;
  std::string type = r.content_type;
  if (body.empty() && !r.code.empty()) {
    body = problem_json(r.status, r.code, r.detail, ex.request_id);
    type = "application/problem+json";
  }
  std::string head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(r.status);
  head += ' ';
  head += reason_phrase(r.status);
  head += "\r\n";
  for (const auto* list : {&r.headers, &ex.pctx.response_headers}) {
    for (const auto& h : *list) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
  }
  if (!type.empty()) {
    head += "Content-Type: ";
    head += type;
    head += "\r\n";
  }
  bool no_body = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
  if (!no_body) {
    head += "Content-Length: ";
    head += std::to_string(body.size());
    head += "\r\n";
  }
  head += "X-Request-Id: ";
  head += ex.request_id;
  head += "\r\n";
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  bool send_body = !no_body && !ex.method_head;
  bool ok = co_await write_all(stream_, deadline_, head, send_body ? body : std::string_view{}, 30'000);
  deadline_.disarm();
  ex.status = r.status;
  ex.error = r.code;
  ex.bytes_out = send_body ? body.size() : 0;
  if (close) closing_ = true;
  co_return ok && !close;
}

void Session::set_tls_fields(AccessRecord& r) const {
  if (!tls_info_) return;
  r.tls_version = tls_info_->version;
  r.tls_cipher = tls_info_->cipher;
  r.sni = tls_info_->sni;
  if (tls_info_->peer) r.client_subject = tls_info_->peer->subject;
}

void Session::finish(Exchange& ex) {
  const int64_t now_us = steady_us();
  finished_at_us_ = now_us;
  int64_t total = now_us - ex.start_us;
  if (ex.route) {
    for_each_policy_run(ex, false, [&](const policy::Policy& p) { p.on_log(ex.pctx, ex.status); });
  }
  const config::RouteConfig* rc = ex.match.route;
  if (ex.route && ex.route->stats) {
    auto& s = ex.route->stats->shard(worker_.index());
    int cls = ex.status >= 100 && ex.status < 600 ? ex.status / 100 : 0;
    s.by_class[static_cast<size_t>(cls)].inc();
    if (ex.grpc_status >= 0 && ex.grpc_status <= 16) s.grpc[static_cast<size_t>(ex.grpc_status)].inc();
    s.latency.observe_us(static_cast<uint64_t>(total));
    s.bytes_in.inc(ex.bytes_in);
    s.bytes_out.inc(ex.bytes_out);
  }
  auto& log = worker_.access_log();
  if (!log.enabled()) return;
  AccessRecord r;
  r.request_id = ex.request_id;
  r.client = client_ip_;
  r.protocol = protocol_;
  r.method = ex.head ? std::string_view(ex.head->method) : std::string_view{};
  r.path = ex.target.path;
  r.host = ex.host;
  r.route = rc ? std::string_view(rc->name) : std::string_view{};
  r.upstream = !rc ? std::string_view{}
               : ex.pctx.upstream_override >= 0
                   ? std::string_view(
                         ex.snap->upstreams[static_cast<size_t>(ex.pctx.upstream_override)]->cfg.name)
                   : std::string_view(rc->upstream);
  r.upstream_target = ex.upstream_target;
  r.status = ex.status;
  r.bytes_in = ex.bytes_in;
  r.bytes_out = ex.bytes_out;
  r.connect_us = ex.connect_us;
  r.first_byte_us = ex.first_byte_us;
  r.total_us = total;
  r.retries = ex.retries;
  r.grpc_status = ex.grpc_status;
  r.error = ex.error;
  r.mock = ex.mock;
  if (auto it = ex.pctx.vars.find("validation"); it != ex.pctx.vars.end()) r.validation = it->second;
  AccessLlm llm;
  if (const auto* o = ex.llm.get()) {
    llm.model = o->model;
    llm.served_model = o->served_model;
    llm.provider = o->provider;
    llm.provider_model = o->provider_model;
    llm.input_tokens = o->usage.input_uncached;
    llm.cache_read_tokens = o->usage.cache_read;
    llm.cache_write_tokens = o->usage.cache_write;
    llm.output_tokens = o->usage.output;
    llm.reasoning_tokens = o->usage.reasoning;
    llm.usage_known = o->usage.known;
    llm.partial = o->usage.partial;
    llm.stream = o->stream;
    llm.attempts = o->attempts;
    llm.cooldowns = o->cooldowns;
    llm.cooling_skips = o->cooling_skips;
    llm.ttft_us = o->ttft_us;
    llm.guardrails = o->guardrails;
    llm.cache = o->cache;
    llm.semantic = o->semantic;
    llm.similarity = o->similarity;
    llm.cost = o->cost;
    r.llm = &llm;
  }
  AccessMcp mcp;
  if (const auto* o = ex.mcp.get()) {
    mcp.method = o->method;
    mcp.server = o->server;
    mcp.name = o->name;
    mcp.rpc_error = o->rpc_error;
    mcp.tool_error = o->tool_error;
    mcp.arguments = o->arguments;
    mcp.upstream_us = o->upstream_us;
    mcp.limited = o->limited;
    r.mcp = &mcp;
  }
  r.consumer = ex.pctx.consumer ? std::string_view(ex.pctx.consumer->name) : std::string_view{};
  set_tls_fields(r);
  log.write(r);
}

}  // namespace gatehouse::proxy
