#include "config/load_grpc.hpp"

namespace gatehouse::config::detail {

std::optional<RouteGrpcWebConfig> parse_route_grpc_web(Reader& r, const Slot& s) {
  if (!s.node.IsMap()) {
    bool on = false;
    r.read(s, on);
    if (!on) return std::nullopt;
    return RouteGrpcWebConfig{};
  }
  RouteGrpcWebConfig g;
  Fields f(r, s, {"cors", "max_body"});
  f.read("cors", g.cors);
  f.size("max_body", g.max_body);
  return g;
}

void parse_upstream_http2(Reader& r, const Slot& s, UpstreamHttp2Config& out) {
  Fields f(r, s, {"ping_interval", "ping_timeout"});
  f.duration("ping_interval", out.ping_interval_ms);
  f.duration("ping_timeout", out.ping_timeout_ms);
}

}  // namespace gatehouse::config::detail
