// gRPC-Web requests on routes with grpc_web: (docs/grpc.md): the request
// half of the conversion, the response head and trailer frame, the built-in
// CORS answers, and the gateway's own gRPC (and gRPC-Web) error answers.
// H2Forward::respond (forward_h2.cpp) streams the response body.
//
// Decision: the request body is read whole before the upstream call. gRPC-
// Web clients (browsers) send unary and server-streaming calls only, so the
// body is one message; reading it whole lets a malformed frame or bad
// base64 get a precise error before anything reaches the upstream, and makes
// every gRPC-Web call replayable for retries.
#include <algorithm>
#include <cstdlib>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"  // before exchange.hpp: its templates need RouteRuntime
#include "proxy/exchange.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/grpc.hpp"
#include "proxy/grpc_web.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

bool H2Forward::web_cors(const Exchange& ex) {
  const auto* rc = ex.match.route;
  if (!rc || !rc->grpc_web || !rc->grpc_web->cors || !ex.route) return false;
  for (const auto& p : ex.route->chain.policies)
    if (p->name() == "cors") return false;
  if (ex.consumer_chain)
    for (const auto& p : ex.consumer_chain->policies)
      if (p->name() == "cors") return false;
  return true;
}

awaitable<bool> H2Forward::send_web_preflight(Session& s, Exchange& ex) {
  const http1::RequestHead& head = *ex.head;
  // A preflight has no body; one that does cannot be trusted to be framed
  // as we think, so the connection closes after the answer.
  const bool close = head.body != http1::BodyKind::kNone || !head.keep_alive;
  std::string out = grpc_web::preflight_head(head, ex.request_id, close);
  bool ok = co_await s.write_all(s.stream_, s.deadline_, out, {}, 30'000);
  s.deadline_.disarm();
  ex.status = 204;
  if (close) s.closing_ = true;
  co_return ok && !close;
}

awaitable<H2Forward::WebBody> H2Forward::read_converted_body(
    Session& s, Exchange& ex, bool owned, uint64_t limit, std::string& body,
    const std::function<awaitable<bool>(bool close)>& too_large) {
  WebBody r;
  const http1::RequestHead& head = *ex.head;
  if (!owned && head.body != http1::BodyKind::kNone) {
    auto got = co_await s.read_whole_body(
        head, body, limit, {ex.snap->config.server.http.client_idle_timeout_ms, true});
    switch (got.kind) {
      case Session::WholeBody::kComplete:
        break;
      case Session::WholeBody::kTooLarge:
        r.answered = true;
        r.keep = co_await too_large(true);
        co_return r;
      case Session::WholeBody::kBadChunked:
        r.answered = true;
        r.keep =
            co_await s.send_error(&ex, 400, got.error_code, "invalid chunked request body", true);
        co_return r;
      case Session::WholeBody::kIncomplete:
        r.answered = true;
        ex.status = 499;
        ex.error = "client_aborted";
        s.closing_ = true;
        co_return r;
    }
  } else if (owned && body.size() > limit) {
    r.answered = true;
    r.keep = co_await too_large(false);
    co_return r;
  }
  ex.bytes_in = body.size();
  co_return r;
}

awaitable<H2Forward::WebBody> H2Forward::web_request_body(Session& s, Exchange& ex,
                                                          const grpc_web::Kind& k, bool owned,
                                                          std::string& body) {
  uint64_t limit = ex.match.route->grpc_web->max_body;
  if (auto it = ex.pctx.vars.find("max_body"); it != ex.pctx.vars.end())
    limit = std::min<uint64_t>(limit, std::strtoull(it->second.c_str(), nullptr, 10));
  auto too_large = [&](bool close) -> awaitable<bool> {
    co_return co_await s.send_error(
        &ex, 413, "body_too_large",
        "gRPC-Web request body exceeds " + std::to_string(limit) + " bytes (grpc_web.max_body)",
        close);
  };
  WebBody r = co_await read_converted_body(s, ex, owned, limit, body, too_large);
  if (r.answered) co_return r;
  grpc_web::Problem why;
  if (k.text) {
    std::string decoded;
    if (!grpc_web::base64_decode(body, decoded, why)) {
      r.answered = true;
      r.keep = co_await s.send_error(&ex, 400, why.code, why.message, false);
      co_return r;
    }
    body = std::move(decoded);
  }
  if (!grpc_web::check_request_frames(body, why)) {
    r.answered = true;
    r.keep = co_await s.send_error(&ex, 400, why.code, why.message, false);
    co_return r;
  }
  co_return r;
}

std::string H2Forward::web_trailer_frame(const std::vector<http1::Header>& trailers, bool text,
                                         int framing) {
  std::string frame = grpc_web::trailer_frame(trailers);
  if (text) frame = grpc_web::base64_encode(frame);
  if (framing != 1) return frame;
  return chunk_line(frame.size()) + frame + "\r\n" + last_chunk({});
}

void H2Forward::web_response_head(bool text, const grpc_web::Kind& k, bool trailers_only,
                                  http1::ResponseHead& resp) {
  const std::string* uct = resp.find("content-type");
  std::string wct = grpc_web::response_content_type(text, uct ? *uct : std::string(), k);
  std::erase_if(resp.headers, [](const http1::Header& h) {
    return iequals(h.name, "content-type") || iequals(h.name, "content-length");
  });
  resp.headers.push_back({"content-type", std::move(wct)});
  if (trailers_only) {
    resp.body = http1::BodyKind::kContentLength;
    resp.content_length = 0;
    resp.headers.push_back({"content-length", "0"});
  } else {
    resp.body = http1::BodyKind::kChunked;
  }
}

awaitable<bool> H2Forward::send_grpc_error(Session& s, Exchange& ex, int http_status,
                                           std::string_view detail,
                                           const std::vector<http1::Header>& extra, bool close) {
  int code = grpc::status_for_http(http_status);
  std::string ct = "application/grpc";
  grpc_web::Kind k;
  const std::string* rct = ex.head ? ex.head->find("content-type") : nullptr;
  std::vector<http1::Header> fields = extra;
  if (rct && grpc_web::parse_content_type(*rct, k)) {
    // A gRPC-Web client reads the same trailers-only form, with its own type.
    ct = grpc_web::response_content_type(grpc_web::wants_text(*ex.head, k), "", k);
    if (web_cors(ex))
      for (auto& h : grpc_web::cors_response_headers(*ex.head)) fields.push_back(std::move(h));
  }
  std::string head = grpc::trailers_only_head(code, detail, ex.request_id, fields, close, ct);
  bool ok = co_await s.write_all(s.stream_, s.deadline_, head, {}, 30'000);
  s.deadline_.disarm();
  ex.status = 200;  // what went on the wire; the outcome is in grpc_status
  ex.grpc_status = code;
  ex.bytes_out = 0;
  if (close) s.closing_ = true;
  co_return ok && !close;
}

}  // namespace gatehouse::proxy
