#include "policies/jwt/jwks_remote.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <thread>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/thread.hpp"
#include "net/asio.hpp"
#include "net/http_client.hpp"
#include "policies/jwt/jwks.hpp"

namespace gatehouse::policy::jwt {

namespace {

constexpr size_t kMaxBody = 1 << 20;  // a JWKS is a few KiB; 1 MiB is generous

Error fetch_error(const std::string& url, const std::string& why) {
  return make_error("jwks_fetch_failed", "fetching " + url + ": " + why, "jwks_uri");
}

}  // namespace

Result<KeyMap> fetch_jwks(const RemoteJwksOptions& opt) {
  std::shared_ptr<asio::ssl::context> tls;
  if (opt.url.rfind("https:", 0) == 0) {
    auto ctx = net::make_tls_client_context(opt.ca_file);
    if (!ctx) return fetch_error(opt.url, ctx.error().message);
    tls = ctx.value();
  }
  net::HttpClientRequest req;
  req.url = opt.url;
  req.timeout_ms = opt.timeout_ms;
  req.max_body = kMaxBody;
  req.headers.emplace_back("Accept", "application/jwk-set+json, application/json");
  asio::io_context ioc(1);
  std::optional<Result<net::HttpClientResponse>> res;
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { res.emplace(co_await net::http_call(req, tls)); },
      asio::detached);
  ioc.run();
  if (!res) return fetch_error(opt.url, "fetch did not complete");
  if (!*res) return fetch_error(opt.url, res->error().message);
  if (res->value().status != 200)
    return fetch_error(opt.url, "status " + std::to_string(res->value().status));
  auto keys = parse_jwks(std::string_view(res->value().body));
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
  make_this_thread_background("gh-jwks");
  std::unique_lock lk(s->mu);
  for (;;) {
    if (s->stop) return;
    lk.unlock();
    auto r = fetch_jwks(s->opt);
    lk.lock();
    s->last_fetch_ms = steady_ms();
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
      int64_t since = steady_ms() - s->last_fetch_ms;
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
