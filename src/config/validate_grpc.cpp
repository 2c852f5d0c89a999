// Checks of the routes' grpc_web: blocks. gRPC-Web is converted to gRPC,
// which only an HTTP/2 upstream speaks.
#include <algorithm>
#include <string>

#include "config/loader.hpp"
#include "config/loader_reader.hpp"

namespace gatehouse::config {

using detail::locate_field;

void validate_grpc(const Config& cfg, const FieldPositions& positions,
                   std::vector<ConfigError>& errors) {
  auto error = [&](const SourcePos& at, const std::string& field, std::string code,
                   std::string message) {
    errors.push_back(
        ConfigError{locate_field(positions, field, at), field, std::move(code), std::move(message)});
  };
  for (size_t i = 0; i < cfg.upstreams.size(); ++i) {
    const auto& u = cfg.upstreams[i];
    const std::string f = "upstreams[" + std::to_string(i) + "].http2";
    if (u.http2.ping_interval_ms > 0 && u.protocol != UpstreamProtocol::kHttp2)
      error(u.pos, f + ".ping_interval", "invalid_value",
            "HTTP/2 PINGs need protocol: http2 on the upstream");
    if (u.http2.ping_interval_ms < 0)
      error(u.pos, f + ".ping_interval", "invalid_value", "must be 0 (off) or more");
    if (u.http2.ping_timeout_ms <= 0)
      error(u.pos, f + ".ping_timeout", "invalid_value", "must be more than 0");
  }
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& r = cfg.routes[i];
    if (!r.grpc_web) continue;
    const std::string f = "routes[" + std::to_string(i) + "].grpc_web";
    if (r.llm || r.mcp || r.mock) {
      error(r.pos, f, "conflicting_fields",
            "grpc_web converts to gRPC for an upstream; it does not apply to llm, mcp or mock "
            "routes");
      continue;
    }
    if (r.grpc_web->max_body == 0)
      error(r.pos, f + ".max_body", "invalid_value", "max_body must be more than 0 bytes");
    auto u = std::find_if(cfg.upstreams.begin(), cfg.upstreams.end(),
                          [&](const UpstreamConfig& x) { return x.name == r.upstream; });
    if (u != cfg.upstreams.end() && u->protocol != UpstreamProtocol::kHttp2)
      error(r.pos, f, "invalid_value",
            "grpc_web needs an upstream with protocol: http2 (upstream " + detail::in_quotes(u->name) +
                " speaks HTTP/1.1)");
  }
}

}  // namespace gatehouse::config
