#include "net/http_client.hpp"

#include <sys/socket.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <deque>
#include <mutex>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/resolve.hpp"
#include "net/tls/client.hpp"

namespace gatehouse::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

Error call_error(const std::string& url, const std::string& why) {
  return make_error("http_client_failed", url + ": " + why, {}, 502, ErrorSide::kUpstream);
}

beast::tcp_stream& lowest(beast::tcp_stream& s) {
  return s;
}
beast::tcp_stream& lowest(beast::ssl_stream<beast::tcp_stream>& s) {
  return beast::get_lowest_layer(s);
}

// Kept-alive connections of one io_context, as an Asio service so that they
// are closed when that io_context is destroyed and never outlive it. Most
// recently used first; a connection is checked with a non-blocking peek
// before reuse (a peer that closed it reads as EOF, one that sent unasked
// bytes is not trusted either).
class IdlePool final : public asio::execution_context::service {
 public:
  using key_type = IdlePool;
  static inline asio::execution_context::id id;
  static constexpr size_t kMaxPerKey = 16;
  static constexpr size_t kMaxTotal = 256;
  static constexpr int64_t kMaxIdleMs = 30'000;

  explicit IdlePool(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;

  template <class Stream>
  std::unique_ptr<Stream> take(const std::string& key, const asio::ssl::context* tls) {
    std::lock_guard lock(mu_);
    auto& list = entries<Stream>();
    int64_t now = steady_ms();
    for (auto it = list.begin(); it != list.end();) {
      if (it->key != key || it->tls.get() != tls) {
        ++it;
        continue;
      }
      auto conn = std::move(it->conn);
      bool fresh = now - it->since <= kMaxIdleMs;
      it = list.erase(it);
      if (fresh && still_open(beast::get_lowest_layer(*conn).socket())) return conn;
    }
    return nullptr;
  }

  template <class Stream>
  void put(std::string key, std::shared_ptr<asio::ssl::context> tls, std::unique_ptr<Stream> c) {
    beast::get_lowest_layer(*c).expires_never();
    std::lock_guard lock(mu_);
    // A stream destroyed while its io_context shuts down: the sockets must go
    // before the socket service does.
    if (shut_) return;
    auto& list = entries<Stream>();
    size_t same = 0;
    for (const auto& e : list) same += e.key == key;
    if (same >= kMaxPerKey || plain_.size() + tls_.size() >= kMaxTotal) {
      // Drop the least recently used entry of that key (or of any key).
      auto victim = list.end();
      for (auto it = list.begin(); it != list.end(); ++it)
        if (same < kMaxPerKey || it->key == key) victim = it;
      if (victim == list.end()) return;  // full with the other kind: keep what is there
      list.erase(victim);
    }
    list.push_front(Entry<Stream>{std::move(key), std::move(tls), std::move(c), steady_ms()});
  }

  size_t idle() {
    std::lock_guard lock(mu_);
    return plain_.size() + tls_.size();
  }

 private:
  template <class Stream>
  struct Entry {
    std::string key;
    std::shared_ptr<asio::ssl::context> tls;  // held: its address names the verification rules
    std::unique_ptr<Stream> conn;
    int64_t since = 0;
  };

  void shutdown() override {
    std::lock_guard lock(mu_);
    shut_ = true;
    plain_.clear();
    tls_.clear();
  }

  static bool still_open(tcp::socket& sock) {
    char c;
    ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  template <class Stream>
  std::deque<Entry<Stream>>& entries() {
    if constexpr (std::is_same_v<Stream, Plain>)
      return plain_;
    else
      return tls_;
  }

  std::mutex mu_;  // an io_context runs on one thread here; the lock costs nothing uncontended
  std::deque<Entry<Plain>> plain_;
  std::deque<Entry<Tls>> tls_;
  bool shut_ = false;
};

bool idempotent(http::verb v) {
  return v == http::verb::get || v == http::verb::head || v == http::verb::options ||
         v == http::verb::put || v == http::verb::delete_ || v == http::verb::trace;
}

// Errors that mean a reused connection was closed by the peer before it saw
// the request: worth one retry on a new connection.
bool closed_by_peer(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

// The connection and parser of one response; the body is read into a fixed
// buffer (buffer_body), so a long SSE stream never grows memory here.
template <class Stream>
class StreamImpl final : public HttpClientStream {
 public:
  StreamImpl(std::unique_ptr<Stream> s, IdlePool& pool, std::string key,
             std::shared_ptr<asio::ssl::context> tls, bool reused)
      : stream_(std::move(s)),
        pool_(pool),
        key_(std::move(key)),
        tls_(std::move(tls)),
        reused_(reused) {}

  // A response read to its end on a connection both sides keep alive, with
  // nothing after it: the connection goes back to the pool.
  ~StreamImpl() override {
    if (done_ && keep_alive_ && buf_.size() == 0 && stream_)
      pool_.put(std::move(key_), std::move(tls_), std::move(stream_));
  }

  Stream& stream() { return *stream_; }
  bool reused() const { return reused_; }
  // start() failed on a reused connection the peer had closed before answering.
  bool stale() const { return stale_; }

  awaitable<Result<void>> start(const HttpClientRequest& r, const std::string& host_header,
                                const std::string& target) {
    url_ = r.url;
    timeout_ = std::chrono::milliseconds(r.timeout_ms);
    per_read_ = r.timeout_per_read;
    http::request<http::string_body> req;
    auto verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown) co_return call_error(r.url, "unknown method " + r.method);
    req.method(verb);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, "gatehouse");
    for (const auto& [k, v] : r.headers) req.set(k, v);
    if (!r.body.empty() || verb == http::verb::post || verb == http::verb::put) {
      req.body() = r.body;
      req.prepare_payload();
    }
    if (reused_) lowest(*stream_).expires_after(timeout_);
    auto [wec, wn] = co_await http::async_write(*stream_, req, use_nothrow);
    if (wec) {
      stale_ = reused_ && closed_by_peer(wec);
      co_return call_error(r.url, "sending: " + wec.message());
    }
    parser_.body_limit(boost::none);  // the reader bounds what it keeps
    auto [hec, hn] = co_await http::async_read_header(*stream_, buf_, parser_, use_nothrow);
    if (hec) {
      // The peer may have read the request before closing: only a request
      // that may be repeated is sent again (as browsers and Go's client do).
      stale_ = reused_ && closed_by_peer(hec) && buf_.size() == 0 && idempotent(verb);
      co_return call_error(r.url, "reading the response: " + hec.message());
    }
    auto& res = parser_.get();
    keep_alive_ = req.keep_alive() && res.keep_alive();
    status_ = static_cast<int>(res.result_int());
    content_type_ = std::string(res[http::field::content_type]);
    for (const auto& f : res)
      headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
    done_ = parser_.is_done();
    co_return Ok{};
  }

  awaitable<Result<std::string_view>> read_some() override {
    while (!done_) {
      auto& body = parser_.get().body();
      body.data = chunk_;
      body.size = sizeof chunk_;
      if (per_read_) lowest(*stream_).expires_after(timeout_);
      // async_read_some, not async_read: async_read returns only when the
      // chunk buffer is full or the message ends, so an SSE event (an MCP
      // server's request, an HTTP+SSE `endpoint`) would wait for 16 KiB more.
      auto [ec, n] = co_await http::async_read_some(*stream_, buf_, parser_, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return call_error(url_, "reading the response: " + ec.message());
      done_ = parser_.is_done();
      size_t got = sizeof chunk_ - body.size;
      if (got > 0) co_return std::string_view(chunk_, got);
    }
    co_return std::string_view{};
  }

 private:
  void limit_reads(int64_t max_wait_ms) override {
    per_read_ = true;
    timeout_ = std::chrono::milliseconds(max_wait_ms);
  }
  asio::any_io_executor executor() override { return stream_->get_executor(); }

  std::unique_ptr<Stream> stream_;
  IdlePool& pool_;
  std::string key_;
  std::shared_ptr<asio::ssl::context> tls_;
  bool reused_ = false;
  bool stale_ = false;
  bool keep_alive_ = false;
  std::string url_;
  std::chrono::milliseconds timeout_{0};
  bool per_read_ = false;
  beast::flat_buffer buf_;
  http::response_parser<http::buffer_body> parser_;
  char chunk_[16 * 1024];
};

}  // namespace

const std::string* HttpClientStream::header(std::string_view name) const {
  for (const auto& [k, v] : headers_)
    if (iequals(k, name)) return &v;
  return nullptr;
}

void HttpClientStream::finish_later(std::unique_ptr<HttpClientStream> s, int64_t max_wait_ms) {
  if (!s || s->done()) return;  // destroyed here: pooled when it was complete
  s->limit_reads(max_wait_ms);
  auto ex = s->executor();
  asio::co_spawn(
      ex,
      [s = std::move(s)]() -> awaitable<void> {
        size_t left = 64 * 1024;
        while (!s->done()) {
          auto piece = co_await s->read_some();
          if (!piece || piece.value().size() > left) co_return;  // closed, not pooled
          left -= piece.value().size();
        }
      },
      asio::detached);
}

Result<void> check_http_url(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty())
    return make_error("invalid_value", "must be an absolute http:// or https:// URL");
  return Ok{};
}

std::shared_ptr<asio::ssl::context> default_tls_client_context() {
  // Built once (C++ statics are initialised once, thread-safely) and shared:
  // a context is safe to use from several threads.
  static const std::shared_ptr<asio::ssl::context> ctx = [] {
    auto made = make_tls_client_context("");
    return made ? made.value() : nullptr;
  }();
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> make_tls_client_context(const std::string& ca_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                   asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) return make_error("invalid_value", "CA file " + ca_file + ": " + ec.message());
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

namespace {

struct Target {
  bool https = false;
  std::string host;
  std::string port;
  std::string target;
  std::string host_header;
  std::string key;       // scheme://host:port, plus " sni=NAME" when tls_name overrides the host
  std::string tls_name;  // SNI and the name verified
};

// Opens (or reuses) a connection and sends the request. Returns the stream,
// or its error; `stale` says the failure was a pooled connection the peer
// had closed, which the caller retries once on a new connection.
template <class Stream>
awaitable<Result<std::unique_ptr<HttpClientStream>>> open_on(
    const HttpClientRequest& r, const Target& t, std::shared_ptr<asio::ssl::context> tls,
    bool allow_reuse, bool& stale) {
  stale = false;
  auto ex = co_await asio::this_coro::executor;
  auto& pool = asio::use_service<IdlePool>(asio::query(ex, asio::execution::context));
  const auto timeout = std::chrono::milliseconds(r.timeout_ms);
  std::unique_ptr<Stream> conn;
  if (allow_reuse) conn = pool.template take<Stream>(t.key, tls.get());
  const bool reused = conn != nullptr;
  if (!conn) {
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolve(resolver, t.host, t.port);
    if (rec) co_return call_error(r.url, "resolving " + t.host + ": " + rec.message());
    if constexpr (std::is_same_v<Stream, IdlePool::Plain>) {
      conn = std::make_unique<Stream>(ex);
      conn->expires_after(timeout);
      auto [cec, ep] = co_await conn->async_connect(results, use_nothrow);
      if (cec) co_return call_error(r.url, "connecting: " + cec.message());
    } else {
      conn = std::make_unique<Stream>(ex, *tls);
      // The upstream proxy's rules (net/tls/client.hpp): no SNI for an IP
      // literal, no partial wildcards, IP SANs for IP literals; the name is
      // checked only when the context verifies (an MCP server's verify: false).
      const bool verify = SSL_CTX_get_verify_mode(tls->native_handle()) != SSL_VERIFY_NONE;
      if (!net::tls::prepare_client_ssl(conn->native_handle(), t.tls_name, verify))
        co_return call_error(r.url, "cannot use " + t.tls_name + " as the TLS server name");
      beast::get_lowest_layer(*conn).expires_after(timeout);
      auto [cec, ep] = co_await beast::get_lowest_layer(*conn).async_connect(results, use_nothrow);
      if (cec) co_return call_error(r.url, "connecting: " + cec.message());
      auto [hec] = co_await conn->async_handshake(asio::ssl::stream_base::client, use_nothrow);
      if (hec) {
        std::string why = "TLS: " + hec.message();
        long vr = SSL_get_verify_result(conn->native_handle());
        if (verify && vr != X509_V_OK) why += ": " + std::string(X509_verify_cert_error_string(vr));
        co_return call_error(r.url, why);
      }
    }
  }
  auto s =
      std::make_unique<StreamImpl<Stream>>(std::move(conn), pool, t.key, std::move(tls), reused);
  auto started = co_await s->start(r, t.host_header, t.target);
  if (!started) {
    stale = s->stale();
    co_return started.error();
  }
  co_return std::unique_ptr<HttpClientStream>(std::move(s));
}

}  // namespace

awaitable<Result<std::unique_ptr<HttpClientStream>>> http_open(
    const HttpClientRequest& r, std::shared_ptr<asio::ssl::context> tls) {
  auto u = boost::urls::parse_absolute_uri(r.url);
  if (!u) co_return call_error(r.url, "not an absolute URL");
  Target t;
  t.https = u->scheme() == "https";
  if (!t.https && u->scheme() != "http")
    co_return call_error(r.url, "scheme must be http or https");
  if (t.https && !tls) {
    tls = default_tls_client_context();
    if (!tls) co_return call_error(r.url, "no TLS client context (system trust store unreadable)");
  }
  t.host = std::string(u->host());
  t.port = u->has_port() ? std::string(u->port()) : (t.https ? "443" : "80");
  t.target = std::string(u->encoded_target());
  if (t.target.empty()) t.target = "/";
  t.host_header = u->has_port() ? t.host + ":" + t.port : t.host;
  t.key = std::string(u->scheme()) + "://" + t.host_header;
  t.tls_name = r.tls_name.empty() ? t.host : r.tls_name;
  // The pool also keys on the context's address; the name is the other part
  // of what a TLS connection was verified for.
  if (t.https && !r.tls_name.empty()) t.key += " sni=" + r.tls_name;

  // A pooled connection the peer closed while it sat idle (and the peek did
  // not see it yet) fails before any answer: sent again on a new connection,
  // once, when the request did not get through or may be repeated.
  for (bool allow_reuse : {true, false}) {
    bool stale = false;
    Result<std::unique_ptr<HttpClientStream>> opened = call_error(r.url, "not opened");
    // Not one ?: with a co_await in each arm: GCC 12 miscompiles that.
    if (t.https)
      opened = co_await open_on<IdlePool::Tls>(r, t, tls, allow_reuse, stale);
    else
      opened = co_await open_on<IdlePool::Plain>(r, t, tls, allow_reuse, stale);
    if (opened || !stale) co_return opened;
  }
  co_return call_error(r.url, "unreachable");
}

size_t http_idle_connections(asio::execution_context& ctx) {
  return asio::use_service<IdlePool>(ctx).idle();
}

awaitable<Result<HttpClientResponse>> http_call(const HttpClientRequest& r,
                                                std::shared_ptr<asio::ssl::context> tls) {
  auto opened = co_await http_open(r, std::move(tls));
  if (!opened) co_return opened.error();
  HttpClientStream& s = *opened.value();
  HttpClientResponse out;
  out.status = s.status();
  out.content_type = s.content_type();
  while (!s.done()) {
    auto piece = co_await s.read_some();
    if (!piece) co_return piece.error();
    if (out.body.size() + piece.value().size() > r.max_body)
      co_return call_error(r.url, "body larger than " + std::to_string(r.max_body) + " bytes");
    out.body.append(piece.value());
  }
  co_return out;
}

}  // namespace gatehouse::net
