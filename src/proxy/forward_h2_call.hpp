// H2Forward's per-request state, shared by forward_h2.cpp (the exchange, the
// body pump, the response), forward_grpc_web.cpp and forward_transcode.cpp.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/entities.hpp"
#include "net/worker.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/grpc_web.hpp"
#include "proxy/upstream/h2_client.hpp"
#include "transcode/transcoder.hpp"

namespace gatehouse::proxy {

// A streamed request body is also kept in memory up to this size, so a
// request whose body ended before the answer came (a unary gRPC call) can
// still be retried (Envoy's retry buffer).
constexpr size_t kReplayLimit = 64 * 1024;

// One request's state, shared by the exchange and its body pump.
struct H2Forward::Call {
  explicit Call(const asio::any_io_executor& e) : pump_wake(e) {}
  std::shared_ptr<net::WorkerUpstream> wu;
  const config::TimeoutsConfig* to = nullptr;
  bool grpc = false;
  bool web = false;       // gRPC-Web converted to gRPC (routes with grpc_web:)
  bool web_text = false;  // ... and the answer goes back base64 (grpc-web-text)
  grpc_web::Kind web_kind;
  // HTTP/JSON transcoded to gRPC (routes with grpc_transcode:, non-gRPC
  // requests): the binding the request matched.
  const transcode::Transcoder* tc = nullptr;
  transcode::Transcoder::Match tm;
  bool tunnel = false;           // a WebSocket upgrade: RFC 8441 extended CONNECT upstream
  int64_t deadline_ms = 0;       // route request timeout and grpc-timeout, 0 = none
  int64_t grpc_deadline_ms = 0;  // grpc-timeout alone: bounds the whole call
  // Body replayable on retry: in memory (none, small, or taken by a policy).
  bool buffered = false;
  std::string replay;
  std::vector<H2Field> replay_trailers;
  size_t replay_consume = 0;  // bytes of the read buffer the replay came from
  // The pump.
  bool pump_running = false, pump_done = false, pump_stop = false;
  bool down_failed = false;
  std::string bad_body;  // error code of a malformed or oversized request body
  bool capture = true;   // the pump keeps a copy while within kReplayLimit
  bool capture_complete = false;
  std::string captured;
  std::vector<H2Field> captured_trailers;
  void keep(std::string_view d) {
    if (!capture) return;
    if (captured.size() + d.size() > kReplayLimit) {
      capture = false;
      captured.clear();
      captured.shrink_to_fit();
      return;
    }
    captured.append(d);
  }
  Wake pump_wake;
  // The winning attempt.
  std::shared_ptr<H2ClientConn> conn;
  std::shared_ptr<H2Stream> st;
  int target = -1;
  int64_t attempt_start_us = 0;
  int last_status = 502;
  std::string last_code = "upstream_unavailable";
  std::string last_detail = "no upstream attempt was made";
};

}  // namespace gatehouse::proxy
