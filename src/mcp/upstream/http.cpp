// A streamable-HTTP MCP server (2025-11-25 transport): each message is a
// POST accepting JSON or an SSE stream; the SSE stream's notifications are
// relayed to the caller as they arrive, until the response. One connection
// per message (no pooling yet); sessions belong to the client session, so
// their ids travel in the client's sealed Mcp-Session-Id.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "ai/sse/parser.hpp"
#include "common/log.hpp"
#include "config/loader.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/upstream/upstream.hpp"

namespace gatehouse::mcp {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr size_t kMaxBody = 16 * 1024 * 1024;

struct Exchange {
  int status = 0;
  std::string session_id;
  std::optional<json::object> response;  // the JSON-RPC response, when one came
  std::string error;
};

class HttpUpstream final : public Upstream, public std::enable_shared_from_this<HttpUpstream> {
 public:
  HttpUpstream(asio::io_context& ioc, config::McpServerConfig cfg)
      : ioc_(ioc), cfg_(std::move(cfg)) {
    std::string why;
    if (!config::parse_http_url(cfg_.url, url_, why)) bad_url_ = why;  // validated at load
    if (url_.prefix.empty()) url_.prefix = "/";
  }

  void submit(Op op, std::shared_ptr<Call> call) override {
    if (stopped_) return Call::deliver(call, Event::failure("server stopped"));
    if (!bad_url_.empty()) return Call::deliver(call, Event::failure(bad_url_));
    asio::co_spawn(ioc_, run(shared_from_this(), std::move(op), std::move(call)), asio::detached);
  }

  void stop(bool) override { stopped_ = true; }

 private:
  static awaitable<void> run(std::shared_ptr<HttpUpstream> self, Op op,
                             std::shared_ptr<Call> call) {
    Event done = Event::ok();
    switch (op.type) {
      case Op::Type::kOpen: {
        json::object init = jsonrpc::make_request("gatehouse-init", "initialize", op.message);
        Exchange x = co_await self->post(init, {}, {}, call);
        if (!x.error.empty() || !x.response) {
          done.error = !x.error.empty() ? x.error : "no initialize response";
          break;
        }
        const json::value* result = x.response->if_contains("result");
        if (!result || !result->is_object()) {
          done.error = "initialize failed: " + json::serialize(*x.response);
          break;
        }
        const json::value* v = result->as_object().if_contains("protocolVersion");
        done.protocol_version = v && v->is_string() ? std::string(v->as_string()) : "";
        done.session_id = x.session_id;
        json::object note = jsonrpc::make_notification("notifications/initialized", {});
        Exchange n = co_await self->post(note, done.session_id, done.protocol_version, nullptr);
        if (!n.error.empty()) {
          done.error = "notifications/initialized: " + n.error;
          break;
        }
        done.message = std::move(*x.response);
        break;
      }
      case Op::Type::kRequest: {
        Exchange x = co_await self->post(op.message, op.session_id, op.protocol_version, call);
        done.session_gone = x.status == 404 && !op.session_id.empty();
        if (x.response)
          done.message = std::move(*x.response);
        else
          done.error = !x.error.empty() ? x.error : "no response";
        break;
      }
      case Op::Type::kNotify: {
        Exchange x = co_await self->post(op.message, op.session_id, op.protocol_version, nullptr);
        done.error = x.error;
        break;
      }
      case Op::Type::kClose: {
        if (!op.session_id.empty()) {
          Exchange x = co_await self->send(http::verb::delete_, {}, op.session_id,
                                           op.protocol_version, nullptr, nullptr);
          // 405: the server does not let clients end sessions; fine.
          if (!x.error.empty() && x.status != 405) done.error = x.error;
        }
        break;
      }
    }
    Call::deliver(call, std::move(done));
  }

  awaitable<Exchange> post(const json::object& msg, const std::string& session,
                           const std::string& version, const std::shared_ptr<Call>& call) {
    const json::value* id = msg.if_contains("id");
    co_return co_await send(http::verb::post, json::serialize(msg), session, version, id, call);
  }

  // One HTTP exchange. `id` set: wait for the response with that id (JSON
  // body or SSE stream), relaying notifications to `call` meanwhile.
  awaitable<Exchange> send(http::verb verb, std::string body, const std::string& session,
                           const std::string& version, const json::value* id,
                           const std::shared_ptr<Call>& call) {
    Exchange x;
    auto timeout = std::chrono::milliseconds(cfg_.timeout_ms);
    tcp::resolver resolver(ioc_);
    auto [rec, results] =
        co_await resolver.async_resolve(url_.host, std::to_string(url_.port), use_nothrow);
    if (rec) {
      x.error = "resolving " + url_.host + ": " + rec.message();
      co_return x;
    }
    beast::tcp_stream stream(ioc_);
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(results, use_nothrow);
    if (cec) {
      x.error = "connecting to " + cfg_.url + ": " + cec.message();
      co_return x;
    }
    http::request<http::string_body> req{verb, url_.prefix, 11};
    req.set(http::field::host, url_.host + ":" + std::to_string(url_.port));
    req.set(http::field::user_agent, "gatehouse");
    req.set(http::field::accept, "application/json, text/event-stream");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    if (!session.empty()) req.set("Mcp-Session-Id", session);
    if (!version.empty()) req.set("MCP-Protocol-Version", version);
    for (const auto& [k, v] : cfg_.headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    stream.expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
    if (wec) {
      x.error = "sending to " + cfg_.url + ": " + wec.message();
      co_return x;
    }
    beast::flat_buffer fb;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // bounded below, per kind of body
    stream.expires_after(timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, fb, parser, use_nothrow);
    if (hec) {
      x.error = "reading the answer of " + cfg_.url + ": " + hec.message();
      co_return x;
    }
    auto& res = parser.get();
    x.status = static_cast<int>(res.result_int());
    if (auto it = res.find("Mcp-Session-Id"); it != res.end())
      x.session_id = std::string(it->value());
    std::string ctype(res[http::field::content_type]);
    bool sse = ctype.rfind("text/event-stream", 0) == 0;
    if (x.status == 202 || (x.status >= 200 && x.status < 300 && !id)) co_return x;
    if (x.status < 200 || x.status >= 300) {
      x.error = cfg_.url + " answered HTTP " + std::to_string(x.status);
    }
    sse::Parser events;
    std::vector<sse::Event> out;
    std::string whole;
    char buf[16 * 1024];
    while (!parser.is_done()) {
      res.body().data = buf;
      res.body().size = sizeof buf;
      stream.expires_after(timeout);
      auto [ec, n] = co_await http::async_read(stream, fb, parser, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (x.error.empty()) x.error = "reading the answer of " + cfg_.url + ": " + ec.message();
        co_return x;
      }
      std::string_view got(buf, sizeof buf - res.body().size);
      if (!sse || !x.error.empty()) {
        if (whole.size() + got.size() > kMaxBody) {
          x.error = cfg_.url + " answered more than 16 MiB";
          co_return x;
        }
        whole.append(got);
        continue;
      }
      out.clear();
      if (!events.feed(got, out).ok()) {
        x.error = cfg_.url + " sent an SSE event larger than the frame limit";
        co_return x;
      }
      for (auto& e : out) {
        if (e.data.empty()) continue;  // priming events carry an id only
        auto parsed = jsonrpc::parse(e.data);
        if (parsed.batch || !parsed.items[0].msg) continue;
        jsonrpc::Message& m = *parsed.items[0].msg;
        if (m.is_response() && id && m.id == *id) {
          x.response = std::move(m.raw);
          co_return x;  // the stream may stay open; we are done with it
        }
        if (m.is_notification() && call) Call::deliver(call, Event::note(std::move(m.raw)));
        // Server-to-client requests on this stream are not relayed yet.
      }
    }
    if (!x.error.empty()) {
      if (!whole.empty()) x.error += ": " + whole.substr(0, 200);
      // An error status may still carry a JSON-RPC error for our id.
      auto parsed = jsonrpc::parse(whole);
      if (!parsed.batch && parsed.items[0].msg && parsed.items[0].msg->is_response())
        x.response = std::move(parsed.items[0].msg->raw);
      co_return x;
    }
    if (sse) {
      x.error = cfg_.url + " ended its event stream without a response";
      co_return x;
    }
    auto parsed = jsonrpc::parse(whole);
    if (parsed.batch || !parsed.items[0].msg || !parsed.items[0].msg->is_response()) {
      x.error = cfg_.url + " answered something that is not a JSON-RPC response";
      co_return x;
    }
    x.response = std::move(parsed.items[0].msg->raw);
    co_return x;
  }

  asio::io_context& ioc_;
  config::McpServerConfig cfg_;
  config::HttpUrl url_;
  std::string bad_url_;
  bool stopped_ = false;
};

}  // namespace

std::shared_ptr<Upstream> make_http_upstream(asio::io_context& ioc,
                                             const config::McpServerConfig& cfg) {
  return std::make_shared<HttpUpstream>(ioc, cfg);
}

}  // namespace gatehouse::mcp
