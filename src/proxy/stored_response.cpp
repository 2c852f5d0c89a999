// Serving a response a policy holds in store (proxy-cache) instead of the
// upstream's. It goes through the same response hooks as an upstream answer
// (header edits, body edits, CORS and RateLimit headers), so a stored
// response reaches the client exactly as a fresh one would.
#include <algorithm>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

awaitable<bool> Session::serve_stored(Exchange& ex) {
  const policy::StoredResponse& stored = *ex.pctx.serve_stored;
  const http1::RequestHead& head = *ex.head;
  http1::ResponseHead resp;
  resp.status = stored.status;
  resp.headers = stored.headers;
  resp.body = http1::BodyKind::kContentLength;
  resp.content_length = stored.body.size();
  ex.status = resp.status;
  ex.first_byte_us = steady_us() - ex.start_us;
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response(ex.pctx, resp.status, resp.headers);
  });
  for (auto& h : ex.pctx.response_headers) resp.headers.push_back(std::move(h));
  ex.pctx.response_headers.clear();
  // Body edits, when a policy asks for them (in memory: the body is here).
  std::string body = stored.body;
  if (!ex.method_head) {
    uint64_t limit = 0;
    for_each_policy_run(ex, true, [&](const policy::Policy& p) {
      limit = std::max(limit, p.response_body_want(ex.pctx, resp.status, resp.headers).limit);
    });
    if (limit > 0 && body.size() <= limit) {
      for_each_policy_run(ex, true, [&](const policy::Policy& p) {
        p.on_response_body(ex.pctx, resp.status, resp.headers, body);
      });
    }
  }
  std::erase_if(resp.headers,
                [](const http1::Header& h) { return iequals(h.name, "content-length"); });
  const bool no_body = resp.status == 204 || resp.status == 304;
  if (!no_body) resp.headers.push_back({"Content-Length", std::to_string(body.size())});
  const bool close = !head.keep_alive || worker_.draining();
  std::string dhead =
      build_downstream_head(resp, head.version_minor, 0, close, ex.request_id, true);
  const bool send_body = !no_body && !ex.method_head;
  const int64_t idle = ex.route->timeouts.idle_ms > 0 ? ex.route->timeouts.idle_ms : 60'000;
  bool ok = co_await write_all(stream_, deadline_, dhead, send_body ? std::string_view(body)
                                                                    : std::string_view{}, idle);
  deadline_.disarm();
  if (send_body) ex.bytes_out += body.size();
  if (!ok) {
    ex.error = "client_aborted";
    closing_ = true;
    co_return false;
  }
  if (close) closing_ = true;
  co_return !close;
}

}  // namespace gatehouse::proxy
