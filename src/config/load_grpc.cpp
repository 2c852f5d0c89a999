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

}  // namespace gatehouse::config::detail
