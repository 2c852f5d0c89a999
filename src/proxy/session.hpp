// One downstream HTTP/1.1 connection, owned by its coroutine frame. Requests
// are handled one at a time (pipelined ones wait in the read buffer), so a
// response can never overtake an earlier one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"
#include "net/io_buffer.hpp"
#include "net/stream.hpp"
#include "net/tls/cert_info.hpp"
#include "net/tls/server.hpp"
#include "policies/policy.hpp"
#include "proxy/access_log.hpp"

namespace gatehouse::net {
class Worker;
struct WorkerUpstream;
}  // namespace gatehouse::net

namespace gatehouse::proxy {

struct Snapshot;
struct RouteMatch;
struct UpstreamConn;
struct Exchange;  // per-request state (exchange.hpp)
struct InternalCaller;  // internal_call.hpp
enum class MaxForwards : uint8_t;  // http_util.hpp

// A read buffer that is released while the connection idles, so idle
// keep-alive connections do not pin memory.
class ReadBuffer {
 public:
  explicit ReadBuffer(net::Worker& w) : worker_(w) {}
  ~ReadBuffer() { release(); }
  std::string_view view() const { return {data_ + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Makes room for at least one byte of reading, growing up to `max_cap`.
  // Returns false when the buffer is full at max_cap.
  bool prepare(size_t max_cap);
  asio::mutable_buffer writable() { return asio::buffer(data_ + end_, cap_ - end_); }
  void commit(size_t n) { end_ += n; }
  void release();  // only when empty
  size_t capacity() const { return cap_; }

 private:
  net::Worker& worker_;
  char* data_ = nullptr;
  net::IoBuffer owned_;
  size_t cap_ = 0, begin_ = 0, end_ = 0;
};

class Session {
 public:
  Session(net::Worker& worker, tcp::socket sock);
  // A connection coming back from the worker's park: its address and idle
  // start are known, and its socket options are already set.
  Session(net::Worker& worker, tcp::socket sock, std::string client_ip, int64_t idle_since_ms);
  // A connection on the TLS listener: the handshake comes first.
  Session(net::Worker& worker, tcp::socket sock, std::shared_ptr<const net::tls::TlsServer> tls);
  // One HTTP/2 stream served through an in-memory pipe (proxy/h2_connection);
  // `tls` is the HTTP/2 connection's handshake (null on h2c), so policies,
  // forwarding and the access log see the same TLS facts as on HTTP/1.1.
  Session(net::Worker& worker, net::DuplexEnd end, std::string client_ip,
          std::shared_ptr<const net::tls::ConnectionInfo> tls = nullptr);
  ~Session();
  // Serves the connection; owns the session. Between requests, a short idle
  // wait happens inside the coroutine; past kShallowIdleMs the coroutine ends
  // and a bare completion handler holds the session until bytes arrive
  // (see go_deep_idle), so long-idle keep-alive connections keep no frames.
  static void start(std::unique_ptr<Session> self);

  tcp::socket& socket() { return stream_.socket(); }
  net::Stream& stream() { return stream_; }
  bool idle() const { return idle_; }
  net::Worker& worker() { return worker_; }
  const std::string& client_ip() const { return client_ip_; }
  const std::shared_ptr<const net::tls::ConnectionInfo>& tls_info() const { return tls_info_; }
  // A request the gateway makes to itself (internal_call.hpp), on a pipe
  // session: served for `caller`, whose identity stands in for the route's
  // authentication; MCP and AI routes do not serve it.
  void set_internal(std::shared_ptr<const InternalCaller> caller);
  // The connection becomes HTTP/2 (H2Connection keeps this session as the
  // owner of its stream): no deadline or buffer of ours stays in use.
  void hand_over() {
    deadline_.unlink();
    buf_.release();
  }

 private:
  static awaitable<void> serve(std::unique_ptr<Session> self);
  awaitable<bool> handshake();
  static void go_deep_idle(std::unique_ptr<Session> self);
  void close();
  awaitable<bool> serve_one();
  awaitable<bool> read_some();
  // `start_us`: steady clock when the head was complete; `snap`: the
  // snapshot the request was read with, which it keeps to its end.
  awaitable<bool> handle(http1::RequestHead& head, int64_t start_us,
                         std::shared_ptr<const Snapshot> snap);
  awaitable<bool> forward(Exchange& ex);
  awaitable<bool> serve_llm(Exchange& ex);  // llm_route.cpp
  // After a 101 to a WebSocket upgrade: both directions relayed until either
  // side closes or nothing moves for idle_ms (upgrade.cpp).
  awaitable<bool> relay_upgraded(Exchange& ex, UpstreamConn& conn, ReadBuffer& ubuf,
                                 const http1::ResponseHead& resp, metrics::UpstreamShard& ustats,
                                 int64_t idle_ms);
  friend class LlmDownstream;
  awaitable<bool> serve_mcp(Exchange& ex);  // mcp_route.cpp
  const std::string* mcp_resource_metadata(const Exchange& ex) const;       // mcp_route.cpp
  awaitable<bool> serve_mcp_metadata(Exchange& ex, const std::string& doc);  // mcp_route.cpp
  friend class McpDownstream;
  friend class H2Forward;  // forward_h2.cpp: HTTP/2 upstreams, gRPC errors
  awaitable<bool> serve_mock(Exchange& ex);  // mock_route.cpp
  using HeaderList = std::vector<std::pair<std::string, std::string>>;
  awaitable<bool> mock_answer(Exchange& ex, int status, std::string content_type, std::string body,
                              HeaderList extra);
  awaitable<bool> mock_problem(Exchange& ex, int status, std::string code, std::string detail,
                               HeaderList extra = {});
  awaitable<bool> send_error(Exchange* ex, int status, std::string_view code,
                             std::string_view detail, bool close);
  awaitable<bool> write_all(net::Stream& s, net::Deadline& d, std::string_view a,
                            std::string_view b = {}, int64_t timeout_ms = 0);
  // write_all in two steps for the request path, where a coroutine frame per
  // write showed in profiles: write_now sends what the socket takes at once;
  // when that is not `finished`, write_rest waits to send the rest (from
  // byte `done` of a then b) under deadline d.
  struct Written {
    bool finished = true;
    bool ok = true;
    size_t done = 0;
  };
  static Written write_now(net::Stream& s, std::string_view a, std::string_view b = {});
  awaitable<bool> write_rest(net::Stream& s, net::Deadline& d, std::string_view a,
                             std::string_view b, size_t done, int64_t timeout_ms);
  awaitable<bool> send_policy_response(Exchange& ex, policy::Respond& r, bool close);
  // OPTIONS/TRACE that stop here: Max-Forwards 0, or a malformed one.
  awaitable<bool> answer_max_forwards(Exchange& ex, MaxForwards mf);
  // A whole request body read into memory, at most `max` bytes (whole_body.cpp).
  // kTooLarge by Content-Length leaves the body unread; every outcome but
  // kComplete leaves the connection out of step: the caller answers and closes.
  struct WholeBody {
    enum Kind { kComplete, kTooLarge, kBadChunked, kIncomplete } kind = kComplete;
    std::string error_code;  // with kBadChunked: the decoder's code
  };
  struct BodyDeadline {
    int64_t ms = 60'000;
    bool per_read = false;  // false: one deadline for the whole body; true: idle per read
  };
  awaitable<WholeBody> read_whole_body(const http1::RequestHead& head, std::string& body,
                                       uint64_t max, BodyDeadline deadline);
  // Whole-body buffering for policies that edit bodies (body_transform.cpp).
  struct BodyStep {
    enum Kind { kStream, kBuffered, kAnswered } kind = kStream;  // kAnswered: a response was sent
    bool keep = false;                                           // with kAnswered
  };
  // How many body bytes the route's policies want in memory (0: the body
  // streams). Checked before buffer_request_body, which is a coroutine: most
  // requests need none, and a frame per request showed in profiles.
  uint64_t request_body_want(Exchange& ex) const;
  awaitable<BodyStep> buffer_request_body(Exchange& ex, std::string& body, uint64_t limit);
  // A policy's stored response instead of the upstream's (stored_response.cpp).
  awaitable<bool> serve_stored(Exchange& ex);
  struct ResponseBodyStep {
    enum Kind { kStream, kSent, kTooLarge, kUpstreamFailed } kind = kStream;
    bool ok_down = true;
    bool up_reusable = false;
  };
  // What the response policies want of the body (limit 0: it streams); the
  // same split as request_body_want.
  static policy::Policy::ResponseBodyWant response_body_want(Exchange& ex,
                                                             const http1::ResponseHead& resp);
  awaitable<ResponseBodyStep> transform_response_body(Exchange& ex, UpstreamConn& conn,
                                                      ReadBuffer& ubuf, http1::ResponseHead& resp,
                                                      bool close_down, int64_t idle_ms,
                                                      policy::Policy::ResponseBodyWant want);
  void finish(Exchange& ex);
  void set_tls_fields(AccessRecord& r) const;

  net::Worker& worker_;
  net::Stream stream_;
  net::Deadline deadline_;
  ReadBuffer buf_;
  std::string client_ip_;
  bool idle_ = false;
  int64_t idle_since_ms_ = 0;
  int64_t finished_at_us_ = 0;  // clock read by finish(), reused by the idle wait after it
  bool closing_ = false;
  // TLS connections: the contexts they were accepted with (kept for the
  // SNI callback) and, once the handshake is done, what it negotiated.
  std::shared_ptr<const net::tls::TlsServer> tls_server_;
  std::shared_ptr<const net::tls::ConnectionInfo> tls_info_;
  bool first_request_ = true;
  bool h2_preface_ = false;    // the client spoke HTTP/2 prior knowledge: hand over
  bool h2_alpn_ = false;       // the TLS handshake negotiated h2: hand over
  std::string_view protocol_;  // for the access log ("HTTP/2" on streams)
  std::shared_ptr<const InternalCaller> internal_;  // set on internal requests only
  // internal_call.cpp: an internal request's route check and identity.
  awaitable<bool> admit_internal(Exchange& ex, bool& keep);
};

}  // namespace gatehouse::proxy
