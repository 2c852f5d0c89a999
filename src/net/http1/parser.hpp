// Strict, incremental HTTP/1.1 message-head parser (RFC 9112) and chunked
// body decoder. Owned by us (not Beast) so that every ambiguity that enables
// request smuggling is an error, and so that it can be fuzzed in isolation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::http1 {

struct Header {
  std::string name;   // as received (token chars only); compare with iequals
  std::string value;  // OWS trimmed
};

struct Limits {
  size_t max_request_line = 8 * 1024;   // request-line or status-line bytes
  size_t max_header_bytes = 64 * 1024;  // whole head incl. request line
  size_t max_headers = 100;
};

// How the message body is framed (RFC 9112 section 6).
enum class BodyKind { kNone, kContentLength, kChunked, kUntilClose };

struct RequestHead {
  std::string method;
  std::string target;      // raw request-target as received
  int version_minor = 1;   // HTTP/1.x
  std::vector<Header> headers;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;        // after Connection header and version rules
  bool expect_continue = false;  // Expect: 100-continue present
  bool upgrade = false;          // Connection: upgrade + Upgrade header
  size_t head_bytes = 0;         // bytes consumed by the head incl. final CRLF

  const std::string* find(std::string_view name) const;  // first match, case-insensitive
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int version_minor = 1;
  std::vector<Header> headers;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;
  size_t head_bytes = 0;

  const std::string* find(std::string_view name) const;
};

enum class ParseStatus { kComplete, kIncomplete, kError };

struct ParseError {
  int status = 400;     // 400, 414 (URI too long), 431 (headers too large), 501 (unknown TE), 505
  std::string code;     // e.g. "bare_lf", "cl_and_te", "obs_fold", "bad_header_name"
  std::string message;  // precise text for the problem+json body
};

// Parses one request head from the start of `buf`. kIncomplete means no
// terminating empty line yet and no limit exceeded. On kComplete, head_bytes
// says how much of `buf` was the head. Rejects: bare CR or LF, obs-fold,
// whitespace before the colon, invalid token/field-value bytes, CL together
// with TE, differing or malformed Content-Length, Transfer-Encoding other than
// a final "chunked", HTTP/1.0 with TE, missing or duplicate Host on 1.1, and
// oversized request line / head / header count.
ParseStatus parse_request_head(std::string_view buf, const Limits& limits, RequestHead& out,
                               ParseError& err);

// Parses a response head. `request_method` decides HEAD framing; 1xx, 204 and
// 304 never have a body; a response without CL or chunked reads until close.
ParseStatus parse_response_head(std::string_view buf, const Limits& limits,
                                std::string_view request_method, ResponseHead& out,
                                ParseError& err);

// Fields a trailer section must not carry (RFC 9110 6.5.1): framing,
// routing, request modifiers, authentication, response control and content
// metadata, plus hop-by-hop fields. They are dropped, never forwarded.
bool is_forbidden_trailer(std::string_view name);

// Incremental chunked-body decoder. Feed it bytes; it reports payload spans
// (pointing into the fed buffer) and how much it consumed. Chunk extensions are
// validated and dropped; trailers are validated and, unless keep_trailers()
// was called, dropped (we never forward trailer fields we did not parse).
class ChunkedDecoder {
 public:
  struct Output {
    size_t consumed = 0;                     // bytes of input used
    std::vector<std::string_view> data;      // payload pieces, in order
    bool done = false;                       // last-chunk and trailers seen
    bool error = false;
    std::string error_code;                  // set when error
  };
  explicit ChunkedDecoder(size_t max_line = 4096, size_t max_trailer_bytes = 16 * 1024)
      : max_line_(max_line), max_trailer_bytes_(max_trailer_bytes) {}
  Output feed(std::string_view in);
  bool done() const { return state_ == State::kDone; }
  // Keeps the trailer fields (minus is_forbidden_trailer ones) for
  // trailers(), within max_trailer_bytes.
  void keep_trailers() { keep_trailers_ = true; }
  const std::vector<Header>& trailers() const { return trailers_; }

 private:
  enum class State { kSize, kData, kDataCr, kDataLf, kTrailer, kDone, kError };
  State state_ = State::kSize;
  std::string line_;         // partial size line or trailer line
  uint64_t remaining_ = 0;   // bytes left in the current chunk
  size_t trailer_bytes_ = 0;
  const char* error_code_ = "";  // sticky: later feeds after an error report the same code
  size_t max_line_;
  size_t max_trailer_bytes_;
  bool keep_trailers_ = false;
  std::vector<Header> trailers_;
};

// Token characters (RFC 9110 section 5.6.2).
bool is_tchar(unsigned char c);

}  // namespace gatehouse::http1
