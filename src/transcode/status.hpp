// gRPC status -> HTTP status for transcoded calls (the mapping grpc-gateway
// and Envoy's transcoder use, from google/rpc/code.proto's comments).
#pragma once

#include <string_view>

namespace gatehouse::transcode {

int http_status_for_grpc(int code);
// "NOT_FOUND" for 5; "UNKNOWN" for codes outside 0-16.
std::string_view grpc_code_name(int code);

}  // namespace gatehouse::transcode
