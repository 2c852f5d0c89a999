// HTTP/1.1 <-> HTTP/2 field translation for HTTP/2 upstreams (forward_h2.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"
#include "proxy/upstream/h2_client.hpp"

namespace gatehouse::proxy {

// Fields that never go into HTTP/2 (RFC 9113 8.2.2), plus host and te
// (rebuilt as :authority and "te: trailers").
bool connection_specific(std::string_view name);

// The HTTP/1.1 head build_upstream_head made (forwarding headers and all)
// as HTTP/2 fields: pseudo-headers first, Host as :authority, names
// lower-cased, connection-specific fields dropped, TE only as "trailers",
// and grpc-timeout replaced when `grpc_timeout` is set.
std::vector<H2Field> to_h2_fields(std::string_view h1, std::string_view scheme, bool te_trailers,
                                  const std::string& grpc_timeout);

std::vector<H2Field> to_h2_trailers(const std::vector<http1::Header>& in);

// The first field named `name` (lower-case), empty when absent.
std::string_view find_field(const std::vector<H2Field>& fields, std::string_view name);

}  // namespace gatehouse::proxy
