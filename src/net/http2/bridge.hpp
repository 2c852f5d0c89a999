// The two translations between an HTTP/2 stream and the HTTP/1.1 pipeline
// that serves it (see README.md): a validated Request becomes a strict
// HTTP/1.1 request head with framing we chose, and the HTTP/1.1 response the
// pipeline writes back is parsed into a head, body pieces and an end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"
#include "net/http2/server_session.hpp"

namespace gatehouse::net::http2 {

// How the body goes into the HTTP/1.1 request: none when END_STREAM came
// with HEADERS, Content-Length when the client sent one (nghttp2 checks the
// DATA adds up to it), chunked otherwise. An extended CONNECT (RFC 8441)
// is a tunnel: its DATA are the WebSocket's bytes, passed on as they are.
enum class BodyFraming { kNone, kLength, kChunked, kTunnel };

BodyFraming framing_for(const Request& r);

// "METHOD path HTTP/1.1", Host from :authority, the fields, then the framing.
// An extended CONNECT for websocket becomes the RFC 6455 4.1 opening
// handshake instead (GET, Connection/Upgrade, version 13) with `ws_key` as
// its Sec-WebSocket-Key; the client's own key and version fields are dropped
// (RFC 8441 5: it sends none that matter).
std::string request_head_to_http1(const Request& r, std::string_view ws_key = {});

// Appends one body piece in the given framing.
void append_body(std::string& out, BodyFraming f, std::string_view data);
// The end of a chunked body: the last chunk, the trailer fields, CRLF.
// Nothing for the others (a Content-Length body cannot carry trailers).
void append_body_end(std::string& out, BodyFraming f, const std::vector<Field>& trailers = {});

// Incremental reader of the HTTP/1.1 response the pipeline writes.
class ResponseReader {
 public:
  // tunnel: the request was an extended CONNECT; a 101 is its success
  // (head().status stays 101; the caller answers 200) and what follows is
  // the tunnel's bytes until close.
  explicit ResponseReader(std::string_view request_method, bool tunnel = false);

  struct Output {
    size_t consumed = 0;
    bool head_ready = false;             // `head()` is set (once)
    std::vector<std::string_view> data;  // body pieces, into the fed buffer
    bool done = false;                   // the whole response was read
    bool error = false;
  };
  Output feed(std::string_view in);
  // The pipeline closed its side: ends an until-close body, else an error
  // unless the response was complete.
  bool on_eof();
  const http1::ResponseHead& head() const { return head_; }
  // A 101 to an extended CONNECT: the tunnel is open.
  bool tunnel_open() const { return tunnel_ && head_.status == 101; }
  bool has_body() const { return head_.body != http1::BodyKind::kNone; }
  // Response header fields to send as HTTP/2 (connection-specific and
  // framing fields removed; names lower-cased by ServerSession).
  std::vector<Field> fields() const;
  // The chunked response's trailer fields (forbidden ones already dropped),
  // once done.
  std::vector<Field> trailers() const;

 private:
  enum class State { kHead, kLength, kChunked, kUntilClose, kDone, kError };
  std::string method_;
  bool tunnel_ = false;
  State state_ = State::kHead;
  http1::ResponseHead head_;
  uint64_t remaining_ = 0;
  http1::ChunkedDecoder chunked_;
};

}  // namespace gatehouse::net::http2
