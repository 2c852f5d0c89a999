// A streamable-HTTP MCP server (2025-11-25 transport): each message is a
// POST accepting JSON or an SSE stream; the SSE stream's notifications are
// relayed to the caller as they arrive, until the response. One connection
// per message (no pooling yet), through net/http_client; sessions belong to the client session, so
// their ids travel in the client's sealed Mcp-Session-Id. While a client
// has its own standalone stream open, the server's standalone stream (GET)
// of that client's upstream session is open too (listen/unlisten), so what
// the server sends outside any call reaches the client.

#include <algorithm>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "ai/sse/parser.hpp"
#include "common/log.hpp"
#include "config/loader.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/http_client.hpp"

namespace gatehouse::mcp {

namespace {

constexpr size_t kMaxBody = 16 * 1024 * 1024;
// A standalone stream stays open while the client's does; an idle server
// sends nothing, so its read timeout is long (the session TTL's default).
constexpr int64_t kStreamIdleMs = 24LL * 3'600'000;
// Back-off between attempts to (re)open a standalone stream.
constexpr int64_t kFirstRetryMs = 100;
constexpr int64_t kMaxRetryMs = 5'000;

// One upstream session's standalone stream, followed for a client's.
struct Listener {
  explicit Listener(asio::io_context& ioc) : wake(ioc) {}
  std::string session_id;
  std::string version;
  std::shared_ptr<OutsideSink> sink;  // null: the client's stream ended, stop
  // Cancelled to stop (the coroutine waits on it beside every read) and
  // used for the back-off.
  asio::steady_timer wake;
  std::string last_event_id;  // for Last-Event-ID on a reconnection
  int64_t retry_ms = 0;       // the server's `retry:`, if it sent one
  bool got_event = false;     // the last stream carried at least one event
};

struct Exchange {
  int status = 0;
  std::string session_id;
  std::optional<json::object> response;  // the JSON-RPC response, when one came
  std::string error;
};

class HttpUpstream final : public Upstream, public std::enable_shared_from_this<HttpUpstream> {
 public:
  HttpUpstream(asio::io_context& ioc, config::McpServerConfig cfg,
               std::shared_ptr<asio::ssl::context> tls)
      : ioc_(ioc), cfg_(std::move(cfg)), tls_(std::move(tls)) {
    std::string why;
    config::HttpUrl url;
    if (!config::parse_http_url(cfg_.url, url, why)) bad_url_ = why;  // validated at load
  }

  void submit(Op op, std::shared_ptr<Call> call) override {
    if (stopped_) return Call::deliver(call, Event::failure("server stopped"));
    if (!bad_url_.empty()) return Call::deliver(call, Event::failure(bad_url_));
    asio::co_spawn(ioc_, run(shared_from_this(), std::move(op), std::move(call)), asio::detached);
  }

  void stop(bool) override {
    stopped_ = true;
    for (auto& [sid, l] : listeners_) halt(*l);
    listeners_.clear();
  }

  void listen(const std::string& session_id, const std::string& version,
              std::shared_ptr<OutsideSink> sink) override {
    if (stopped_ || !bad_url_.empty() || no_standalone_ || session_id.empty()) return;
    auto& l = listeners_[session_id];
    if (l) {  // a new client stream of the same session: the open GET serves it
      l->sink = std::move(sink);
      return;
    }
    l = std::make_shared<Listener>(ioc_);
    l->session_id = session_id;
    l->version = version;
    l->sink = std::move(sink);
    asio::co_spawn(ioc_, follow(shared_from_this(), l), asio::detached);
  }

  void unlisten(const std::string& session_id, const std::shared_ptr<OutsideSink>& sink) override {
    auto it = listeners_.find(session_id);
    if (it == listeners_.end() || it->second->sink != sink) return;  // replaced meanwhile
    halt(*it->second);
    listeners_.erase(it);
  }

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
          Exchange x = co_await self->send("DELETE", {}, op.session_id, op.protocol_version,
                                           nullptr, nullptr);
          // 405: the server does not let clients end sessions; fine.
          if (!x.error.empty() && x.status != 405) done.error = x.error;
        }
        break;
      }
    }
    if (call) Call::deliver(call, std::move(done));
  }

  static void halt(Listener& l) {
    l.sink.reset();
    l.wake.cancel();
  }

  net::HttpClientRequest standalone_request(const Listener& l) const {
    net::HttpClientRequest req;
    req.method = "GET";
    req.url = cfg_.url;
    req.timeout_ms = kStreamIdleMs;
    req.timeout_per_read = true;
    req.tls_name = cfg_.tls.sni;
    req.headers.emplace_back("Accept", "text/event-stream");
    req.headers.emplace_back("Mcp-Session-Id", l.session_id);
    if (!l.version.empty()) req.headers.emplace_back("MCP-Protocol-Version", l.version);
    if (!l.last_event_id.empty()) req.headers.emplace_back("Last-Event-ID", l.last_event_id);
    for (const auto& [k, v] : cfg_.headers) req.headers.emplace_back(k, v);
    return req;
  }

  // Keeps the session's standalone stream open while `l` has a sink:
  // reopened with back-off (and Last-Event-ID, so nothing sent meanwhile is
  // lost on a server that keeps events) when it fails or ends. A 405 means
  // the server offers no such stream: never asked again. A 404 means the
  // session is gone: the client finds out with its next request.
  static awaitable<void> follow(std::shared_ptr<HttpUpstream> self, std::shared_ptr<Listener> l) {
    using namespace asio::experimental::awaitable_operators;
    int64_t backoff_ms = kFirstRetryMs;
    while (l->sink && !self->stopped_) {
      std::string why;
      l->wake.expires_at(asio::steady_timer::time_point::max());
      auto opened = co_await (net::http_open(self->standalone_request(*l), self->tls_) ||
                              l->wake.async_wait(use_nothrow));
      if (opened.index() == 1) break;  // unlisten while connecting
      auto& got = std::get<0>(opened);
      if (!got) {
        why = got.error().message;
      } else {
        net::HttpClientStream& res = *got.value();
        int status = res.status();
        if (status == 405) {
          log::info("mcp server offers no standalone stream (GET answered 405)",
                    {log::f("server", self->cfg_.name)});
          self->no_standalone_ = true;
          break;
        }
        if (status == 404) break;
        if (status == 200 && res.content_type().rfind("text/event-stream", 0) == 0) {
          l->got_event = false;
          why = co_await self->read_standalone(*l, res);
          if (!l->sink) break;
          // A stream that carried something was healthy: start over. One
          // closed at once keeps backing off, not reopened in a tight loop.
          if (l->got_event) backoff_ms = kFirstRetryMs;
        } else {
          why = self->cfg_.url + " answered GET with HTTP " + std::to_string(status);
        }
      }
      if (!l->sink || self->stopped_) break;
      log::warn("mcp server standalone stream lost; reopening",
                {log::f("server", self->cfg_.name), log::f("error", why),
                 log::n("backoff_ms", backoff_ms)});
      // The server's `retry:` (SSE) says when it wants us back.
      l->wake.expires_after(std::chrono::milliseconds(l->retry_ms > 0 ? l->retry_ms : backoff_ms));
      co_await l->wake.async_wait(use_nothrow);
      backoff_ms = std::min(backoff_ms * 2, kMaxRetryMs);
    }
    // Gone for good (405, 404): the next client stream may try again
    // (unless 405), so the entry goes unless another listener replaced it.
    auto it = self->listeners_.find(l->session_id);
    if (it != self->listeners_.end() && it->second == l) self->listeners_.erase(it);
  }

  // Reads one standalone stream until it ends, fails or the listener is
  // stopped; returns why it ended.
  awaitable<std::string> read_standalone(Listener& l, net::HttpClientStream& res) {
    using namespace asio::experimental::awaitable_operators;
    sse::Parser parser;
    std::vector<sse::Event> events;
    while (!res.done()) {
      l.wake.expires_at(asio::steady_timer::time_point::max());
      auto piece = co_await (res.read_some() || l.wake.async_wait(use_nothrow));
      if (piece.index() == 1) co_return "stopped";
      auto& got = std::get<0>(piece);
      if (!got) co_return got.error().message;
      events.clear();
      if (!parser.feed(got.value(), events).ok())
        co_return cfg_.url + " sent an SSE event larger than the frame limit";
      for (auto& e : events) {
        l.got_event = true;
        if (!e.id.empty()) l.last_event_id = e.id;
        if (e.retry) l.retry_ms = static_cast<int64_t>(std::min<uint64_t>(*e.retry, kMaxRetryMs));
        if (e.data.empty() || !l.sink) continue;  // priming events carry an id only
        auto parsed = jsonrpc::parse(e.data);
        if (parsed.batch || !parsed.items[0].msg) continue;
        jsonrpc::Message& m = *parsed.items[0].msg;
        if (!m.is_request() && !m.is_notification()) continue;  // no call here to answer
        std::optional<json::object> answer = l.sink->take(std::move(m.raw));
        if (answer) {
          Op op;
          op.type = Op::Type::kRespond;
          op.message = std::move(*answer);
          op.session_id = l.session_id;
          op.protocol_version = l.version;
          asio::co_spawn(ioc_, run(shared_from_this(), std::move(op), nullptr), asio::detached);
        }
      }
    }
    co_return "the server ended the stream";
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
    req.tls_name = cfg_.tls.sni;
    req.headers.emplace_back("Accept", "application/json, text/event-stream");
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    if (!session.empty()) req.headers.emplace_back("Mcp-Session-Id", session);
    if (!version.empty()) req.headers.emplace_back("MCP-Protocol-Version", version);
    // Per-upstream credentials come from the config only: the client's own
    // token never reaches here (the route builds this request afresh).
    for (const auto& [k, v] : cfg_.headers) req.headers.emplace_back(k, v);
    req.body = std::move(body);
    auto opened = co_await net::http_open(req, tls_);
    if (!opened) {
      x.error = opened.error().message;
      co_return x;
    }
    net::HttpClientStream& res = *opened.value();
    x.status = res.status();
    if (const std::string* sid = res.header("Mcp-Session-Id")) x.session_id = *sid;
    bool sse = res.content_type().rfind("text/event-stream", 0) == 0;
    if (x.status == 202 || (x.status >= 200 && x.status < 300 && !id)) {
      net::HttpClientStream::finish_later(std::move(opened.value()), 1'000);
      co_return x;
    }
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
          // The server normally ends the stream now: its end is read in the
          // background so that the connection is kept for the next message.
          net::HttpClientStream::finish_later(std::move(opened.value()), 1'000);
          co_return x;
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
  std::shared_ptr<asio::ssl::context> tls_;  // null: the system trust store
  std::string bad_url_;
  bool stopped_ = false;
  bool no_standalone_ = false;                                            // a GET was answered 405
  std::unordered_map<std::string, std::shared_ptr<Listener>> listeners_;  // by upstream session
};

}  // namespace

std::shared_ptr<Upstream> make_http_upstream(asio::io_context& ioc,
                                             const config::McpServerConfig& cfg,
                                             std::shared_ptr<asio::ssl::context> tls) {
  return std::make_shared<HttpUpstream>(ioc, cfg, std::move(tls));
}

}  // namespace gatehouse::mcp
