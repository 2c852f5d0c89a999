// HTTP helpers for the proxy: problem+json bodies, reason phrases, header
// classification and upstream request-head building.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"
#include "net/http1/status.hpp"

namespace gatehouse::proxy {

using http1::problem_json;
using http1::reason_phrase;

bool is_idempotent(std::string_view method);

// Appends one "name: value" field line to a head being built.
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

// X-Request-Id values we propagate: 1..128 visible ASCII chars, no quotes or
// backslashes (they land in JSON logs and headers unescaped elsewhere).
bool valid_request_id(std::string_view id);

// Splits "host[:port]" / "[v6]:port", lower-cases the host. False if malformed.
bool split_host(std::string_view authority, std::string& host_out);

// The names listed in a head's Connection headers (RFC 9110 7.6.1), as views
// into the head: it must outlive this. Eight fit without an allocation.
class ConnectionTokens {
 public:
  explicit ConnectionTokens(const std::vector<http1::Header>& headers);
  bool contains(std::string_view name) const;  // case-insensitive
  size_t size() const { return n_ + more_.size(); }

 private:
  static constexpr size_t kInline = 8;
  std::array<std::string_view, kInline> first_{};
  size_t n_ = 0;
  std::vector<std::string_view> more_;
};

// What the head builders treat specially, told by one look at the name.
enum class FieldKind : uint8_t {
  kOther,
  kHopByHop,       // Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade,
                   // Trailer, Expect: never forwarded as they came
  kContentLength,  // framing we regenerate
  kHost,
  kRequestId,
  kXForwardedFor,
  kXForwardedProto,
  kXForwardedHost,
  kVia,
  kForwarded,  // RFC 7239
};
FieldKind classify_field(std::string_view name);

// The client takes trailer fields in the response: its TE lists "trailers"
// (RFC 9110 10.1.4). Without it, upstream trailers are dropped (6.5.1 allows).
bool accepts_trailers(const http1::RequestHead& head);

// Max-Forwards on OPTIONS and TRACE (RFC 9110 7.6.2): an intermediary that
// gets 0 answers as the final recipient; above 0 it forwards one less.
enum class MaxForwards : uint8_t {
  kAbsent,        // not OPTIONS/TRACE, or no Max-Forwards: forward as usual
  kForward,       // the head now carries the decremented value
  kAnswerHere,    // 0: the gateway answers
  kInvalid,       // not 1*DIGIT, or more than one field line
  kTraceContent,  // TRACE with content (9.3.8 forbids it)
};
// Checks the request's Max-Forwards and, when forwarding, rewrites it in place.
MaxForwards step_max_forwards(http1::RequestHead& head);
// The final recipient's TRACE answer (9.3.8): the request head as received,
// without the fields that carry credentials (Authorization, Cookie, API keys).
std::string trace_reflection(const http1::RequestHead& head);

// A chunk's size line: hex size and CRLF.
std::string chunk_line(size_t n);
// The end of a chunked body: last chunk, trailer fields, empty line.
std::string last_chunk(const std::vector<http1::Header>& trailers);

struct ForwardOptions {
  std::string_view method;
  std::string_view path_and_query;
  std::string_view upstream_host;  // Host to send
  std::string_view client_ip;
  std::string_view original_host;
  std::string_view request_id;
  bool trust_forwarded = false;
  bool https = false;        // the client connection is TLS (X-Forwarded-Proto)
  std::string_view upgrade;  // "websocket": keep Connection: Upgrade + Upgrade
  bool chunked = false;      // request body re-framed as chunked
  bool has_length = false;
  uint64_t content_length = 0;
};

// Builds the request head sent upstream: always HTTP/1.1, keep-alive.
std::string build_upstream_head(const http1::RequestHead& req, const ForwardOptions& o);

// Builds the response head sent downstream. `framing`: 0 = none/as-is
// (Content-Length copied when present), 1 = chunked, 2 = close-delimited.
std::string build_downstream_head(const http1::ResponseHead& resp, int client_minor, int framing,
                                  bool close, std::string_view request_id,
                                  bool keep_content_length);

}  // namespace gatehouse::proxy
