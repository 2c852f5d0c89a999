// Pieces of the upstream exchange shared by HTTP/1.1 (forward.cpp) and
// HTTP/2 (forward_h2.cpp) forwarding; defined in forward.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/entities.hpp"

namespace gatehouse::proxy {

struct UpstreamShared;
struct Exchange;

// Passive outlier detection: counts a target's failures, ejects it.
void record_outcome(UpstreamShared& us, int t, bool connect_failure, bool server_error,
                    int64_t now_ms);
// The consistent-hash key of a request.
std::string hash_key_for(const config::BalancerConfig& b, const Exchange& ex,
                         std::string_view client_ip);

}  // namespace gatehouse::proxy
