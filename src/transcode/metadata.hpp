// gRPC response metadata as HTTP header fields for the JSON client
// (docs/grpc.md#metadata), grpc-gateway's convention: the upstream's header
// metadata `key` becomes `grpc-metadata-<key>`, its trailing metadata
// `grpc-trailer-<key>`. No protobuf: the proxy and the tests use it alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::transcode {

inline constexpr std::string_view kMetadataPrefix = "grpc-metadata-";
inline constexpr std::string_view kTrailerPrefix = "grpc-trailer-";

// True when an upstream field is gRPC metadata worth passing on: not a
// pseudo-header, not connection-specific, not content-type/length, and not
// one of the grpc- reserved keys (the status is the JSON body's business).
bool is_forwarded_metadata(std::string_view key);

// A value an HTTP/1.1 field can carry (no control characters). HTTP/2 peers
// cannot send anything else; this is belt and braces.
bool valid_field_value(std::string_view v);

// Appends `<prefix><key>: value` for each forwarded entry of `fields` (names
// lower-case as HTTP/2 delivers them; -bin values stay base64 as on the
// wire).
template <typename Field>
void metadata_headers(const std::vector<Field>& fields, bool trailer,
                      std::vector<http1::Header>& out) {
  const std::string_view prefix = trailer ? kTrailerPrefix : kMetadataPrefix;
  for (const auto& f : fields) {
    if (!is_forwarded_metadata(f.name) || !valid_field_value(f.value)) continue;
    http1::Header h;
    h.name.reserve(prefix.size() + f.name.size());
    h.name.append(prefix).append(f.name);
    h.value = f.value;
    out.push_back(std::move(h));
  }
}

}  // namespace gatehouse::transcode
