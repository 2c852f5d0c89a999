// The wire format of hmac-auth, compatible with Kong's and APISIX's plugins
// (draft-cavage HTTP signatures as those gateways apply them):
//
//   Authorization: hmac username="alice", algorithm="hmac-sha256",
//                  headers="date request-line x-foo", signature="<base64>"
//
// The signing string is one line per listed header, "<name>: <value>" with
// the name as the client listed it, joined with "\n"; the pseudo-header
// "request-line" is the request line as received ("GET /p?q HTTP/1.1").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::policy::hmac_auth {

struct SignatureParams {
  std::string username;
  std::string algorithm;
  std::vector<std::string> headers;  // as listed; default {"date"}
  std::string signature;             // base64 text as sent
};

// True when `value` uses the hmac scheme at all (so an "hmac" header that is
// malformed is invalid, while a Bearer or Basic header is not ours).
bool is_hmac_scheme(std::string_view value);

// Parses the parameters; false with `why` when malformed (missing username,
// algorithm or signature, duplicate parameters, bad quoting).
bool parse_authorization(std::string_view value, SignatureParams& out, std::string& why);

// Builds the signing string. False with `missing` set to the first listed
// header the request does not carry.
bool signing_string(const http1::RequestHead& head, const std::vector<std::string>& headers,
                    std::string& out, std::string& missing);

// IMF-fixdate (RFC 9110 section 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT",
// as seconds since the epoch. The obsolete RFC 850 and asctime forms are
// refused: a signing client generates the current form.
std::optional<int64_t> parse_http_date(std::string_view s);

}  // namespace gatehouse::policy::hmac_auth
