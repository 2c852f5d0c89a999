// The downstream side of an MCP route's exchange: whole JSON answers, and
// SSE streams written as chunks (proxy/mcp_route.cpp, proxy/mcp_legacy.cpp).
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "mcp/jsonrpc/message.hpp"
// snapshot.hpp first: exchange.hpp's templates need RouteRuntime complete.
#include "proxy/snapshot.hpp"
#include "proxy/exchange.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"

namespace gatehouse::proxy {

inline constexpr int64_t kMcpWriteTimeoutMs = 60'000;

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
                                    ex_.method_head ? std::string_view{} : body, kMcpWriteTimeoutMs);
    s_.deadline_.disarm();
    ex_.status = status;
    ex_.bytes_out += ex_.method_head ? 0 : body.size();
    co_return ok;
  }

  // A JSON-RPC error as the whole answer, with an HTTP status.
  awaitable<bool> rpc_error(int status, const boost::json::value& id, int code, std::string_view message,
                            std::string_view err, const boost::json::value* data = nullptr) {
    ex_.error = std::string(err);
    co_return co_await respond(status, "application/json",
                               mcp::jsonrpc::error_response(id, code, message, data));
  }

  awaitable<bool> start_stream() {
    std::string head = head_line(200);
    head +=
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: "
        "chunked\r\n";
    finish_head(head);
    ex_.status = 200;
    streaming = true;
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, head, {}, kMcpWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  // One SSE event; `id` empty for none. Empty `json_text` is a priming
  // event (an id the client can resume from, no message).
  awaitable<bool> event(std::string_view id, std::string_view json_text) {
    std::string data;
    if (!id.empty()) {
      data += "id: ";
      data += id;
      data += '\n';
    }
    if (json_text.empty()) {
      data += "data:\n\n";
    } else {
      data += "event: message\ndata: ";
      data += json_text;
      data += "\n\n";
    }
    co_return co_await chunk(data);
  }

  // An SSE comment: keeps idle intermediaries from closing a quiet stream
  // and tells us when the client has gone.
  awaitable<bool> keep_alive() { co_return co_await chunk(": keep-alive\n\n"); }

  // An SSE event with its own type (the HTTP+SSE transport's `endpoint`).
  awaitable<bool> named_event(std::string_view type, std::string_view data) {
    std::string e = "event: ";
    e += type;
    e += "\ndata: ";
    e += data;
    e += "\n\n";
    co_return co_await chunk(e);
  }

  awaitable<bool> end_stream() {
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, "0\r\n\r\n", {}, kMcpWriteTimeoutMs);
    s_.deadline_.disarm();
    co_return ok;
  }

  bool close_after = false;
  bool streaming = false;

 private:
  awaitable<bool> chunk(std::string_view data) {
    std::array<char, 24> line{};
    int n = std::snprintf(line.data(), line.size(), "%zx\r\n", data.size());
    std::string framed(line.data(), static_cast<size_t>(n));
    framed += data;
    framed += "\r\n";
    bool ok = co_await s_.write_all(s_.stream_, s_.deadline_, framed, {}, kMcpWriteTimeoutMs);
    s_.deadline_.disarm();
    if (ok) {
      if (ex_.first_byte_us < 0) ex_.first_byte_us = steady_us() - ex_.start_us;
      ex_.bytes_out += data.size();
    }
    co_return ok;
  }

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

}  // namespace gatehouse::proxy
