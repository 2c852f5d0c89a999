// An MCP server speaking the deprecated HTTP+SSE transport (2024-11-05):
// the session is a GET stream whose first event (`endpoint`) says where to
// POST; every message is POSTed there (answered 202) and every answer comes
// back on the stream. So, unlike streamable HTTP, the session is a live
// connection held on this node's MCP thread: the id the gateway seals into
// the client's token names it (a random per-process prefix, so a token from
// before a restart or from another node is "gone" and the client initializes
// again). Request ids and progress tokens are rewritten per session, as for a
// stdio child, since the stream carries the answers of every request.
// What the server sends when no call is in flight goes to the client's
// standalone stream while one is open (listen/unlisten), else a request is
// refused at once.
#include <openssl/rand.h>

#include <algorithm>

#include "ai/sse/parser.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "config/loader.hpp"
#include "mcp/hub.hpp"
#include "mcp/jsonrpc/message.hpp"
#include "mcp/server/list_cache.hpp"
#include "mcp/upstream/upstream.hpp"
#include "net/http_client.hpp"

namespace gatehouse::mcp {

namespace {

// The GET stream lives as long as the session; idle SSE servers send
// nothing, so its read timeout is long (the session TTL's default).
constexpr int64_t kStreamIdleMs = 24LL * 3'600'000;
// Back-off between attempts to open the stream, within the server's timeout.
constexpr int64_t kFirstRetryMs = 100;
constexpr int64_t kMaxRetryMs = 2'000;

std::string process_prefix() {
  static const std::string p = [] {
    unsigned char b[6];
    if (RAND_bytes(b, sizeof b) != 1) std::abort();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "sse-";
    for (unsigned char c : b) {
      s += kHex[c >> 4];
      s += kHex[c & 15];
    }
    return s + "-";
  }();
  return p;
}

struct Pending {
  std::shared_ptr<Call> call;
  json::value client_id;
  json::value client_token;  // the caller's progress token, when it sent one
  std::string progress_key;  // ours, on the wire
  std::shared_ptr<asio::steady_timer> timer;
  // kOpen: what to do with the initialize response instead of delivering it.
  std::function<void(json::object)> on_response;
};

// One upstream session: its stream and what waits for answers on it.
struct Conn {
  explicit Conn(asio::io_context& ioc) : ready(ioc) {}
  std::string key;
  std::string endpoint;        // absolute POST URL, from the `endpoint` event
  std::string failure;         // why the stream ended or never opened
  bool opened_failed = false;  // the GET itself failed (worth another try)
  asio::steady_timer ready;    // cancelled when the endpoint is known (or the stream failed)
  bool closed = false;
  std::unordered_map<int64_t, Pending> pending;
  std::unordered_map<std::string, int64_t> progress;  // our token -> our id
  int64_t next_id = 1;
  // The client's standalone stream, while it has one open: what comes with
  // no call in flight goes there.
  std::shared_ptr<OutsideSink> outside;
};

class SseUpstream final : public Upstream, public std::enable_shared_from_this<SseUpstream> {
 public:
  SseUpstream(asio::io_context& ioc, config::McpServerConfig cfg,
              std::shared_ptr<asio::ssl::context> tls)
      : ioc_(ioc), cfg_(std::move(cfg)), tls_(std::move(tls)) {
    std::string why;
    if (!config::parse_http_url(cfg_.url, base_, why)) bad_url_ = why;  // validated at load
  }

  void submit(Op op, std::shared_ptr<Call> call) override {
    if (stopped_) return Call::deliver(call, Event::failure("server stopped"));
    if (!bad_url_.empty()) return Call::deliver(call, Event::failure(bad_url_));
    if (op.type == Op::Type::kOpen) {
      asio::co_spawn(ioc_, open(shared_from_this(), std::move(op), std::move(call)),
                     asio::detached);
      return;
    }
    auto it = conns_.find(op.session_id);
    if (it == conns_.end() || it->second->closed) {
      // The stream (so the session) is gone: the client initializes again.
      Event e = Event::failure("the HTTP+SSE session ended");
      e.session_gone = true;
      return Call::deliver(call, std::move(e));
    }
    std::shared_ptr<Conn> c = it->second;
    if (op.type == Op::Type::kClose) {
      end(*c, "session closed");
      conns_.erase(it);
      return Call::deliver(call, Event::ok());
    }
    if (op.type == Op::Type::kNotify || op.type == Op::Type::kRespond) {
      asio::co_spawn(ioc_, post_only(shared_from_this(), c, std::move(op.message), call),
                     asio::detached);
      return;
    }
    send_request(c, std::move(op.message), call, nullptr);
  }

  void stop(bool) override {
    stopped_ = true;
    for (auto& [k, c] : conns_) end(*c, "server stopped");
    conns_.clear();
  }

  void listen(const std::string& session_id, const std::string&,
              std::shared_ptr<OutsideSink> sink) override {
    auto it = conns_.find(session_id);
    if (it != conns_.end()) it->second->outside = std::move(sink);
  }

  void unlisten(const std::string& session_id, const std::shared_ptr<OutsideSink>& sink) override {
    auto it = conns_.find(session_id);
    if (it != conns_.end() && it->second->outside == sink) it->second->outside.reset();
  }

 private:
  // kOpen: open the stream, wait for the endpoint, initialize.
  // A stream that cannot be opened (connection refused, a 5xx while the
  // server restarts) is tried again with doubling back-off until `timeout`;
  // one that opened and then ended is the session's end (the server forgot
  // the session with it), so that is never retried here.
  static awaitable<void> open(std::shared_ptr<SseUpstream> self, Op op,
                              std::shared_ptr<Call> call) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(self->cfg_.timeout_ms);
    std::shared_ptr<Conn> c;
    int64_t backoff_ms = kFirstRetryMs;
    for (;;) {
      c = std::make_shared<Conn>(self->ioc_);
      c->key = process_prefix() + std::to_string(self->next_conn_++);
      self->conns_[c->key] = c;
      asio::co_spawn(self->ioc_, read_stream(self, c), asio::detached);
      c->ready.expires_at(deadline);
      co_await c->ready.async_wait(use_nothrow);
      if (!c->endpoint.empty()) break;
      std::string why = !c->failure.empty() ? c->failure : "no endpoint event in time";
      self->end(*c, why);
      self->conns_.erase(c->key);
      auto retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms);
      if (self->stopped_ || !c->opened_failed || retry_at >= deadline)
        co_return Call::deliver(call, Event::failure(why));
      log::warn("mcp sse server stream did not open; retrying",
                {log::f("server", self->cfg_.name), log::f("error", why),
                 log::n("backoff_ms", backoff_ms)});
      asio::steady_timer wait(self->ioc_);
      wait.expires_at(retry_at);
      co_await wait.async_wait(use_nothrow);
      backoff_ms = std::min(backoff_ms * 2, kMaxRetryMs);
    }
    json::object init = jsonrpc::make_request(0, "initialize", std::move(op.message));
    std::weak_ptr<SseUpstream> weak = self;
    auto on_init = [weak, c, call](json::object resp) {
      auto s = weak.lock();
      if (!s) return;
      const json::value* result = resp.if_contains("result");
      if (!result || !result->is_object())
        return Call::deliver(call, Event::failure("initialize failed: " + json::serialize(resp)));
      Event done = Event::ok(std::move(resp));
      const json::value* v = result->as_object().if_contains("protocolVersion");
      done.protocol_version = v && v->is_string() ? std::string(v->as_string()) : "";
      done.session_id = c->key;
      asio::co_spawn(
          s->ioc_,
          post_only(s, c, jsonrpc::make_notification("notifications/initialized", {}), nullptr),
          asio::detached);
      Call::deliver(call, std::move(done));
    };
    self->send_request(c, std::move(init), call, std::move(on_init));
  }

  // Registers the request under a fresh id (and progress token) and POSTs it.
  void send_request(const std::shared_ptr<Conn>& c, json::object msg, std::shared_ptr<Call> call,
                    std::function<void(json::object)> on_response) {
    int64_t id = c->next_id++;
    Pending p;
    p.call = call;
    p.client_id = msg["id"];
    p.on_response = std::move(on_response);
    msg["id"] = id;
    if (auto* params = msg["params"].if_object()) {
      if (auto* meta = params->if_contains("_meta"); meta && meta->is_object()) {
        if (auto* tok = meta->as_object().if_contains("progressToken")) {
          p.client_token = *tok;
          p.progress_key = "gh-" + std::to_string(id);
          c->progress[p.progress_key] = id;
          meta->as_object()["progressToken"] = p.progress_key;
        }
      }
    }
    p.timer = std::make_shared<asio::steady_timer>(ioc_);
    p.timer->expires_after(std::chrono::milliseconds(cfg_.timeout_ms));
    std::weak_ptr<Conn> weak = c;
    p.timer->async_wait([weak, id, name = cfg_.name](boost::system::error_code ec) {
      auto conn = weak.lock();
      if (ec || !conn) return;
      auto it = conn->pending.find(id);
      if (it == conn->pending.end()) return;
      Pending gone = std::move(it->second);
      conn->pending.erase(it);
      if (!gone.progress_key.empty()) conn->progress.erase(gone.progress_key);
      Call::deliver(gone.call, Event::failure("no answer from " + name + " in time"));
    });
    c->pending[id] = std::move(p);
    asio::co_spawn(ioc_, post_only(shared_from_this(), c, std::move(msg), nullptr), asio::detached);
  }

  // POSTs one message to the session's endpoint; a failure fails the
  // request it carried (or `call`, for a notification).
  static awaitable<void> post_only(std::shared_ptr<SseUpstream> self, std::shared_ptr<Conn> c,
                                   json::object msg, std::shared_ptr<Call> call) {
    net::HttpClientRequest req;
    req.method = "POST";
    req.url = c->endpoint;
    req.timeout_ms = self->cfg_.timeout_ms;
    req.tls_name = self->cfg_.tls.sni;  // the endpoint is on the server's own origin
    req.headers.emplace_back("Content-Type", "application/json");
    for (const auto& [k, v] : self->cfg_.headers) req.headers.emplace_back(k, v);
    req.body = json::serialize(msg);
    auto res = co_await net::http_call(req, self->tls_);
    std::string error;
    if (!res)
      error = res.error().message;
    else if (res.value().status < 200 || res.value().status >= 300)
      error = c->endpoint + " answered HTTP " + std::to_string(res.value().status);
    if (const json::value* id = msg.if_contains("id"); id && id->is_int64() && !error.empty()) {
      self->fail_pending(*c, id->as_int64(), error);
    }
    if (call) Call::deliver(call, error.empty() ? Event::ok() : Event::failure(error));
  }

  void fail_pending(Conn& c, int64_t id, const std::string& why) {
    auto it = c.pending.find(id);
    if (it == c.pending.end()) return;
    Pending p = std::move(it->second);
    c.pending.erase(it);
    if (p.timer) p.timer->cancel();
    if (!p.progress_key.empty()) c.progress.erase(p.progress_key);
    Call::deliver(p.call, Event::failure(why));
  }

  // Ends a session: what waits fails; the reader stops at its next event.
  void end(Conn& c, const std::string& why) {
    c.closed = true;
    if (c.failure.empty()) c.failure = why;
    c.ready.cancel();
    std::vector<int64_t> ids;
    for (const auto& [id, p] : c.pending) ids.push_back(id);
    for (int64_t id : ids) fail_pending(c, id, "server " + cfg_.name + ": " + why);
  }

  // The endpoint as an absolute URL on the server's own origin (the SDK
  // client refuses other origins too: an event must not send our POSTs,
  // with the configured credentials, elsewhere).
  std::string resolve(const std::string& data, std::string& why) const {
    std::string origin = base_.scheme + "://" + base_.host + ":" + std::to_string(base_.port);
    if (data.starts_with("/")) return origin + data;
    config::HttpUrl u;
    if (config::parse_http_url(data, u, why) && u.scheme == base_.scheme && u.host == base_.host &&
        u.port == base_.port)
      return data;
    why = "endpoint " + data + " is not on " + origin;
    return {};
  }

  static awaitable<void> read_stream(std::shared_ptr<SseUpstream> self, std::shared_ptr<Conn> c) {
    net::HttpClientRequest req;
    req.method = "GET";
    req.url = self->cfg_.url;
    req.timeout_ms = kStreamIdleMs;
    req.timeout_per_read = true;
    req.tls_name = self->cfg_.tls.sni;
    req.headers.emplace_back("Accept", "text/event-stream");
    for (const auto& [k, v] : self->cfg_.headers) req.headers.emplace_back(k, v);
    auto opened = co_await net::http_open(req, self->tls_);
    if (!opened) {
      c->opened_failed = true;
      co_return self->lost(c, opened.error().message);
    }
    net::HttpClientStream& res = *opened.value();
    if (res.status() >= 500) c->opened_failed = true;
    if (res.status() != 200 || res.content_type().rfind("text/event-stream", 0) != 0)
      co_return self->lost(c, self->cfg_.url + " answered HTTP " + std::to_string(res.status()) +
                                  " " + res.content_type() + ", not an event stream");
    sse::Parser parser;
    std::vector<sse::Event> events;
    while (!res.done() && !c->closed) {
      auto piece = co_await res.read_some();
      if (!piece) co_return self->lost(c, piece.error().message);
      events.clear();
      if (!parser.feed(piece.value(), events).ok())
        co_return self->lost(c, "an SSE event larger than the frame limit");
      for (auto& e : events) {
        if (c->closed) break;
        if (e.event == "endpoint") {
          std::string why;
          c->endpoint = self->resolve(e.data, why);
          if (c->endpoint.empty()) co_return self->lost(c, why);
          c->ready.cancel();
        } else if (e.type_or_default() == "message" && !e.data.empty()) {
          self->on_message(c, e.data);
        }
      }
    }
    self->lost(c, "the server closed the event stream");
  }

  void lost(const std::shared_ptr<Conn>& c, const std::string& why) {
    if (!c->closed)
      log::warn("mcp sse server stream ended", {log::f("server", cfg_.name), log::f("error", why)});
    end(*c, why);
    auto it = conns_.find(c->key);
    if (it != conns_.end() && it->second == c) conns_.erase(it);
  }

  void on_message(const std::shared_ptr<Conn>& c, const std::string& data) {
    auto parsed = jsonrpc::parse(data);
    if (parsed.batch || !parsed.items[0].msg) return;
    jsonrpc::Message& m = *parsed.items[0].msg;
    if (m.is_response()) {
      if (!m.id.is_int64()) return;
      auto it = c->pending.find(m.id.as_int64());
      if (it == c->pending.end()) return;  // timed out already
      Pending p = std::move(it->second);
      c->pending.erase(it);
      if (p.timer) p.timer->cancel();
      if (!p.progress_key.empty()) c->progress.erase(p.progress_key);
      if (p.on_response) return p.on_response(std::move(m.raw));
      m.raw["id"] = p.client_id;
      return Call::deliver(p.call, Event::ok(std::move(m.raw)));
    }
    if (m.is_request()) {
      // A server-to-client request belongs to a call in flight (the stream
      // is the session's): the handler relays it or refuses it.
      for (auto& [id, p] : c->pending) {
        if (p.on_response) continue;
        Call::deliver(p.call, Event::note(std::move(m.raw)));
        return;
      }
      // None in flight: to the client's standalone stream if it has one
      // open, else answered at once, so the server never hangs.
      std::optional<json::object> answer;
      if (c->outside && m.method != "ping") {
        answer = c->outside->take(std::move(m.raw));
      } else {
        answer =
            m.method == "ping"
                ? json::object{{"jsonrpc", "2.0"}, {"id", m.id}, {"result", json::object{}}}
                : parse_json(jsonrpc::error_response(
                                 m.id, jsonrpc::kMethodNotFound,
                                 m.method + " cannot be relayed: no call in flight and the client "
                                            "has no standalone stream (GET) open"))
                      .as_object();
      }
      if (answer)
        asio::co_spawn(ioc_, post_only(shared_from_this(), c, std::move(*answer), nullptr),
                       asio::detached);
      return;
    }
    if (m.method == "notifications/progress") {
      auto* params = m.raw["params"].if_object();
      const json::value* tok = params ? params->if_contains("progressToken") : nullptr;
      if (!tok || !tok->is_string()) return;
      auto pr = c->progress.find(std::string(tok->as_string()));
      if (pr == c->progress.end()) return;
      auto p = c->pending.find(pr->second);
      if (p == c->pending.end()) return;
      (*params)["progressToken"] = p->second.client_token;
      Call::deliver(p->second.call, Event::note(std::move(m.raw)));
      return;
    }
    if (m.method.ends_with("/list_changed")) {
      list_cache::invalidate(cfg_.name);
      stream_broadcast(cfg_.name, json::serialize(m.raw));
      return;
    }
    // Other notifications (logs) go with a request in flight, if any, else
    // to the client's standalone stream.
    for (auto& [id, p] : c->pending) {
      if (p.on_response) continue;
      Call::deliver(p.call, Event::note(std::move(m.raw)));
      return;
    }
    if (c->outside) c->outside->take(std::move(m.raw));
  }

  asio::io_context& ioc_;
  config::McpServerConfig cfg_;
  std::shared_ptr<asio::ssl::context> tls_;  // null: the system trust store
  config::HttpUrl base_;
  std::string bad_url_;
  bool stopped_ = false;
  uint64_t next_conn_ = 1;
  std::unordered_map<std::string, std::shared_ptr<Conn>> conns_;
};

}  // namespace

std::shared_ptr<Upstream> make_sse_upstream(asio::io_context& ioc,
                                            const config::McpServerConfig& cfg,
                                            std::shared_ptr<asio::ssl::context> tls) {
  return std::make_shared<SseUpstream>(ioc, cfg, std::move(tls));
}

}  // namespace gatehouse::mcp
