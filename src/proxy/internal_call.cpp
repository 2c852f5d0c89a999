#include "proxy/internal_call.hpp"

#include <array>
#include <chrono>

#include "common/strings.hpp"
#include "net/duplex.hpp"
#include "net/worker.hpp"
#include "proxy/session.hpp"
// clang-format off
// snapshot.hpp first: exchange.hpp's templates need RouteRuntime complete.
#include "proxy/snapshot.hpp"
#include "proxy/exchange.hpp"
// clang-format on

namespace gatehouse::proxy {

namespace {

constexpr size_t kPipeCapacity = 64 * 1024;

// The pipe end and the deadline, shared by the writer, the reader and the
// timer (each may outlive the others by a handler).
struct Pipe {
  explicit Pipe(asio::any_io_executor ex) : timer(ex) {}
  net::DuplexEnd end;
  asio::steady_timer timer;
  bool timed_out = false;
};

// The request is written by its own coroutine while the caller reads, so an
// answer that comes before the whole body was taken (a 401, a 413) never
// waits on a writer stuck behind the pipe's bound.
awaitable<void> write_request(std::shared_ptr<Pipe> p, std::string bytes) {
  co_await asio::async_write(p->end, asio::buffer(bytes), use_nothrow);
  // No shutdown_send: the request is framed; the session closes after it
  // (Connection: close), which is our end of file.
}

std::string serialize(const InternalRequest& rq) {
  std::string out;
  out.reserve(256 + rq.body.size());
  out += rq.method;
  out += ' ';
  out += rq.target;
  out += " HTTP/1.1\r\nHost: ";
  out += rq.host;
  out += "\r\nConnection: close\r\n";
  if (!rq.request_id.empty()) out += "X-Request-Id: " + rq.request_id + "\r\n";
  for (const auto& [k, v] : rq.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!rq.body.empty() || rq.method == "POST" || rq.method == "PUT" || rq.method == "PATCH")
    out += "Content-Length: " + std::to_string(rq.body.size()) + "\r\n";
  out += "\r\n";
  out += rq.body;
  return out;
}

}  // namespace

const std::string* InternalAnswer::find(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

bool identity_var(std::string_view name) {
  return name.starts_with("jwt.") || name.starts_with("introspection.");
}

awaitable<InternalAnswer> call_internal(net::Worker& worker, std::string client_ip,
                                        std::shared_ptr<const net::tls::ConnectionInfo> tls,
                                        std::shared_ptr<const InternalCaller> caller,
                                        InternalRequest rq) {
  InternalAnswer a;
  auto ex = worker.ioc().get_executor();
  auto p = std::make_shared<Pipe>(ex);
  auto [ours, theirs] = net::make_duplex(ex, kPipeCapacity);
  p->end = std::move(ours);
  auto s =
      std::make_unique<Session>(worker, std::move(theirs), std::move(client_ip), std::move(tls));
  s->set_internal(std::move(caller));
  Session::start(std::move(s));
  asio::co_spawn(ex, write_request(p, serialize(rq)), asio::detached);
  // The deadline closes our end: the session's writes then fail and it
  // abandons the exchange (and its upstream connection) as for a client gone.
  p->timer.expires_after(std::chrono::milliseconds(rq.timeout_ms));
  p->timer.async_wait([w = std::weak_ptr<Pipe>(p)](boost::system::error_code ec) {
    auto pipe = w.lock();
    if (ec || !pipe) return;
    pipe->timed_out = true;
    pipe->end.close();
  });

  std::string in;
  http1::ResponseHead head;
  bool have_head = false;
  size_t body_from = 0;
  http1::ChunkedDecoder chunked;
  size_t decoded_upto = 0;  // input bytes fed to the decoder so far
  bool complete = false;
  const http1::Limits limits;
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await p->end.async_read_some(asio::buffer(buf), use_nothrow);
    if (n > 0) in.append(buf.data(), n);
    if (!have_head && !in.empty()) {
      http1::ParseError perr;
      auto st = http1::parse_response_head(in, limits, rq.method, head, perr);
      if (st == http1::ParseStatus::kError) {
        a.error = "the gateway's answer could not be read: " + perr.message;
        break;
      }
      if (st == http1::ParseStatus::kComplete) {
        have_head = true;
        body_from = head.head_bytes;
        decoded_upto = body_from;
      }
    }
    if (have_head) {
      if (head.body == http1::BodyKind::kNone) {
        complete = true;
      } else if (head.body == http1::BodyKind::kContentLength) {
        complete = in.size() - body_from >= head.content_length;
        if (complete) a.body = in.substr(body_from, head.content_length);
      } else if (head.body == http1::BodyKind::kChunked && decoded_upto < in.size()) {
        auto out = chunked.feed(std::string_view(in).substr(decoded_upto));
        decoded_upto += out.consumed;
        for (auto piece : out.data) a.body.append(piece);
        if (out.error) {
          a.error = "the gateway's answer had a bad chunked body (" + out.error_code + ")";
          break;
        }
        complete = out.done;
      } else if (head.body == http1::BodyKind::kUntilClose && (ec || n == 0)) {
        a.body = in.substr(body_from);
        complete = !p->timed_out;
      }
    }
    if (complete) break;
    if (in.size() > rq.max_body + limits.max_header_bytes || a.body.size() > rq.max_body) {
      a.error = "the answer is larger than " + std::to_string(rq.max_body) + " bytes";
      break;
    }
    if (ec || n == 0) {
      a.error = p->timed_out ? "no answer within " + std::to_string(rq.timeout_ms) + " ms"
                             : "the gateway ended the request without a whole answer";
      break;
    }
  }
  p->timer.cancel();
  p->end.close();
  if (!a.error.empty()) co_return a;
  a.status = head.status;
  a.headers = std::move(head.headers);
  co_return a;
}

}  // namespace gatehouse::proxy

// ------------------------------------------------ the serving side (Session)

namespace gatehouse::proxy {

void Session::set_internal(std::shared_ptr<const InternalCaller> caller) {
  internal_ = std::move(caller);
  protocol_ = "internal";
}

awaitable<bool> Session::admit_internal(Exchange& ex, bool& keep) {
  const config::RouteConfig& rc = *ex.match.route;
  if (rc.mcp || rc.llm) {
    // A tool call routed back into an MCP route could call itself forever;
    // an AI route is no REST API's route either.
    keep = co_await send_error(
        &ex, 404, "no_route",
        "route \"" + rc.name + "\" is an MCP or AI route; REST-to-MCP calls are not sent to one",
        true);
    co_return false;
  }
  policy::RequestContext& pc = ex.pctx;
  if (!internal_->consumer.empty()) {
    // The caller's credential was verified on its MCP route: authentication
    // policies here see a credential used and step aside (Authenticator),
    // and the consumer's own policies, ACLs and limits apply to it.
    pc.consumer = pc.consumers ? pc.consumers->find(internal_->consumer) : nullptr;
    if (pc.consumer) pc.credential_id = internal_->credential_id;
  }
  for (const auto& [k, v] : internal_->vars) pc.vars[k] = v;
  co_return true;
}

}  // namespace gatehouse::proxy
