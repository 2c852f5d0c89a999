// Checks of the routes' grpc_transcode: blocks. The descriptor set is loaded
// and every binding compiled here, at config load, so a missing file, an
// unknown service or method and a bad path template are reported with the
// position of the key that names them (never at request time).
#include <algorithm>
#include <string>

#include "config/loader.hpp"
#include "config/loader_reader.hpp"
#include "transcode/transcoder.hpp"

namespace gatehouse::config {

using detail::locate_field;

void validate_grpc_transcode(const Config& cfg, const FieldPositions& positions,
                             std::vector<ConfigError>& errors) {
  auto error = [&](const SourcePos& at, const std::string& field, std::string code,
                   std::string message) {
    errors.push_back(
        ConfigError{locate_field(positions, field, at), field, std::move(code), std::move(message)});
  };
  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& r = cfg.routes[i];
    if (!r.grpc_transcode) continue;
    const std::string f = "routes[" + std::to_string(i) + "].grpc_transcode";
    if (r.llm || r.mcp || r.mock) {
      error(r.pos, f, "conflicting_fields",
            "grpc_transcode converts to gRPC for an upstream; it does not apply to llm, mcp or "
            "mock routes");
      continue;
    }
    if (r.grpc_transcode->max_body == 0)
      error(r.pos, f + ".max_body", "invalid_value", "max_body must be more than 0 bytes");
    auto u = std::find_if(cfg.upstreams.begin(), cfg.upstreams.end(),
                          [&](const UpstreamConfig& x) { return x.name == r.upstream; });
    if (u != cfg.upstreams.end() && u->protocol != UpstreamProtocol::kHttp2)
      error(r.pos, f, "invalid_value",
            "grpc_transcode needs an upstream with protocol: http2 (upstream " +
                detail::in_quotes(u->name) + " speaks HTTP/1.1)");
    std::vector<transcode::BuildProblem> problems;
    transcode::Transcoder::build(*r.grpc_transcode, problems);
    for (const auto& p : problems) {
      const bool file = p.where == "descriptor" && p.message.rfind("cannot read", 0) == 0;
      error(r.pos, f + "." + p.where, file ? "file_not_found" : "invalid_descriptor", p.message);
    }
  }
}

}  // namespace gatehouse::config
