// Routes with `mcp:` are one virtual MCP server (src/mcp) speaking the
// Streamable HTTP transport (2025-11-25) on the route's path: POST carries
// one JSON-RPC message and gets JSON, or an SSE stream when the request asked
// for progress; notifications and responses get 202; DELETE ends a session;
// GET (a server-initiated stream) is 405 for now, as the transport allows.
#include <array>
#include <cstdio>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "mcp/server/handler.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"

namespace gatehouse::proxy {

namespace json = boost::json;

namespace {
constexpr int64_t kBodyTimeoutMs = 60'000;
constexpr int64_t kWriteTimeoutMs = 60'000;

bool accepts(const std::string* accept, std::string_view type) {
  if (!accept) return false;
  std::string a = to_lower(*accept);
  return a.find(type) != std::string::npos || a.find("*/*") != std::string::npos;
}
}  // namespace

class McpDownstream {
 public:
  McpDownstream(Session& s, Exchange& ex) : s_(s), ex_(ex) {}

  awaitable<bool> respond(int status, std::string_view content_type, std::string_view body,
                          std::string_view session_id = {}) {
    std::string head = head_line(status);
    if (!content_type.empty()) {
      head += "Content-Type: ";
      head += content_type;
      head += "\r\n";
    }
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!session_id.empty()) head += "Mcp-Session-Id: " + std::string(session_id) + "\r\n";
    finish_head(head);
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, head,
                                    ex_.method_head ? std::string_view{} : body, kWriteTimeoutMs);
    s_.deadline_.disarm();
    ex_.status = status;
    ex_.bytes_out += ex_.method_head ? 0 : body.size();
    co_return ok;
  }

  // A JSON-RPC error as the whole answer, with an HTTP status.
  awaitable<bool> rpc_error(int status, const json::value& id, int code, std::string_view message,
                            std::string_view err) {
    ex_.error = std::string(err);
    co_return co_await respond(status, "application/json",
                               mcp::jsonrpc::error_response(id, code, message));
  }

  awaitable<bool> start_stream() {
    std::string head = head_line(200);
    head +=
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: "
        "chunked\r\n";
    finish_head(head);
    ex_.status = 200;
    streaming = true;
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, head, {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  awaitable<bool> event(std::string_view json_text) {
    std::string data = "event: message\ndata: ";
    data += json_text;
    data += "\n\n";
    std::array<char, 24> line{};
    int n = std::snprintf(line.data(), line.size(), "%zx\r\n", data.size());
    std::string framed(line.data(), static_cast<size_t>(n));
    framed += data;
    framed += "\r\n";
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, framed, {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    if (ok) {
      if (ex_.first_byte_us < 0) ex_.first_byte_us = steady_us() - ex_.start_us;
      ex_.bytes_out += data.size();
    }
    co_return ok;
  }

  awaitable<bool> end_stream() {
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, "0\r\n\r\n", {}, kWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  bool close_after = false;
  bool streaming = false;

 private:
  static std::string head_line(int status) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  }
  void finish_head(std::string& head) const {
    for (const auto& h : ex_.pctx.response_headers) head += h.name + ": " + h.value + "\r\n";
    head += "X-Request-Id: " + ex_.request_id + "\r\n";
    if (close_after) head += "Connection: close\r\n";
    head += "\r\n";
  }

  Session& s_;
  Exchange& ex_;
};

awaitable<bool> Session::serve_mcp(Exchange& ex) {
  namespace jr = mcp::jsonrpc;
  http1::RequestHead& head = *ex.head;
  const config::RouteConfig& route = *ex.match.route;
  const config::RouteMcpConfig& rm = *route.mcp;
  ex.mcp = std::make_unique<mcp::Outcome>();
  McpDownstream down(*this, ex);
  const json::value null_id;
  bool has_body = head.body != http1::BodyKind::kNone;
  auto refuse = [&](int status, std::string_view message,
                    std::string_view code) -> awaitable<bool> {
    // The body (if any) was not read: answer and close.
    closing_ = has_body;
    down.close_after = closing_;
    co_return co_await down.rpc_error(status, null_id, jr::kInvalidRequest, message, code) &&
        !closing_;
  };

  const auto* rt = ex.snap->mcp.get();
  if (!rt) co_return co_await refuse(500, "no mcp: section in the config", "mcp_not_configured");

  // DNS-rebinding defence: a browser always sends Origin; it must be allowed.
  if (const std::string* origin = head.find("origin")) {
    const auto& allowed = rt->cfg.allowed_origins;
    bool ok = std::any_of(allowed.begin(), allowed.end(),
                          [&](const std::string& a) { return a == "*" || iequals(a, *origin); });
    if (!ok)
      co_return co_await refuse(403, "Origin not allowed: " + *origin, "mcp_origin_forbidden");
  }
  if (head.method == "GET") {
    closing_ = has_body;
    down.close_after = closing_;
    ex.pctx.response_headers.push_back({"Allow", "POST, DELETE"});
    co_return co_await down.respond(405, {}, {}) && !closing_;
  }
  if (head.method != "POST" && head.method != "DELETE") {
    ex.pctx.response_headers.push_back({"Allow", "POST, DELETE"});
    co_return co_await refuse(405, "an MCP endpoint takes POST and DELETE", "method_not_allowed");
  }
  const std::string* version = head.find("mcp-protocol-version");
  if (version && !mcp::supported_version(*version))
    co_return co_await refuse(400, "unsupported MCP-Protocol-Version: " + *version,
                              "mcp_bad_protocol_version");

  mcp::Request rq;
  rq.rt = rt;
  rq.route = &route;
  rq.consumer = ex.pctx.consumer ? ex.pctx.consumer->name : std::string();
  rq.worker = worker_.ioc().get_executor();
  rq.worker_index = worker_.index();
  const std::string* sid = head.find("mcp-session-id");
  auto open_session = [&]() -> bool {
    if (!sid) return false;
    auto plain = rt->key->open(*sid);
    if (!plain) return false;
    auto st = mcp::SessionState::decode(*plain);
    if (!st || st->route != route.name || st->consumer != rq.consumer) return false;
    int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    if (now_s - st->issued_s > rt->cfg.session_ttl_ms / 1000) return false;
    rq.session = std::move(st);
    rq.session_token = *sid;
    return true;
  };

  if (head.method == "DELETE") {
    if (!sid) co_return co_await refuse(400, "DELETE needs an Mcp-Session-Id", "mcp_no_session");
    if (!open_session())
      co_return co_await refuse(404, "unknown or expired session", "mcp_unknown_session");
    ex.mcp->method = "session/delete";
    co_await mcp::close_session(rq);
    closing_ = has_body;
    down.close_after = closing_;
    co_return co_await down.respond(204, {}, {}) && !closing_;
  }

  // ---- POST: one JSON-RPC message
  const std::string* ctype = head.find("content-type");
  if (!ctype || to_lower(*ctype).rfind("application/json", 0) != 0)
    co_return co_await refuse(415, "Content-Type must be application/json", "mcp_bad_content_type");
  const std::string* accept = head.find("accept");
  if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream"))
    co_return co_await refuse(406, "Accept must list application/json and text/event-stream",
                              "mcp_not_acceptable");
  if (!has_body)
    co_return co_await refuse(400, "a POST carries one JSON-RPC message", "mcp_no_body");
  if (head.body == http1::BodyKind::kContentLength && head.content_length > rm.max_body)
    co_return co_await refuse(413, "request body exceeds " + std::to_string(rm.max_body) + " bytes",
                              "body_too_large");

  std::string body;
  {
    if (head.expect_continue)
      co_await write_all(stream_, deadline_, "HTTP/1.1 100 Continue\r\n\r\n", {}, kWriteTimeoutMs);
    deadline_.arm(worker_.deadlines(), &stream_.socket(), steady_ms() + kBodyTimeoutMs);
    bool complete = false, too_large = false, bad = false;
    if (head.body == http1::BodyKind::kContentLength) {
      body.reserve(head.content_length);
      for (;;) {
        size_t take = std::min(head.content_length - body.size(), buf_.size());
        body.append(buf_.view().substr(0, take));
        buf_.consume(take);
        if (body.size() == head.content_length) {
          complete = true;
          break;
        }
        if (!co_await read_some()) break;
      }
    } else {
      http1::ChunkedDecoder dec;
      for (;;) {
        if (!buf_.empty()) {
          auto o = dec.feed(buf_.view());
          for (auto d : o.data) body.append(d);
          buf_.consume(o.consumed);
          if (o.error) {
            bad = true;
            break;
          }
          if (body.size() > rm.max_body) {
            too_large = true;
            break;
          }
          if (o.done) {
            complete = true;
            break;
          }
        }
        if (!co_await read_some()) break;
      }
    }
    deadline_.disarm();
    ex.bytes_in = body.size();
    if (too_large || bad) {
      has_body = true;
      co_await refuse(too_large ? 413 : 400,
                      too_large ? "request body exceeds " + std::to_string(rm.max_body) + " bytes"
                                : "invalid chunked request body",
                      too_large ? "body_too_large" : "bad_chunked_body");
      co_return false;
    }
    if (!complete) {
      ex.status = 400;
      ex.error = "client_body_incomplete";
      closing_ = true;
      co_return false;
    }
  }
  has_body = false;  // read whole: the connection stays usable

  jr::Parsed parsed = jr::parse(body);
  if (parsed.batch) {
    // JSON-RPC batching left MCP in 2025-06-18; 2025-03-26 clients do not
    // batch in practice. Answered as one invalid request.
    co_return co_await down.rpc_error(400, null_id, jr::kInvalidRequest,
                                      "JSON-RPC batches are not supported (removed from MCP in "
                                      "2025-06-18); send one message per POST",
                                      "mcp_batch");
  }
  auto& item = parsed.items[0];
  if (!item.msg)
    co_return co_await down.rpc_error(
        400, item.fail.id, item.fail.code, item.fail.message,
        item.fail.code == jr::kParseError ? "mcp_parse_error" : "mcp_invalid_request");
  rq.msg = std::move(*item.msg);
  ex.mcp->method = rq.msg.is_request() || rq.msg.is_notification() ? rq.msg.method : "response";

  bool is_init = rq.msg.is_request() && rq.msg.method == "initialize";
  if (!is_init) {
    if (!sid)
      co_return co_await down.rpc_error(400, rq.msg.id, jr::kInvalidRequest,
                                        "Mcp-Session-Id is required (initialize first)",
                                        "mcp_no_session");
    if (!open_session())
      co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                        "unknown or expired session; initialize again",
                                        "mcp_unknown_session");
  }

  if (!rq.msg.is_request()) {
    // Notifications and responses: accepted with no body.
    if (rq.msg.is_notification()) co_await mcp::handle_notification(rq);
    co_return co_await down.respond(202, {}, {});
  }

  // Progress needs a stream: answer with SSE when the client asked for it.
  bool wants_progress = false;
  if (const auto* p = rq.msg.params()) {
    if (const auto* meta = p->if_contains("_meta"); meta && meta->is_object())
      wants_progress = meta->as_object().contains("progressToken");
  }
  bool stream_broken = false;
  if (wants_progress) {
    rq.on_note = [&](const json::object& note) -> awaitable<void> {
      if (stream_broken) co_return;
      if (!down.streaming && !co_await down.start_stream()) {
        stream_broken = true;
        co_return;
      }
      if (!co_await down.event(json::serialize(note))) stream_broken = true;
    };
  }
  int64_t start = steady_us();
  mcp::Reply reply = co_await mcp::handle_request(rq, *ex.mcp);
  if (ex.mcp->upstream_us < 0) ex.mcp->upstream_us = steady_us() - start;
  if (reply.session_gone) {
    ex.mcp->rpc_error = jr::kInvalidRequest;
    if (down.streaming) {
      co_await down.event(
          jr::error_response(rq.msg.id, jr::kInvalidRequest, "session expired upstream"));
      co_return co_await down.end_stream() && !stream_broken;
    }
    co_return co_await down.rpc_error(404, rq.msg.id, jr::kInvalidRequest,
                                      "an upstream server ended this session; initialize again",
                                      "mcp_session_gone");
  }
  if (down.streaming) {
    if (stream_broken) co_return false;
    if (!co_await down.event(reply.body)) co_return false;
    co_return co_await down.end_stream();
  }
  co_return co_await down.respond(200, "application/json", reply.body, reply.new_session_token);
}

}  // namespace gatehouse::proxy
