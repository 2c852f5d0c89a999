// A streamable-HTTP MCP server (2025-11-25 transport): each message is a
// POST accepting JSON or an SSE stream; the SSE stream's notifications are
// relayed to the caller as they arrive, until the response. One connection
// per message (no pooling yet), through net/http_client; sessions belong to the client session, so
// their ids travel in the client's sealed Mcp-Session-Id.

#include "ai/sse/parser.hpp"
#include "common/log.hpp"
#include "config/loader.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/http_client.hpp"

namespace gatehouse::mcp {

namespace {

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
    config::HttpUrl url;
    if (!config::parse_http_url(cfg_.url, url, why)) bad_url_ = why;  // validated at load
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
      case Op::Type::kRespond: {
        Exchange x = co_await self->send("POST", json::serialize(op.message), op.session_id,
                                         op.protocol_version, nullptr, nullptr);
        done.error = x.error;
        break;
      }
      case Op::Type::kClose: {
        if (!op.session_id.empty()) {
          Exchange x = co_await self->send("DELETE", {}, op.session_id,
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
    co_return co_await send("POST", json::serialize(msg), session, version, id, call);
  }

  // One HTTP exchange (net/http_client: the gateway's one outbound client).
  // `id` set: wait for the response with that id (JSON body or SSE stream),
  // relaying notifications to `call` meanwhile.
  awaitable<Exchange> send(std::string_view method, std::string body, const std::string& session,
                           const std::string& version, const json::value* id,
                           const std::shared_ptr<Call>& call) {
    Exchange x;
    net::HttpClientRequest req;
    req.method = std::string(method);
    req.url = cfg_.url;
    req.timeout_ms = cfg_.timeout_ms;
    req.timeout_per_read = true;  // an SSE answer lasts as long as the call
    req.headers.emplace_back("Accept", "application/json, text/event-stream");
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    if (!session.empty()) req.headers.emplace_back("Mcp-Session-Id", session);
    if (!version.empty()) req.headers.emplace_back("MCP-Protocol-Version", version);
    // Per-upstream credentials come from the config only: the client's own
    // token never reaches here (the route builds this request afresh).
    for (const auto& [k, v] : cfg_.headers) req.headers.emplace_back(k, v);
    req.body = std::move(body);
    auto opened = co_await net::http_open(req, nullptr);
    if (!opened) {
      x.error = opened.error().message;
      co_return x;
    }
    net::HttpClientStream& res = *opened.value();
    x.status = res.status();
    if (const std::string* sid = res.header("Mcp-Session-Id")) x.session_id = *sid;
    bool sse = res.content_type().rfind("text/event-stream", 0) == 0;
    if (x.status == 202 || (x.status >= 200 && x.status < 300 && !id)) co_return x;
    if (x.status < 200 || x.status >= 300) {
      x.error = cfg_.url + " answered HTTP " + std::to_string(x.status);
    }
    sse::Parser events;
    std::vector<sse::Event> out;
    std::string whole;
    while (!res.done()) {
      auto piece = co_await res.read_some();
      if (!piece) {
        if (x.error.empty()) x.error = piece.error().message;
        co_return x;
      }
      std::string_view got = piece.value();
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
        // Notifications, and server-to-client requests (sampling,
        // elicitation, roots) the handler relays to the client or refuses.
        if ((m.is_notification() || m.is_request()) && call)
          Call::deliver(call, Event::note(std::move(m.raw)));
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
  std::string bad_url_;
  bool stopped_ = false;
};

}  // namespace

std::shared_ptr<Upstream> make_http_upstream(asio::io_context& ioc,
                                             const config::McpServerConfig& cfg) {
  return std::make_shared<HttpUpstream>(ioc, cfg);
}

}  // namespace gatehouse::mcp
