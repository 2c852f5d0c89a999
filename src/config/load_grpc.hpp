// routes[].grpc_web (docs/grpc.md) and upstreams[].http2 (docs/http2.md), read apart from loader.cpp so the loader
// only calls in.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// `true`/`false`, or a map {cors, max_body}. nullopt when switched off.
std::optional<RouteGrpcWebConfig> parse_route_grpc_web(Reader& r, const Slot& s);

// upstreams[].http2: {ping_interval, ping_timeout}.
void parse_upstream_http2(Reader& r, const Slot& s, UpstreamHttp2Config& out);

}  // namespace gatehouse::config::detail
