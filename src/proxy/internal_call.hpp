// A request the gateway makes to itself: served by a Session over an
// in-memory pipe (as HTTP/2 streams are), so it is routed, passes the
// route's policy chain and reaches the upstream by the normal path
// (balancer, health, retries, TLS, pools), with an access-log line and
// metrics like any client's. REST-to-MCP tool calls use it (src/mcp/README.md
// says why in-process rather than a loopback connection).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::net {
class Worker;
}
namespace gatehouse::net::tls {
struct ConnectionInfo;
}

namespace gatehouse::proxy {

// Who the internal request is made for: the MCP caller as its own route
// authenticated it. It travels only as this object on the Session, never as
// bytes, so nothing a client sends can claim it.
struct InternalCaller {
  std::string consumer;       // consumer name; empty = anonymous (no identity carried)
  std::string credential_id;  // the non-secret id of the credential it used
  // Identity notes the MCP route's authentication left (jwt.*, introspection.*).
  std::vector<std::pair<std::string, std::string>> vars;
};

struct InternalRequest {
  std::string method;
  std::string target;  // origin-form: path and query
  std::string host;    // Host header: decides routing like a client's
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // X-Request-Id, so both log lines share it
  int64_t timeout_ms = 60'000;
  uint64_t max_body = 16 * 1024 * 1024;  // of the answer
};

struct InternalAnswer {
  int status = 0;
  std::vector<http1::Header> headers;
  std::string body;   // de-chunked
  std::string error;  // set when no whole answer came back (timeout, too large)

  const std::string* find(std::string_view name) const;
};

// Identity vars worth carrying from the MCP route to the internal request:
// what authentication exported, never another policy's per-request notes
// (a concurrency slot, a quota reservation).
bool identity_var(std::string_view name);

// Serves `rq` on `worker` (call on that worker's thread) as if `client_ip`
// had sent it over a connection with `tls`; `caller` is who it is for.
awaitable<InternalAnswer> call_internal(net::Worker& worker, std::string client_ip,
                                        std::shared_ptr<const net::tls::ConnectionInfo> tls,
                                        std::shared_ptr<const InternalCaller> caller,
                                        InternalRequest rq);

}  // namespace gatehouse::proxy
