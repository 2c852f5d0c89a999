// routes[].grpc_transcode (docs/grpc.md#httpjson-transcoding), read apart from
// loader.cpp. The descriptor set itself is loaded by validate_grpc_transcode.cpp.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

RouteGrpcTranscodeConfig parse_route_grpc_transcode(Reader& r, const Slot& s);

}  // namespace gatehouse::config::detail
