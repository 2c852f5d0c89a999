// The hiredis transport: one blocking connection, used by one endpoint
// thread only, so the synchronous API (with socket timeouts) is the simplest
// correct choice; no worker ever calls it.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>

#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::rate_limit {

namespace {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

class HiredisTransport final : public Transport {
 public:
  explicit HiredisTransport(RedisEndpoint ep) : ep_(std::move(ep)) {}
  ~HiredisTransport() override { close(); }

  void close() override {
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
  }

  bool exchange(const std::vector<SyncOp>& ops, std::vector<int64_t>& totals,
                std::string& error) override {
    totals.assign(ops.size(), 0);
    if (!ctx_ && !connect(error)) return false;
    if (ops.empty()) {
      redisAppendCommand(ctx_, "PING");
    }
    for (const SyncOp& op : ops) {
      if (op.delta > 0) {
        redisAppendCommand(ctx_, "INCRBY %b %lld", op.key.data(), op.key.size(),
                           static_cast<long long>(op.delta));
        redisAppendCommand(ctx_, "PEXPIRE %b %lld", op.key.data(), op.key.size(),
                           static_cast<long long>(op.ttl_ms));
      } else {
        redisAppendCommand(ctx_, "GET %b", op.key.data(), op.key.size());
      }
    }
    if (ops.empty()) return read(REDIS_REPLY_STATUS, nullptr, error);
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].delta > 0) {
        if (!read(REDIS_REPLY_INTEGER, &totals[i], error)) return false;
        if (!read(REDIS_REPLY_INTEGER, nullptr, error)) return false;  // PEXPIRE: 1
      } else if (!read(REDIS_REPLY_STRING, &totals[i], error)) {
        return false;
      }
    }
    return true;
  }

 private:
  bool connect(std::string& error) {
    timeval tv{};
    tv.tv_sec = ep_.timeout_ms / 1000;
    tv.tv_usec = static_cast<suseconds_t>((ep_.timeout_ms % 1000) * 1000);
    ctx_ = redisConnectWithTimeout(ep_.host.c_str(), ep_.port, tv);
    if (!ctx_) {
      error = "cannot allocate a Redis context";
      return false;
    }
    if (ctx_->err) return io_failure(error);
    redisSetTimeout(ctx_, tv);
    redisEnableKeepAlive(ctx_);
    if (!ep_.password.empty()) {
      redisAppendCommand(ctx_, "AUTH %b", ep_.password.data(), ep_.password.size());
      if (!read(REDIS_REPLY_STATUS, nullptr, error)) return false;
    }
    if (ep_.database != 0) {
      redisAppendCommand(ctx_, "SELECT %lld", static_cast<long long>(ep_.database));
      if (!read(REDIS_REPLY_STATUS, nullptr, error)) return false;
    }
    return true;
  }

  // One reply of the expected type (GET: a string or nil); anything else
  // drops the connection, as the replies that follow would be misread.
  bool read(int type, int64_t* value, std::string& error) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK) return io_failure(error);
    Reply r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {
      error = "Redis answered: " + std::string(r->str, r->len);
      close();
      return false;
    }
    if (type == REDIS_REPLY_STRING && r->type == REDIS_REPLY_NIL) {
      if (value) *value = 0;
      return true;
    }
    if (r->type != type) {
      error = "unexpected Redis reply type " + std::to_string(r->type);
      close();
      return false;
    }
    if (!value) return true;
    if (type == REDIS_REPLY_INTEGER) {
      *value = r->integer;
      return true;
    }
    auto [p, ec] = std::from_chars(r->str, r->str + r->len, *value);
    if (ec != std::errc() || p != r->str + r->len) {
      error = "counter is not an integer: " + std::string(r->str, std::min<size_t>(r->len, 40));
      close();
      return false;
    }
    return true;
  }

  bool io_failure(std::string& error) {
    // hiredis reports a socket timeout as EAGAIN; say what it means.
    if (ctx_->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT))
      error = "timed out after " + std::to_string(ep_.timeout_ms) + "ms";
    else
      error = ctx_->errstr[0] ? ctx_->errstr : "connection lost";
    close();
    return false;
  }

  const RedisEndpoint ep_;
  redisContext* ctx_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_hiredis_transport(const RedisEndpoint& ep) {
  return std::make_unique<HiredisTransport>(ep);
}

}  // namespace gatehouse::policy::rate_limit
