// Routes with `mock:` answer from an OpenAPI document instead of an upstream
// (src/apim/mock decides; this file carries bytes). Order, as Prism's: the
// operation (by operationId, or the request's method and path against the
// spec: 404 / 405 when none), request validation, then the response chosen
// by Prefer and Accept.
#include <boost/json/serialize.hpp>

#include "apim/mock/mock.hpp"
#include "apim/schema/compiled.hpp"
#include "apim/spec_set.hpp"
#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace {
constexpr int64_t kBodyTimeoutMs = 60'000;
constexpr int64_t kWriteTimeoutMs = 60'000;

std::string head_line(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
}
}  // namespace

// Writes one whole answer; `extra` headers first, then the policies'.
awaitable<bool> Session::mock_answer(Exchange& ex, int status, std::string content_type,
                                     std::string body, HeaderList extra) {
  std::string h = head_line(status);
  for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
  for (const auto& x : ex.pctx.response_headers) h += x.name + ": " + x.value + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  bool no_body = status == 204 || status == 304 || status < 200;
  if (!no_body) h += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  h += "X-Request-Id: " + ex.request_id + "\r\n";
  if (closing_) h += "Connection: close\r\n";
  h += "\r\n";
  bool send_body = !no_body && !ex.method_head;
  bool ok =
      co_await write_all(stream_, deadline_, h,
                         send_body ? std::string_view(body) : std::string_view{}, kWriteTimeoutMs);
  deadline_.disarm();
  ex.status = status;
  ex.bytes_out = send_body ? body.size() : 0;
  worker_.stats().mock_responses.inc();
  co_return ok && !closing_;
}

awaitable<bool> Session::mock_problem(Exchange& ex, int status, std::string code,
                                      std::string detail, HeaderList extra) {
  ex.error = code;
  if (ex.mock.empty()) ex.mock = "error";
  std::string body = problem_json(status, code, detail, ex.request_id);
  co_return co_await mock_answer(ex, status, "application/problem+json", std::move(body),
                                 std::move(extra));
}

awaitable<bool> Session::serve_mock(Exchange& ex) {
  http1::RequestHead& head = *ex.head;
  const config::RouteConfig& route = *ex.match.route;
  const config::RouteMockConfig& mc = *route.mock;
  const RouteRuntime& rt = *ex.route;

  // ---- the request body, whole: validation reads it, and the connection
  // stays in step for the next request.
  std::string body;
  if (head.body != http1::BodyKind::kNone) {
    auto got = co_await read_whole_body(head, body, mc.max_body, {kBodyTimeoutMs, false});
    ex.bytes_in = body.size();
    switch (got.kind) {
      case WholeBody::kComplete:
        break;
      case WholeBody::kTooLarge:
        closing_ = true;
        co_return co_await mock_problem(
            ex, 413, "request_too_large",
            "request body exceeds " + std::to_string(mc.max_body) + " bytes");
      case WholeBody::kBadChunked:
        closing_ = true;
        co_return co_await mock_problem(ex, 400, got.error_code, "invalid chunked request body");
      case WholeBody::kIncomplete:
        ex.status = 400;
        ex.error = "client_body_incomplete";
        closing_ = true;
        co_return false;
    }
  }

  const apim::SpecEntry* spec = rt.mock_spec;
  if (!spec || !spec->document)
    co_return co_await mock_problem(ex, 500, "mock_spec_missing",
                                    "spec '" + mc.spec + "' is not loaded in this configuration");
  const apim::openapi::Document& doc = *spec->document;

  // ---- which operation
  const apim::openapi::Operation* op = rt.mock_operation;
  std::vector<std::pair<std::string, std::string>> path_params;
  if (!op) {
    // The path the spec sees is the one an upstream would get: the route's
    // rewrite (strip_prefix, regex, path_prefix) applied.
    std::string path = ex.snap->router->rewrite_path(ex.match, ex.target.path);
    auto m = apim::match_operation(doc, spec->base_path, head.method, path);
    // HEAD is GET without a body (RFC 9110 9.3.2) when the spec has no HEAD.
    if (!m.operation && ex.method_head)
      m = apim::match_operation(doc, spec->base_path, "GET", path);
    if (!m.operation) {
      if (m.path_known) {
        std::string allow;
        for (const auto& a : m.allowed_methods) allow += (allow.empty() ? "" : ", ") + a;
        std::string detail = std::string(head.method) + " is not defined for " + path +
                             " in spec '" + spec->name + "' (allowed: " + allow + ")";
        HeaderList extra;
        extra.emplace_back("Allow", allow);
        co_return co_await mock_problem(ex, 405, "method_not_allowed", std::move(detail),
                                        std::move(extra));
      }
      co_return co_await mock_problem(ex, 404, "mock_no_operation",
                                      "no operation of spec '" + spec->name + "' matches " +
                                          std::string(head.method) + " " + path);
    }
    op = m.operation;
    path_params = std::move(m.path_params);
  }

  // ---- request validation first (Prism: an invalid request gets its
  // violations, not a made-up success).
  if (mc.validate) {
    auto rv = apim::schema::compiled_validator(spec->document, *op);
    if (!rv)
      co_return co_await mock_problem(ex, 500, rv.error().code,
                                      "operation cannot be validated: " + rv.error().message);
    apim::schema::RequestView view;
    view.path = ex.target.path;
    view.query = ex.target.query;
    view.base_path = spec->base_path;
    view.path_params = std::move(path_params);
    view.headers.reserve(head.headers.size());
    for (const auto& h : head.headers) view.headers.emplace_back(h.name, h.value);
    if (head.body != http1::BodyKind::kNone) view.body = body;
    auto violations = (*rv)->validate(view);
    if (!violations.empty()) {
      auto p = apim::schema::violation_problem(violations, ex.request_id);
      ex.mock = "invalid";
      co_return co_await mock_answer(ex, p.status, "application/problem+json", std::move(p.body),
                                     {});
    }
  }

  // ---- the answer
  apim::mock::MockRequest req;
  if (const std::string* accept = head.find("accept")) req.accept = *accept;
  if (const std::string* prefer = head.find("prefer")) {
    auto p = apim::mock::parse_prefer(*prefer);
    if (!p) co_return co_await mock_problem(ex, 400, p.error().code, p.error().message);
    req.prefer = std::move(*p);
  }
  if (auto q = apim::mock::apply_query_preferences(ex.target.query, req.prefer); !q)
    co_return co_await mock_problem(ex, 400, q.error().code, q.error().message);
  req.dynamic = mc.dynamic;
  if (req.prefer.dynamic.value_or(mc.dynamic))
    req.seed = stable_hash(ex.request_id, static_cast<uint64_t>(steady_us()));
  else
    req.seed = apim::mock::request_seed(head.method, ex.target.path, ex.target.query);
  auto res = apim::mock::respond(doc, *op, req);
  if (!res) {
    HeaderList extra;
    if (res.error().status == 406) extra.emplace_back("Vary", "Accept");
    co_return co_await mock_problem(ex, res.error().status, res.error().code, res.error().message,
                                    std::move(extra));
  }
  ex.mock = res->source;
  if (ex.first_byte_us < 0) ex.first_byte_us = steady_us() - ex.start_us;
  co_return co_await mock_answer(ex, res->status, res->content_type, std::move(res->body),
                                 std::move(res->headers));
}

}  // namespace gatehouse::proxy
