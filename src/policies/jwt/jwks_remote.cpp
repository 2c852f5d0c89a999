#include "policies/jwt/jwks_remote.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <thread>

#include "common/log.hpp"
#include "net/asio.hpp"
#include "policies/jwt/jwks.hpp"

namespace gatehouse::policy::jwt {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr size_t kMaxBody = 1 << 20;  // a JWKS is a few KiB; 1 MiB is generous

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Error fetch_error(const std::string& url, const std::string& why) {
  return make_error("jwks_fetch_failed", "fetching " + url + ": " + why, "jwks_uri");
}

template <class Stream>
awaitable<Result<std::string>> get(Stream& stream, const std::string& host,
                                   const std::string& target, const std::string& url) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::accept, "application/jwk-set+json, application/json");
  req.set(http::field::user_agent, "gatehouse");
  auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow);
  if (wec) co_return fetch_error(url, wec.message());
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  auto [rec, rn] = co_await http::async_read(stream, buf, parser, use_nothrow);
  if (rec) co_return fetch_error(url, rec.message());
  auto& res = parser.get();
  if (res.result_int() != 200)
    co_return fetch_error(url, "status " + std::to_string(res.result_int()));
  co_return std::move(res.body());
}

awaitable<Result<std::string>> fetch_body(const RemoteJwksOptions& opt) {
  auto u = boost::urls::parse_absolute_uri(opt.url);
  if (!u) co_return fetch_error(opt.url, "not an absolute URL");
  const bool tls = u->scheme() == "https";
  if (!tls && u->scheme() != "http") co_return fetch_error(opt.url, "scheme must be http or https");
  std::string host(u->host());
  std::string port = u->has_port() ? std::string(u->port()) : (tls ? "443" : "80");
  std::string target(u->encoded_target());
  if (target.empty()) target = "/";
  std::string host_header = u->has_port() ? host + ":" + port : host;

  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(host, port, use_nothrow);
  if (rec) co_return fetch_error(opt.url, rec.message());

  if (!tls) {
    beast::tcp_stream stream(ex);
    stream.expires_after(std::chrono::milliseconds(opt.timeout_ms));
    auto [cec, ep] = co_await stream.async_connect(results, use_nothrow);
    if (cec) co_return fetch_error(opt.url, cec.message());
    co_return co_await get(stream, host_header, target, opt.url);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                  asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (!opt.ca_file.empty()) {
    ctx.load_verify_file(opt.ca_file, ec);
    if (ec) co_return fetch_error(opt.url, "CA file " + opt.ca_file + ": " + ec.message());
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  stream.set_verify_mode(asio::ssl::verify_peer);
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
  if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
    co_return fetch_error(opt.url, "cannot set SNI");
  beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(opt.timeout_ms));
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(results, use_nothrow);
  if (cec) co_return fetch_error(opt.url, cec.message());
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (hec) co_return fetch_error(opt.url, "TLS: " + hec.message());
  co_return co_await get(stream, host_header, target, opt.url);
}

}  // namespace

Result<KeyMap> fetch_jwks(const RemoteJwksOptions& opt) {
  asio::io_context ioc(1);
  std::optional<Result<std::string>> body;
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { body.emplace(co_await fetch_body(opt)); }, asio::detached);
  ioc.run();
  if (!body) return fetch_error(opt.url, "fetch did not complete");
  if (!*body) return body->error();
  auto keys = parse_jwks(std::string_view(body->value()));
  if (!keys) return fetch_error(opt.url, keys.error().message);
  KeyMap map;
  for (auto& k : keys.value()) map.emplace(k.kid, k.key);
  return map;
}

// ------------------------------------------------------------------ source

struct RemoteJwks::State {
  RemoteJwksOptions opt;
  std::atomic<std::shared_ptr<const KeyMap>> keys;
  std::atomic<uint64_t> fetches{0};
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool refresh = false;
  bool first_done = false;
  int64_t last_fetch_ms = 0;
  std::string last_error;
};

namespace {

// Sources by URL+options. Weak: a source lives while policies use it.
std::mutex g_sources_mu;
std::map<std::string, std::weak_ptr<RemoteJwks>> g_sources;

void run_source(std::shared_ptr<RemoteJwks::State> s) {
  std::unique_lock lk(s->mu);
  for (;;) {
    if (s->stop) return;
    lk.unlock();
    auto r = fetch_jwks(s->opt);
    lk.lock();
    s->last_fetch_ms = now_ms();
    s->fetches.fetch_add(1);
    if (r) {
      s->keys.store(std::make_shared<const KeyMap>(std::move(r.value())));
      s->last_error.clear();
    } else {
      s->last_error = r.error().message;
      log::warn("jwks fetch failed", {log::f("url", s->opt.url), log::f("error", s->last_error)});
    }
    s->first_done = true;
    s->refresh = false;
    s->cv.notify_all();
    // Failures retry sooner than the refresh period (issuer restarts).
    int64_t wait = r ? s->opt.refresh_ms : std::min<int64_t>(s->opt.refresh_ms, 10'000);
    s->cv.wait_for(lk, std::chrono::milliseconds(wait), [&] { return s->stop || s->refresh; });
    if (s->refresh && !s->stop) {
      // Rate limit on-demand fetches.
      int64_t since = now_ms() - s->last_fetch_ms;
      if (since < RemoteJwks::kMinRefetchMs)
        s->cv.wait_for(lk, std::chrono::milliseconds(RemoteJwks::kMinRefetchMs - since), [&] { return s->stop; });
    }
  }
}

}  // namespace

std::shared_ptr<RemoteJwks> RemoteJwks::get(const RemoteJwksOptions& opt) {
  std::string key = opt.url + '\n' + std::to_string(opt.refresh_ms) + '\n' +
                    std::to_string(opt.timeout_ms) + '\n' + opt.ca_file;
  std::lock_guard g(g_sources_mu);
  if (auto it = g_sources.find(key); it != g_sources.end())
    if (auto sp = it->second.lock()) return sp;
  std::erase_if(g_sources, [](const auto& kv) { return kv.second.expired(); });
  auto state = std::make_shared<State>();
  state->opt = opt;
  // Detached: the thread keeps the state alive and leaves when told to stop,
  // so dropping the last policy never blocks a worker on a fetch in flight.
  std::thread(run_source, state).detach();
  auto sp = std::shared_ptr<RemoteJwks>(new RemoteJwks(state));
  g_sources[key] = sp;
  return sp;
}

RemoteJwks::~RemoteJwks() {
  std::lock_guard lk(s_->mu);
  s_->stop = true;
  s_->cv.notify_all();
}

std::shared_ptr<const KeyMap> RemoteJwks::keys() const { return s_->keys.load(); }

void RemoteJwks::request_refresh() {
  std::lock_guard lk(s_->mu);
  if (!s_->refresh) {
    s_->refresh = true;
    s_->cv.notify_all();
  }
}

bool RemoteJwks::wait_first(int64_t timeout_ms) {
  std::unique_lock lk(s_->mu);
  s_->cv.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return s_->first_done; });
  return s_->keys.load() != nullptr;
}

std::string RemoteJwks::last_error() const {
  std::lock_guard lk(s_->mu);
  return s_->last_error;
}

uint64_t RemoteJwks::fetches() const { return s_->fetches.load(); }

}  // namespace gatehouse::policy::jwt
