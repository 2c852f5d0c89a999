// gRPC facts the proxy acts on (docs/grpc.md): which requests are gRPC,
// the grpc-timeout deadline, status mapping for errors the gateway makes.
// Messages are never parsed here: gRPC over HTTP/2 passes through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::proxy::grpc {

// gRPC status codes the gateway itself produces.
inline constexpr int kOk = 0;
inline constexpr int kUnknown = 2;
inline constexpr int kInvalidArgument = 3;
inline constexpr int kDeadlineExceeded = 4;
inline constexpr int kPermissionDenied = 7;
inline constexpr int kResourceExhausted = 8;
inline constexpr int kUnimplemented = 12;
inline constexpr int kInternal = 13;
inline constexpr int kUnavailable = 14;
inline constexpr int kUnauthenticated = 16;

// Content-Type application/grpc or application/grpc+proto, ... (not grpc-web).
bool is_grpc(std::string_view content_type);
bool is_grpc_request(const http1::RequestHead& head);
// gRPC or gRPC-Web: the client reads gateway errors as a grpc-status.
bool answers_in_grpc(const http1::RequestHead& head);

// grpc-timeout: 1 to 8 digits and a unit (H M S m u n). Returns the timeout
// in milliseconds, rounded up (so 1n still leaves 1 ms), or -1 when malformed.
int64_t parse_timeout(std::string_view v);
// The value sent upstream for `ms` milliseconds (at most 8 digits).
std::string format_timeout(int64_t ms);

// The status for an HTTP error the gateway answers with: the gRPC spec's
// HTTP mapping, sharpened where the gateway knows the cause (504 is a
// deadline, 429 and 413 are exhausted resources).
int status_for_http(int http_status);

// grpc-message value: percent-encoded outside printable ASCII and '%'.
std::string encode_message(std::string_view message);

// A grpc-status value, or -1 when absent or malformed.
int parse_status(const std::string* value);

// The HTTP/1.1 head of a trailers-only gRPC answer (HTTP 200, no body,
// grpc-status and grpc-message as header fields). Through the HTTP/2 bridge
// it becomes one HEADERS frame with END_STREAM: gRPC's Trailers-Only form.
// `content_type` is application/grpc-web... for gRPC-Web clients.
std::string trailers_only_head(int status, std::string_view message, std::string_view request_id,
                               const std::vector<http1::Header>& extra, bool close,
                               std::string_view content_type = "application/grpc");

}  // namespace gatehouse::proxy::grpc
