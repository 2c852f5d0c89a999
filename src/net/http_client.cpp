#include "net/http_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

#include "common/strings.hpp"

namespace gatehouse::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

Error call_error(const std::string& url, const std::string& why) {
  return make_error("http_client_failed", url + ": " + why, {}, 502, ErrorSide::kUpstream);
}

beast::tcp_stream& lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& lowest(beast::ssl_stream<beast::tcp_stream>& s) {
  return beast::get_lowest_layer(s);
}

// The connection and parser of one response; the body is read into a fixed
// buffer (buffer_body), so a long SSE stream never grows memory here.
template <class Stream>
class StreamImpl final : public HttpClientStream {
 public:
  template <class... Args>
  explicit StreamImpl(Args&&... args) : stream_(std::forward<Args>(args)...) {}

  Stream& stream() { return stream_; }

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
    auto [wec, wn] = co_await http::async_write(stream_, req, use_nothrow);
    if (wec) co_return call_error(r.url, "sending: " + wec.message());
    parser_.body_limit(boost::none);  // the reader bounds what it keeps
    auto [hec, hn] = co_await http::async_read_header(stream_, buf_, parser_, use_nothrow);
    if (hec) co_return call_error(r.url, "reading the response: " + hec.message());
    auto& res = parser_.get();
    status_ = static_cast<int>(res.result_int());
    content_type_ = std::string(res[http::field::content_type]);
    for (const auto& f : res) headers_.emplace_back(std::string(f.name_string()), std::string(f.value()));
    done_ = parser_.is_done();
    co_return Ok{};
  }

  awaitable<Result<std::string_view>> read_some() override {
    while (!done_) {
      auto& body = parser_.get().body();
      body.data = chunk_;
      body.size = sizeof chunk_;
      if (per_read_) lowest(stream_).expires_after(timeout_);
      // async_read_some, not async_read: async_read returns only when the
      // chunk buffer is full or the message ends, so an SSE event (an MCP
      // server's request, an HTTP+SSE `endpoint`) would wait for 16 KiB more.
      auto [ec, n] = co_await http::async_read_some(stream_, buf_, parser_, use_nothrow);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return call_error(url_, "reading the response: " + ec.message());
      done_ = parser_.is_done();
      size_t got = sizeof chunk_ - body.size;
      if (got > 0) co_return std::string_view(chunk_, got);
    }
    co_return std::string_view{};
  }

 private:
  Stream stream_;
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

Result<void> check_http_url(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty())
    return make_error("invalid_value", "must be an absolute http:// or https:// URL");
  return Ok{};
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

awaitable<Result<std::unique_ptr<HttpClientStream>>> http_open(
    const HttpClientRequest& r, std::shared_ptr<asio::ssl::context> tls) {
  auto u = boost::urls::parse_absolute_uri(r.url);
  if (!u) co_return call_error(r.url, "not an absolute URL");
  const bool https = u->scheme() == "https";
  if (!https && u->scheme() != "http") co_return call_error(r.url, "scheme must be http or https");
  if (https && !tls) co_return call_error(r.url, "no TLS context for an https URL");
  std::string host(u->host());
  std::string port = u->has_port() ? std::string(u->port()) : (https ? "443" : "80");
  std::string target(u->encoded_target());
  if (target.empty()) target = "/";
  std::string host_header = u->has_port() ? host + ":" + port : host;
  const auto timeout = std::chrono::milliseconds(r.timeout_ms);

  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host, port, use_nothrow);
  if (rec) co_return call_error(r.url, "resolving " + host + ": " + rec.message());

  if (!https) {
    auto s = std::make_unique<StreamImpl<beast::tcp_stream>>(ex);
    s->stream().expires_after(timeout);
    auto [cec, ep] = co_await s->stream().async_connect(results, use_nothrow);
    if (cec) co_return call_error(r.url, "connecting: " + cec.message());
    auto started = co_await s->start(r, host_header, target);
    if (!started) co_return started.error();
    co_return std::unique_ptr<HttpClientStream>(std::move(s));
  }
  auto s = std::make_unique<StreamImpl<beast::ssl_stream<beast::tcp_stream>>>(ex, *tls);
  auto& stream = s->stream();
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    co_return call_error(r.url, "cannot set SNI");
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, use_nothrow);
  if (cec) co_return call_error(r.url, "connecting: " + cec.message());
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (hec) co_return call_error(r.url, "TLS: " + hec.message());
  auto started = co_await s->start(r, host_header, target);
  if (!started) co_return started.error();
  co_return std::unique_ptr<HttpClientStream>(std::move(s));
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
