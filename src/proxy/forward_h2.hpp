// The upstream half of a request to an upstream with `protocol: http2`
// (forward.cpp hands it over), and gRPC answers for errors the gateway
// makes. README.md, "Upstream HTTP/2 and gRPC", says why it looks this way.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/asio.hpp"
#include "net/http1/parser.hpp"
#include "proxy/grpc_web.hpp"

namespace gatehouse::proxy {

class Session;
struct Exchange;
class H2ClientConn;
struct H2Stream;
struct H2Field;

class H2Forward {
 public:
  static awaitable<bool> run(Session& s, Exchange& ex);
  // A gateway-made error for a gRPC client: a trailers-only answer whose
  // grpc-status maps `http_status` (grpc.hpp), with `extra` header fields.
  static awaitable<bool> send_grpc_error(Session& s, Exchange& ex, int http_status,
                                         std::string_view detail,
                                         const std::vector<http1::Header>& extra, bool close);
  // gRPC-Web (forward_grpc_web.cpp): the route converts it and the route
  // has no cors policy that would answer browsers itself.
  static bool web_cors(const Exchange& ex);
  static awaitable<bool> send_web_preflight(Session& s, Exchange& ex);

 private:
  struct Call;
  static awaitable<bool> exchange(Session& s, Exchange& ex, Call& c);
  static awaitable<std::shared_ptr<H2ClientConn>> connect(Session& s, Exchange& ex, Call& c,
                                                          int target, int64_t deadline_ms);
  static awaitable<void> pump_body(Session& s, Exchange& ex, Call& c,
                                   std::shared_ptr<H2ClientConn> conn,
                                   std::shared_ptr<H2Stream> st);
  static awaitable<bool> respond(Session& s, Exchange& ex, Call& c);
  // WebSocket to an HTTP/2 upstream (forward_h2_tunnel.cpp): the request's
  // fields as an RFC 8441 extended CONNECT, and the tunnel after a 2xx.
  static bool tunnel_fields(const Exchange& ex, std::vector<H2Field>& fields);
  static awaitable<bool> tunnel(Session& s, Exchange& ex, Call& c);
  // gRPC-Web: the request body read whole, base64-decoded in text mode and
  // checked to be whole frames; `answered` when an error went out instead.
  struct WebBody {
    bool answered = false;
    bool keep = false;
  };
  // The whole request body of a converted call (gRPC-Web, transcoding),
  // read unless `owned` (already in `body`), at most `limit` bytes. Over the
  // limit, `too_large(close)` answers; a broken body is answered here.
  static awaitable<WebBody> read_converted_body(
      Session& s, Exchange& ex, bool owned, uint64_t limit, std::string& body,
      const std::function<awaitable<bool>(bool close)>& too_large);
  static awaitable<WebBody> web_request_body(Session& s, Exchange& ex, const grpc_web::Kind& k,
                                             bool owned, std::string& body);
  // The end of a gRPC-Web body: the trailer frame (base64 on its own in text
  // mode), then the chunked terminator, or nothing more when the body ends
  // by closing (framing 2, HTTP/1.0 clients).
  static std::string web_trailer_frame(const std::vector<http1::Header>& trailers, bool text,
                                       int framing);
  // HTTP/JSON transcoding (forward_transcode.cpp, routes with grpc_transcode:).
  static awaitable<bool> transcode_unmatched(Session& s, Exchange& ex, Call& c);
  static awaitable<WebBody> transcode_request_body(Session& s, Exchange& ex, Call& c, bool owned,
                                                   std::string& body);
  static void transcode_fields(std::vector<H2Field>& fields);
  static awaitable<bool> transcode_respond(Session& s, Exchange& ex, Call& c);
  // `extra`: response metadata as header fields; `trailers`: trailing
  // metadata, sent as trailers when the client takes them, else as fields.
  static awaitable<bool> transcode_answer(Session& s, Exchange& ex, int status,
                                          std::string_view content_type, std::string body,
                                          bool close, std::vector<http1::Header> extra = {},
                                          std::vector<http1::Header> trailers = {});
  // The upstream's gRPC head as the gRPC-Web answer's: the client's content
  // type, and a chunked body (the status travels in it) unless trailers-only.
  static void web_response_head(bool text, const grpc_web::Kind& k, bool trailers_only,
                                http1::ResponseHead& resp);
};

}  // namespace gatehouse::proxy
