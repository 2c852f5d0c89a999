#include "ai/providers/http_call.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <tuple>
#include <unordered_map>

#include "common/clock.hpp"
#include "net/resolve.hpp"
#include "policies/query.hpp"
#include "net/http_client.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::ai::providers {

std::string join_api_path(const std::string& prefix, std::string_view api_path) {
  std::string_view p = prefix;
  if (p.size() >= 3 && p.substr(p.size() - 3) == "/v1" && api_path.substr(0, 4) == "/v1/")
    api_path.remove_prefix(3);
  std::string out(p);
  out += api_path;
  return out;
}

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxHead = 64 * 1024;
// A kept connection older than this is closed rather than reused: providers
// close idle keep-alive connections after tens of seconds, and a request
// written into a connection the peer is closing would fail.
constexpr int64_t kKeepIdleMs = 15'000;
constexpr size_t kMaxIdlePerOrigin = 32;

// One connection to a provider origin; plain or TLS. Heap-allocated so the
// TLS layer's reference to the socket stays valid while it moves between a
// call and the cache.
struct ProviderConn {
  explicit ProviderConn(asio::any_io_executor ex) : sock(ex) {}
  tcp::socket sock;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  std::string peer;
  int64_t idle_since_ms = 0;

  awaitable<std::tuple<boost::system::error_code, size_t>> read_some(asio::mutable_buffer b) {
    if (tls) co_return co_await tls->async_read_some(b, use_nothrow);
    co_return co_await sock.async_read_some(b, use_nothrow);
  }
  awaitable<std::tuple<boost::system::error_code, size_t>> write(
      const std::array<asio::const_buffer, 2>& b) {
    if (tls) co_return co_await asio::async_write(*tls, b, use_nothrow);
    co_return co_await asio::async_write(sock, b, use_nothrow);
  }
  // Still usable: open, and the peer has neither closed nor sent anything
  // (unsolicited bytes, a TLS close_notify or an EOF all mean "do not reuse").
  bool alive() {
    if (!sock.is_open()) return false;
    char c;
    ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

// Idle connections of one io_context (one worker), keyed by origin. An Asio
// service, so it lives and dies with the io_context that owns the sockets.
class ConnCache final : public asio::execution_context::service {
 public:
  using key_type = ConnCache;
  static inline asio::execution_context::id id;
  explicit ConnCache(asio::execution_context& ctx) : service(ctx) {}

  std::unique_ptr<ProviderConn> take(const std::string& origin, int64_t now) {
    auto it = idle_.find(origin);
    if (it == idle_.end()) return nullptr;
    auto& v = it->second;
    while (!v.empty()) {
      auto c = std::move(v.back());
      v.pop_back();
      if (now - c->idle_since_ms < kKeepIdleMs && c->alive()) return c;
    }
    return nullptr;
  }
  void put(const std::string& origin, std::unique_ptr<ProviderConn> c, int64_t now) {
    auto& v = idle_[origin];
    // Drop the stale ones first, so a burst does not leave dead sockets behind.
    std::erase_if(v, [&](const auto& x) { return now - x->idle_since_ms >= kKeepIdleMs; });
    if (v.size() >= kMaxIdlePerOrigin) return;
    c->idle_since_ms = now;
    v.push_back(std::move(c));
  }
  size_t size() const {
    size_t n = 0;
    for (const auto& [k, v] : idle_) n += v.size();
    return n;
  }

 private:
  void shutdown() override { idle_.clear(); }
  std::unordered_map<std::string, std::vector<std::unique_ptr<ProviderConn>>> idle_;
};

ConnCache& conn_cache(const asio::any_io_executor& ex) {
  return asio::use_service<ConnCache>(asio::query(ex, asio::execution::context));
}

class HttpCall final : public Call {
 public:
  HttpCall(asio::any_io_executor ex, HttpRequest req)
      : ex_(ex), req_(std::move(req)), timer_(ex), resolver_(ex), watch_(std::make_shared<Watch>()) {
    https_ = req_.url.scheme == "https";
    origin_ = req_.url.scheme + "://" + req_.url.host + ":" + std::to_string(req_.url.port);
    // Connections verified against different CA sets are not interchangeable.
    if (https_) origin_ += " " + std::to_string(reinterpret_cast<uintptr_t>(req_.tls.get()));
  }
  ~HttpCall() override {
    watch_->sock = nullptr;
    timer_.cancel();
    if (conn_ && reusable_ && conn_->sock.is_open())
      conn_cache(ex_).put(origin_, std::move(conn_), steady_ms());
    else if (conn_) {
      boost::system::error_code ig;
      conn_->sock.close(ig);
    }
  }

  awaitable<Result<int>> start() override {
    start_ms_ = steady_ms();
    if (https_ && !req_.tls)
      co_return fail("provider_unreachable", "no TLS context for " + endpoint_text());
    // A kept connection can be closed by the provider just as we reuse it;
    // when it yields not one byte of an answer, the request goes once more on
    // a fresh connection (the keep-alive race every HTTP client handles).
    for (int attempt = 0;; ++attempt) {
      conn_ = attempt == 0 ? conn_cache(ex_).take(origin_, start_ms_) : nullptr;
      const bool reused = conn_ != nullptr;
      if (!conn_) {
        auto r = co_await connect();
        if (!r) co_return watch_->first_byte ? first_token_timeout() : r.error();
      }
      watch_->sock = &conn_->sock;
      peer_ = conn_->peer;
      auto r = co_await exchange_head();
      if (!r && watch_->first_byte) co_return first_token_timeout();
      if (r || !reused || got_bytes_ || watch_->timed_out) co_return r;
      boost::system::error_code ig;
      conn_->sock.close(ig);
    }
  }

  awaitable<Result<bool>> read(std::string& out) override {
    size_t before = out.size();
    auto r = co_await read_body(out);
    if (!r && watch_->first_byte) co_return first_token_timeout();
    if (r && out.size() > before && !body_seen_) {
      body_seen_ = true;
      arm(req_.timeouts.idle_ms);  // the first-byte deadline is over
    }
    co_return r;
  }

 private:
  awaitable<Result<bool>> read_body(std::string& out) {
    for (;;) {
      switch (head_.body) {
        case http1::BodyKind::kNone:
          co_return false;
        case http1::BodyKind::kContentLength: {
          if (remaining_ == 0) {
            finished();
            co_return false;
          }
          if (buf_.empty() && !co_await fill()) co_return cut();
          size_t n = std::min<uint64_t>(remaining_, buf_.size());
          out.append(buf_, 0, n);
          buf_.erase(0, n);
          remaining_ -= n;
          if (remaining_ == 0) finished();
          co_return true;
        }
        case http1::BodyKind::kChunked: {
          if (chunked_.done()) {
            finished();
            co_return false;
          }
          if (buf_.empty() && !co_await fill()) co_return cut();
          auto o = chunked_.feed(buf_);
          if (o.error) co_return make_error("provider_bad_response", "invalid chunked body");
          bool any = false;
          for (auto d : o.data) {
            out.append(d);
            any = true;
          }
          buf_.erase(0, o.consumed);
          if (o.done) {
            finished();
            co_return any;
          }
          if (any) co_return true;
          if (!buf_.empty() && o.consumed == 0 && !co_await fill()) co_return cut();
          continue;
        }
        case http1::BodyKind::kUntilClose: {
          if (!buf_.empty()) {
            out += buf_;
            buf_.clear();
            co_return true;
          }
          if (!co_await fill()) {
            if (watch_->timed_out) co_return cut();
            co_return false;
          }
          continue;
        }
      }
    }
  }

 public:
  std::string peer() const override { return peer_; }
  std::string_view header(std::string_view name) const override {
    const std::string* v = head_.find(name);
    return v ? std::string_view(*v) : std::string_view{};
  }

 private:
  Error first_token_timeout() const {
    return make_error("first_token_timeout",
                      "provider " + endpoint_text() + " sent no token within " +
                          std::to_string(first_byte_timeout_ms_) + " ms",
                      "", 504, ErrorSide::kUpstream);
  }
  awaitable<Result<void>> connect() {
    arm(req_.timeouts.connect_ms);
    auto [rec, results] = co_await resolve(resolver_, req_.url.host, std::to_string(req_.url.port));
    if (rec || results.empty())
      co_return fail("provider_unreachable", "cannot resolve " + req_.url.host).error();
    conn_ = std::make_unique<ProviderConn>(ex_);
    watch_->sock = &conn_->sock;
    auto [cec, ep] = co_await asio::async_connect(conn_->sock, results, use_nothrow);
    if (cec)
      co_return fail("provider_unreachable",
                     "cannot connect to " + endpoint_text() + ": " +
                         (watch_->timed_out ? std::string("timed out") : cec.message()))
          .error();
    boost::system::error_code ig;
    conn_->peer = ep.address().to_string() + ":" + std::to_string(ep.port());
    conn_->sock.set_option(tcp::no_delay(true), ig);
    if (https_) {
      conn_->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(conn_->sock, *req_.tls);
      conn_->tls->set_verify_mode(asio::ssl::verify_peer);
      conn_->tls->set_verify_callback(asio::ssl::host_name_verification(req_.url.host));
      if (!SSL_set_tlsext_host_name(conn_->tls->native_handle(), req_.url.host.c_str()))
        co_return fail("provider_unreachable", "cannot set SNI for " + req_.url.host).error();
      auto [hec] = co_await conn_->tls->async_handshake(asio::ssl::stream_base::client, use_nothrow);
      if (hec)
        co_return fail("provider_tls_failed",
                       "TLS handshake with " + endpoint_text() + " failed: " +
                           (watch_->timed_out ? std::string("timed out") : tls_error_text(hec)))
            .error();
    }
    co_return Ok{};
  }

  // Writes the request and reads the response head on conn_.
  awaitable<Result<int>> exchange_head() {
    buf_.clear();
    std::string head = "POST " + join_api_path(req_.url.prefix, req_.path) + " HTTP/1.1\r\nHost: ";
    head += host_header(req_.url);
    head += "\r\nContent-Type: application/json\r\nContent-Length: ";
    head += std::to_string(req_.body.size());
    head += "\r\n";
    for (const auto& [n, v] : req_.headers) head += n + ": " + v + "\r\n";
    head += "\r\n";
    arm(req_.timeouts.idle_ms);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(req_.body)};
    auto [wec, wn] = co_await conn_->write(bufs);
    if (wec)
      co_return fail("provider_write_failed", "sending to the provider failed: " + wec.message());

    for (;;) {
      http1::ParseError perr;
      http1::Limits lim;
      lim.max_header_bytes = kMaxHead;
      auto st = http1::parse_response_head(buf_, lim, "POST", head_, perr);
      if (st == http1::ParseStatus::kComplete) break;
      if (st == http1::ParseStatus::kError)
        co_return fail("provider_bad_response", "invalid response head: " + perr.message);
      if (!co_await fill())
        co_return fail("provider_no_response", watch_->timed_out
                                                   ? "provider timed out"
                                                   : "provider closed without a response");
    }
    buf_.erase(0, head_.head_bytes);
    remaining_ = head_.content_length;
    keep_ = head_.keep_alive && head_.body != http1::BodyKind::kUntilClose;
    if (head_.body == http1::BodyKind::kNone) finished();
    co_return head_.status;
  }

  static std::string tls_error_text(const boost::system::error_code& ec) {
    // OpenSSL's own reason ("certificate verify failed") is the useful part.
    std::string m = ec.message();
    if (ec.category() == asio::error::get_ssl_category()) {
      const char* r = ERR_reason_error_string(ec.value());
      if (r) m = r;
    }
    return m;
  }

  // The body ended cleanly: the connection may serve the next call.
  void finished() {
    reusable_ = keep_ && buf_.empty();
  }

  Result<int> fail(const char* code, std::string msg) {
    return make_error(code, std::move(msg), "", 502, ErrorSide::kUpstream);
  }
  Result<bool> cut() {
    return make_error(
        "provider_body_cut",
        watch_->timed_out ? "provider timed out mid-body" : "provider closed mid-body", "", 502,
        ErrorSide::kUpstream);
  }
  std::string endpoint_text() const { return req_.url.host + ":" + std::to_string(req_.url.port); }

  // A watchdog: closing the socket aborts whatever is pending on it. The whole
  // call is bounded by timeouts.request.
  void arm(int64_t ms) {
    if (req_.timeouts.request_ms > 0) {
      int64_t left = start_ms_ + req_.timeouts.request_ms - steady_ms();
      ms = std::min(ms, std::max<int64_t>(left, 1));
    }
    // Until the first body byte, the time-to-first-token deadline (measured
    // from the call's start) may come before the idle one.
    bool first_byte = false;
    if (first_byte_timeout_ms_ > 0 && !body_seen_) {
      int64_t left = start_ms_ + first_byte_timeout_ms_ - steady_ms();
      if (left < ms) {
        ms = std::max<int64_t>(left, 1);
        first_byte = true;
      }
    }
    timer_.expires_after(std::chrono::milliseconds(ms));
    // The handler may run after a re-arm or after the call is gone: it only
    // acts through `watch`, for the arming it belongs to.
    uint64_t gen = ++watch_->gen;
    timer_.async_wait([w = watch_, gen, first_byte](boost::system::error_code ec) {
      if (ec || !w->sock || w->gen != gen) return;
      w->timed_out = true;
      w->first_byte = first_byte;
      boost::system::error_code ig;
      w->sock->close(ig);
    });
  }

  awaitable<bool> fill() {
    if (!conn_ || !conn_->sock.is_open()) co_return false;
    arm(req_.timeouts.idle_ms);
    std::array<char, kReadChunk> tmp;
    auto [ec, n] = co_await conn_->read_some(asio::buffer(tmp));
    if (ec || n == 0) co_return false;
    got_bytes_ = true;
    buf_.append(tmp.data(), n);
    co_return true;
  }

  asio::any_io_executor ex_;
  HttpRequest req_;
  std::unique_ptr<ProviderConn> conn_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  http1::ResponseHead head_;
  http1::ChunkedDecoder chunked_;
  std::string buf_;
  std::string peer_;
  std::string origin_;
  bool https_ = false;
  bool got_bytes_ = false;
  bool body_seen_ = false;  // a body byte reached the caller: no first-token deadline
  bool keep_ = false;
  bool reusable_ = false;
  uint64_t remaining_ = 0;
  int64_t start_ms_ = 0;
  struct Watch {
    tcp::socket* sock = nullptr;
    uint64_t gen = 0;
    bool timed_out = false;
    bool first_byte = false;  // the deadline that fired was the first-token one
  };
  std::shared_ptr<Watch> watch_;
};

}  // namespace

std::unique_ptr<Call> make_http_call(asio::any_io_executor ex, HttpRequest req) {
  return std::make_unique<HttpCall>(ex, std::move(req));
}

Result<std::shared_ptr<asio::ssl::context>> provider_tls_context(const config::LlmProviderConfig& cfg) {
  config::HttpUrl u;
  std::string why;
  if (!config::parse_http_url(cfg.base_url, u, why) || u.scheme != "https")
    return std::shared_ptr<asio::ssl::context>{};
  return net::make_tls_client_context(cfg.ca_file);
}

std::string percent_encode(std::string_view s, bool keep_slash) {
  if (!keep_slash) return policy::percent_encode(s);
  std::string out;
  for (size_t at = 0;;) {
    size_t slash = s.find('/', at);
    out += policy::percent_encode(s.substr(at, slash == std::string_view::npos ? slash : slash - at));
    if (slash == std::string_view::npos) return out;
    out.push_back('/');
    at = slash + 1;
  }
}

std::string host_header(const config::HttpUrl& url) {
  std::string h = url.host;
  if (url.port != (url.scheme == "https" ? 443 : 80)) h += ":" + std::to_string(url.port);
  return h;
}

HttpProvider::HttpProvider(const config::LlmProviderConfig& cfg) : Provider(cfg) {
  std::string why;
  config::parse_http_url(cfg_.base_url, url_, why);  // validated at load
  // The CA file was checked at load; a failure here leaves tls_ empty and
  // every call answers 502 saying so.
  if (auto t = provider_tls_context(cfg_)) tls_ = std::move(t.value());
}

HttpRequest HttpProvider::request(std::string path, std::string body,
                                  std::string_view accept) const {
  HttpRequest r;
  r.url = url_;
  r.path = std::move(path);
  r.headers.emplace_back("Accept", std::string(accept));
  for (const auto& h : cfg_.headers) r.headers.push_back(h);
  r.body = std::move(body);
  r.timeouts = cfg_.timeouts;
  r.tls = tls_;
  return r;
}

size_t idle_provider_connections(asio::any_io_executor ex) { return conn_cache(ex).size(); }

}  // namespace gatehouse::ai::providers
