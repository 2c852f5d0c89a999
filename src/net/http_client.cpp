#include "net/http_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

namespace gatehouse::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

Error call_error(const std::string& url, const std::string& why) {
  return make_error("http_client_failed", url + ": " + why, {}, 502, ErrorSide::kUpstream);
}

template <class Stream>
awaitable<Result<HttpClientResponse>> exchange(Stream& stream, const HttpClientRequest& r,
                                               const std::string& host_header,
                                               const std::string& target) {
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
  auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) co_return call_error(r.url, wec.message());
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(r.max_body);
  auto [rec, rn] = co_await http::async_read(stream, buf, parser, use_nothrow);
  if (rec) co_return call_error(r.url, rec.message());
  auto& res = parser.get();
  HttpClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

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

awaitable<Result<HttpClientResponse>> http_call(const HttpClientRequest& r,
                                                std::shared_ptr<asio::ssl::context> tls) {
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
  if (rec) co_return call_error(r.url, rec.message());

  if (!https) {
    beast::tcp_stream stream(ex);
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(results, use_nothrow);
    if (cec) co_return call_error(r.url, cec.message());
    co_return co_await exchange(stream, r, host_header, target);
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls);
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    co_return call_error(r.url, "cannot set SNI");
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, use_nothrow);
  if (cec) co_return call_error(r.url, cec.message());
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (hec) co_return call_error(r.url, "TLS: " + hec.message());
  co_return co_await exchange(stream, r, host_header, target);
}

}  // namespace gatehouse::net
