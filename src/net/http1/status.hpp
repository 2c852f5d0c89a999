// Reason phrases and problem+json bodies. They live beside the parser, not in
// proxy/, because the HTTP/2 server session answers its own protocol-level
// errors (431, 501) in the same shape as the HTTP/1.1 pipeline, and that code
// is also linked into the fuzz targets, which cannot link the proxy.
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::http1 {

const char* reason_phrase(int status);

// RFC 9457 problem details; `code` is our stable machine-readable code.
std::string problem_json(int status, std::string_view code, std::string_view detail,
                         std::string_view request_id);

}  // namespace gatehouse::http1
