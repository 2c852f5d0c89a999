// gRPC-Web (grpc/grpc doc/PROTOCOL-WEB.md) to gRPC over HTTP/2, the codec
// half: content types, the text mode's base64, request frame checks and the
// trailer frame that carries the status in the response body. No I/O here
// (forward_h2.cpp and forward_grpc_web.cpp do the exchange), so the fuzz
// target links it alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::proxy::grpc_web {

// A gRPC-Web content type: application/grpc-web[-text][+subtype][;params].
struct Kind {
  bool text = false;    // the request body is base64 (application/grpc-web-text)
  std::string subtype;  // "+proto", "+json", ... or empty
};

bool parse_content_type(std::string_view content_type, Kind& out);
bool is_grpc_web_request(const http1::RequestHead& head);

// The response is text when the request was, or when Accept asks for
// application/grpc-web-text (the spec's way for a binary request to get
// a text answer, e.g. from XHR).
bool wants_text(const http1::RequestHead& head, const Kind& k);

// What the upstream is sent instead: application/grpc + the same subtype.
std::string upstream_content_type(const Kind& k);
// The client's content type for an upstream answer whose content type is
// `upstream` (application/grpc[+subtype]; anything else keeps `fallback`).
std::string response_content_type(bool text, std::string_view upstream, const Kind& fallback);

// A problem with a request body: a stable code and a precise message.
struct Problem {
  std::string code;
  std::string message;
};

// Base64 (RFC 4648 section 4, with padding) of a text-mode body. Several
// padded groups may follow each other: a client may flush its stream in
// pieces, each encoded on its own. Fails on any other character, on a
// length that is not a multiple of 4, or on padding inside a group.
bool base64_decode(std::string_view in, std::string& out, Problem& why);
std::string base64_encode(std::string_view in);

// A request body must be whole gRPC frames (1 flag byte, 4 length bytes,
// the message): the flag 0 or 1 (compressed), no trailer frames (bit 7),
// no frame cut short.
bool check_request_frames(std::string_view body, Problem& why);

// The trailer frame ending a response body: flag 0x80, big-endian length,
// then "name: value\r\n" per field with lower-case names.
std::string trailer_frame(const std::vector<http1::Header>& trailers);

// Response headers the gateway adds for browsers when the route has no
// cors policy of its own: the Origin echoed (no credentials) and the
// gRPC status fields exposed to scripts. Empty without an Origin.
std::vector<http1::Header> cors_response_headers(const http1::RequestHead& head);

// A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method).
bool is_preflight(const http1::RequestHead& head);
// Its answer: 204, POST and OPTIONS allowed, the gRPC-Web request headers
// and whatever the preflight asked for allowed, a day of max-age.
std::string preflight_head(const http1::RequestHead& head, std::string_view request_id,
                           bool close);

}  // namespace gatehouse::proxy::grpc_web
