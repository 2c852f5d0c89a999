#include "policies/llm_cluster/redis_async.hpp"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "common/clock.hpp"
#include "net/resolve.hpp"

namespace gatehouse::policy::llm_cluster {

namespace {

constexpr size_t kMaxIdlePerEndpoint = 16;
constexpr size_t kReadChunk = 4096;

struct ReaderFree {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

RedisValue convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RedisValue::Type::kError;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) v.array.push_back(convert(r->element[i]));
      break;
    default:
      break;
  }
  return v;
}

struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : sock(ex), reader(redisReaderCreate()) {}
  tcp::socket sock;
  std::unique_ptr<redisReader, ReaderFree> reader;
  bool ready = false;  // AUTH and SELECT done
};

// Idle connections of one io_context, by endpoint identity.
class RedisPool final : public asio::execution_context::service {
 public:
  using key_type = RedisPool;
  static inline asio::execution_context::id id;
  explicit RedisPool(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}
  std::unique_ptr<Conn> take(const std::string& ep) {
    auto it = idle_.find(ep);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void put(const std::string& ep, std::unique_ptr<Conn> c) {
    auto& v = idle_[ep];
    if (v.size() < kMaxIdlePerEndpoint) v.push_back(std::move(c));
  }

 private:
  void shutdown() override { idle_.clear(); }
  std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
};

RedisPool& pool(const asio::any_io_executor& ex) {
  return asio::use_service<RedisPool>(asio::query(ex, asio::execution::context));
}

Error unreachable(const rate_limit::RedisEndpoint& ep, const std::string& why) {
  return make_error("redis_unreachable", "Redis at " + ep.label() + ": " + why, "", 503,
                    ErrorSide::kUpstream);
}

// Writes one formatted command and reads one reply; the timer closes the
// socket when the round trip takes longer than the endpoint's timeout.
awaitable<Result<RedisValue>> round_trip(Conn& c, const rate_limit::RedisEndpoint& ep,
                                         const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), args.data(), lens.data());
  if (n < 0) co_return make_error("redis_error", "cannot format the Redis command", "", 500);
  std::string out(cmd, static_cast<size_t>(n));
  redisFreeCommand(cmd);

  asio::steady_timer timer(c.sock.get_executor());
  timer.expires_after(std::chrono::milliseconds(ep.timeout_ms));
  auto timed_out = std::make_shared<bool>(false);
  timer.async_wait([&s = c.sock, timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    boost::system::error_code ig;
    s.close(ig);
  });
  auto [wec, wn] = co_await asio::async_write(c.sock, asio::buffer(out), use_nothrow);
  if (wec) {
    timer.cancel();
    co_return *timed_out ? make_error("redis_timeout", "Redis at " + ep.label() + " timed out", "",
                                      503, ErrorSide::kUpstream)
                         : unreachable(ep, "write failed: " + wec.message());
  }
  std::array<char, kReadChunk> buf;
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(c.reader.get(), &raw) != REDIS_OK) {
      timer.cancel();
      co_return make_error("redis_error", "invalid reply from Redis at " + ep.label(), "", 502,
                           ErrorSide::kUpstream);
    }
    if (raw) {
      timer.cancel();
      std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(raw));
      co_return convert(reply.get());
    }
    auto [rec, rn] = co_await c.sock.async_read_some(asio::buffer(buf), use_nothrow);
    if (rec || rn == 0) {
      timer.cancel();
      co_return *timed_out ? make_error("redis_timeout", "Redis at " + ep.label() + " timed out",
                                        "", 503, ErrorSide::kUpstream)
                           : unreachable(ep, "connection lost: " + rec.message());
    }
    redisReaderFeed(c.reader.get(), buf.data(), rn);
  }
}

awaitable<Result<std::unique_ptr<Conn>>> connect(const rate_limit::RedisEndpoint& ep) {
  auto ex = co_await asio::this_coro::executor;
  auto c = std::make_unique<Conn>(ex);
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolve(resolver, ep.host, std::to_string(ep.port));
  if (rec || results.empty()) co_return unreachable(ep, "cannot resolve " + ep.host);
  asio::steady_timer timer(ex);
  timer.expires_after(std::chrono::milliseconds(ep.timeout_ms));
  timer.async_wait([&s = c->sock](boost::system::error_code ec) {
    if (ec) return;
    boost::system::error_code ig;
    s.close(ig);
  });
  auto [cec, e] = co_await asio::async_connect(c->sock, results, use_nothrow);
  timer.cancel();
  if (cec) co_return unreachable(ep, "cannot connect: " + cec.message());
  boost::system::error_code ig;
  c->sock.set_option(tcp::no_delay(true), ig);
  if (!ep.password.empty()) {
    // Named, not braced in the co_await: GCC 12 cannot keep a braced
    // list's backing array alive across a suspension.
    const std::vector<std::string> auth{"AUTH", ep.password};
    auto r = co_await round_trip(*c, ep, auth);
    if (!r) co_return r.error();
    if (r->type == RedisValue::Type::kError) co_return unreachable(ep, "AUTH refused: " + r->str);
  }
  if (ep.database != 0) {
    const std::vector<std::string> select{"SELECT", std::to_string(ep.database)};
    auto r = co_await round_trip(*c, ep, select);
    if (!r) co_return r.error();
    if (r->type == RedisValue::Type::kError) co_return unreachable(ep, "SELECT refused: " + r->str);
  }
  co_return Result<std::unique_ptr<Conn>>(std::move(c));
}

}  // namespace

awaitable<Result<RedisValue>> redis_command(const rate_limit::RedisEndpoint& ep,
                                            std::vector<std::string> argv) {
  auto ex = co_await asio::this_coro::executor;
  const std::string id = ep.id();
  // A pooled connection may have been closed by the server meanwhile: one
  // more try on a fresh connection (the command is not known to have run
  // only when writing failed, and our scripts are safe to repeat then).
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Conn> c = attempt == 0 ? pool(ex).take(id) : nullptr;
    const bool reused = c != nullptr;
    if (!c) {
      auto made = co_await connect(ep);
      if (!made) co_return made.error();
      c = std::move(made.value());
    }
    auto r = co_await round_trip(*c, ep, argv);
    if (r) {
      pool(ex).put(id, std::move(c));
      if (r->type == RedisValue::Type::kError)
        co_return make_error("redis_error", r->str, "", 502, ErrorSide::kUpstream);
      co_return r;
    }
    if (!reused || r.error().code == "redis_timeout") co_return r.error();
  }
  co_return unreachable(ep, "connection lost");
}

Script::Script(std::string t) : text(std::move(t)) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
  sha1 = hex;
}

awaitable<Result<RedisValue>> redis_eval(const rate_limit::RedisEndpoint& ep, const Script& s,
                                         const std::vector<std::string>& keys,
                                         const std::vector<std::string>& args) {
  auto argv = [&](const char* verb, const std::string& what) {
    std::vector<std::string> v{verb, what, std::to_string(keys.size())};
    v.insert(v.end(), keys.begin(), keys.end());
    v.insert(v.end(), args.begin(), args.end());
    return v;
  };
  auto r = co_await redis_command(ep, argv("EVALSHA", s.sha1));
  if (!r && r.error().code == "redis_error" && r.error().message.rfind("NOSCRIPT", 0) == 0)
    r = co_await redis_command(ep, argv("EVAL", s.text));
  co_return r;
}

}  // namespace gatehouse::policy::llm_cluster
