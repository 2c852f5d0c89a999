#include "proxy/upstream/pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace gatehouse::proxy {

std::unique_ptr<UpstreamConn> TargetPool::take(int64_t now_ms, bool replayable) {
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (gauge_) gauge_->add(-1);
    if (!c->stream.is_open()) continue;
    // Servers close idle keep-alive connections (sometimes after a 408)
    // only after seconds of idleness, so a connection back for less than
    // kProbeAfterIdleMs has not been closed that way; should it fail anyway,
    // a replayable request goes again on a fresh one. The probe is a recv
    // per request: 1 of the 5 left per proxied request (bench/cost.sh).
    if (replayable && now_ms - c->idle_since_ms < kProbeAfterIdleMs) {
      c->reused = true;
      return c;
    }
    // A peer that closed while idle shows up as readable with EOF; a cheap
    // non-blocking check avoids sending a request into a dead connection.
    // One syscall: 0 = orderly close, >0 = unsolicited bytes, error = reset.
    char probe;
    ssize_t n = ::recv(c->stream.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) continue;
    c->reused = true;
    return c;
  }
  return nullptr;
}

void TargetPool::put(std::unique_ptr<UpstreamConn> c, int64_t now_ms) {
  c->idle_since_ms = now_ms;
  c->deadline.disarm();
  c->deadline.unlink();
  idle_.push_back(std::move(c));
  if (gauge_) gauge_->add(1);
}

size_t TargetPool::expire(int64_t now_ms, int64_t idle_timeout_ms) {
  size_t before = idle_.size();
  std::erase_if(idle_, [&](const std::unique_ptr<UpstreamConn>& c) {
    return !c->stream.is_open() || now_ms - c->idle_since_ms >= idle_timeout_ms;
  });
  size_t n = before - idle_.size();
  if (gauge_) gauge_->add(-static_cast<int64_t>(n));
  return n;
}

}  // namespace gatehouse::proxy
