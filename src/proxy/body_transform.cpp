// Bounded whole-body buffering for policies that edit bodies (JSON body
// transforms). Bodies stream everywhere else; here a body is read into
// memory only when a policy whose request hook ran asks for it, and never
// past the limit it gave. See docs/policies/request-transformer.md.
#include <algorithm>
#include <cstdlib>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/upstream/pool.hpp"

namespace gatehouse::proxy {

uint64_t Session::request_body_want(Exchange& ex) const {
  if (ex.head->body == http1::BodyKind::kNone || !ex.route) return 0;
  uint64_t limit = 0;
  for_each_policy_run(ex, false, [&](const policy::Policy& p) {
    limit = std::max(limit, p.request_body_limit(ex.pctx));
  });
  return limit;
}

awaitable<Session::BodyStep> Session::buffer_request_body(Exchange& ex, std::string& body,
                                                          uint64_t limit) {
  BodyStep step;
  const http1::RequestHead& head = *ex.head;
  if (limit == 0) co_return step;
  // request-size-limit's cap still holds for a body we buffer.
  if (auto it = ex.pctx.vars.find("max_body"); it != ex.pctx.vars.end()) {
    uint64_t cap = std::strtoull(it->second.c_str(), nullptr, 10);
    if (cap > 0) limit = std::min(limit, cap);
  }
  step.kind = BodyStep::kAnswered;
  // Kept in this frame: send_error is a coroutine holding only a view of it.
  const std::string too_large = "the request body exceeds the " + std::to_string(limit) +
                                "-byte limit for body transformation on this route";
  auto got = co_await read_whole_body(head, body, limit,
                                      {ex.snap->config.server.http.client_idle_timeout_ms, true});
  ex.bytes_in = body.size();
  switch (got.kind) {
    case WholeBody::kComplete:
      break;
    case WholeBody::kTooLarge:
      step.keep = co_await send_error(&ex, 413, "body_too_large", too_large, true);
      co_return step;
    case WholeBody::kBadChunked:
      step.keep =
          co_await send_error(&ex, 400, got.error_code, "invalid chunked request body", true);
      co_return step;
    case WholeBody::kIncomplete:
      ex.status = 499;  // client closed request (nginx's convention)
      ex.error = "client_aborted";
      closing_ = true;
      co_return step;
  }

  policy::Respond answer;
  bool respond = false;
  for_each_policy_run(ex, false, [&](const policy::Policy& p) {
    if (!respond) respond = p.on_request_body(ex.pctx, body, answer) == policy::Action::kRespond;
  });
  if (respond) {
    // The body has been read: the connection can serve the next request.
    step.keep = co_await send_policy_response(ex, answer, false);
    co_return step;
  }
  step.kind = BodyStep::kBuffered;
  co_return step;
}

policy::Policy::ResponseBodyWant Session::response_body_want(Exchange& ex,
                                                             const http1::ResponseHead& resp) {
  policy::Policy::ResponseBodyWant want;
  if (resp.body == http1::BodyKind::kNone || ex.method_head) return want;
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    auto w = p.response_body_want(ex.pctx, resp.status, resp.headers);
    if (w.limit == 0) return;
    want.limit = std::max(want.limit, w.limit);
    want.reject_larger = want.reject_larger || w.reject_larger;
  });
  return want;
}

awaitable<Session::ResponseBodyStep> Session::transform_response_body(
    Exchange& ex, UpstreamConn& conn, ReadBuffer& ubuf, http1::ResponseHead& resp, bool close_down,
    int64_t idle_ms, policy::Policy::ResponseBodyWant want) {
  ResponseBodyStep step;
  if (want.limit == 0) co_return step;
  const auto larger = want.reject_larger ? ResponseBodyStep::kTooLarge : ResponseBodyStep::kStream;
  if (resp.body == http1::BodyKind::kContentLength && resp.content_length > want.limit) {
    step.kind = larger;
    co_return step;
  }
  // Raw bytes kept in the buffer: the body, plus chunk framing. Nothing is
  // consumed until the body is complete, so a body that turns out too large
  // streams on from the start of the buffer as if never looked at.
  const bool chunked = resp.body == http1::BodyKind::kChunked;
  const size_t raw_cap =
      static_cast<size_t>(want.limit) + (chunked ? static_cast<size_t>(want.limit / 4) + 4096 : 0);
  std::string body;
  size_t raw_used = 0, scanned = 0;
  http1::ChunkedDecoder dec;
  for (;;) {
    if (resp.body == http1::BodyKind::kContentLength) {
      if (ubuf.size() >= resp.content_length) {
        raw_used = static_cast<size_t>(resp.content_length);
        body.assign(ubuf.view().substr(0, raw_used));
        break;
      }
    } else if (chunked) {
      auto out = dec.feed(ubuf.view().substr(scanned));
      if (out.error) {
        step.kind = ResponseBodyStep::kUpstreamFailed;
        co_return step;
      }
      for (auto piece : out.data) body.append(piece);
      scanned += out.consumed;
      if (body.size() > want.limit) {
        step.kind = larger;
        co_return step;
      }
      if (out.done) {
        raw_used = scanned;
        break;
      }
    } else if (ubuf.size() > want.limit) {  // until close
      step.kind = larger;
      co_return step;
    }
    if (ubuf.size() >= raw_cap ||
        !ubuf.prepare(std::max(raw_cap + 1, net::Worker::kIoBufferSize))) {
      step.kind = larger;
      co_return step;
    }
    conn.deadline.arm(worker_.deadlines(), &conn.stream.socket(), steady_ms() + idle_ms);
    auto [ec, n] = co_await conn.stream.async_read_some(ubuf.writable(), use_nothrow);
    if (ec || n == 0) {
      if (resp.body == http1::BodyKind::kUntilClose && !conn.deadline.fired()) {
        raw_used = ubuf.size();
        body.assign(ubuf.view());
        break;
      }
      step.kind = ResponseBodyStep::kUpstreamFailed;
      co_return step;
    }
    ubuf.commit(n);
  }
  conn.deadline.disarm();
  ubuf.consume(raw_used);
  step.up_reusable = resp.body != http1::BodyKind::kUntilClose && ubuf.empty();

  const std::string original = body;
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response_body(ex.pctx, resp.status, resp.headers, body);
  });
  // The body goes out whole, with its (new) length; a strong validator of
  // the upstream's bytes no longer describes it.
  const bool changed = body != original;
  std::erase_if(resp.headers, [&](const http1::Header& h) {
    return iequals(h.name, "content-length") || (changed && iequals(h.name, "etag"));
  });
  resp.headers.push_back({"Content-Length", std::to_string(body.size())});
  std::string dhead =
      build_downstream_head(resp, ex.head->version_minor, 0, close_down, ex.request_id, true);
  step.ok_down = co_await write_all(stream_, deadline_, dhead, body, idle_ms);
  ex.bytes_out += body.size();
  step.kind = ResponseBodyStep::kSent;
  co_return step;
}

}  // namespace gatehouse::proxy
