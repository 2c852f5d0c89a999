#include "proxy/mcp_rest.hpp"

#include "common/strings.hpp"
#include "proxy/internal_call.hpp"
#include "proxy/session.hpp"
// clang-format off
// snapshot.hpp first: exchange.hpp's templates need RouteRuntime complete.
#include "proxy/snapshot.hpp"
#include "proxy/exchange.hpp"
// clang-format on

namespace gatehouse::proxy {

namespace {

std::string header_value(const std::vector<http1::Header>& hs, std::string_view name) {
  for (const auto& h : hs)
    if (iequals(h.name, name)) return h.value;
  return {};
}

// What the sender needs of the MCP request, copied.
struct Origin {
  net::Worker* worker = nullptr;
  std::string client_ip;
  std::shared_ptr<const net::tls::ConnectionInfo> tls;
  std::shared_ptr<const InternalCaller> caller;
  std::string host;
  std::string request_id;
};

// A coroutine of its own (parameters live in its frame), not a coroutine
// lambda, whose captures would live in the std::function instead.
awaitable<mcp::openapi_tools::HttpAnswer> send(std::shared_ptr<const Origin> o,
                                               mcp::openapi_tools::HttpCall c, int64_t timeout_ms) {
  InternalRequest rq;
  rq.method = std::move(c.method);
  rq.target = std::move(c.target);
  rq.host = o->host;
  rq.headers = std::move(c.headers);
  rq.headers.emplace_back("Accept", "application/json");
  rq.body = std::move(c.body);
  rq.request_id = o->request_id;
  rq.timeout_ms = timeout_ms;
  InternalAnswer a =
      co_await call_internal(*o->worker, o->client_ip, o->tls, o->caller, std::move(rq));
  mcp::openapi_tools::HttpAnswer out;
  out.error = std::move(a.error);
  out.status = a.status;
  out.content_type = header_value(a.headers, "content-type");
  out.retry_after = header_value(a.headers, "retry-after");
  out.body = std::move(a.body);
  co_return out;
}

}  // namespace

mcp::RestSend rest_sender(Session& s, const Exchange& ex) {
  auto caller = std::make_shared<InternalCaller>();
  if (ex.pctx.consumer && !ex.pctx.credential_id.empty()) {
    caller->consumer = ex.pctx.consumer->name;
    caller->credential_id = ex.pctx.credential_id;
    for (const auto& [k, v] : ex.pctx.vars)
      if (identity_var(k)) caller->vars.emplace_back(k, v);
  }
  auto o = std::make_shared<Origin>();
  o->worker = &s.worker();
  o->client_ip = s.client_ip();
  o->tls = s.tls_info();
  o->caller = std::move(caller);
  // Routed by the Host the MCP client used (a client without one reached
  // a route without hosts, which "localhost" reaches too).
  o->host = ex.original_host.empty() ? "localhost" : ex.original_host;
  o->request_id = ex.request_id;
  std::shared_ptr<const Origin> origin = std::move(o);
  return [origin](mcp::openapi_tools::HttpCall c, int64_t timeout_ms) {
    return send(origin, std::move(c), timeout_ms);
  };
}

}  // namespace gatehouse::proxy
