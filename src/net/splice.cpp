#include "net/splice.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/clock.hpp"

namespace gatehouse::net {

namespace {
// 256 KiB (64 slots) instead of the default 16: splicing from TCP can take
// one slot per received segment, so a small pipe fills long before 64 KiB.
constexpr int kPipeBytes = 256 * 1024;
constexpr unsigned kFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
}  // namespace

bool Pipe::open() {
  close();
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  r_ = fds[0];
  w_ = fds[1];
  // Best effort: a failure (pipe-max-size lowered) leaves the default size.
  (void)::fcntl(w_, F_SETPIPE_SZ, kPipeBytes);
  return true;
}

void Pipe::close() {
  if (r_ >= 0) ::close(r_);
  if (w_ >= 0) ::close(w_);
  r_ = w_ = -1;
}

Pipe PipeCache::take() {
  if (!free_.empty()) {
    Pipe p = std::move(free_.back());
    free_.pop_back();
    low_water_ = std::min(low_water_, free_.size());
    return p;
  }
  low_water_ = 0;
  Pipe p;
  p.open();
  return p;
}

void PipeCache::put(Pipe p) {
  if (p.valid() && free_.size() < kMaxCached) free_.push_back(std::move(p));
}

void PipeCache::trim() {
  size_t surplus = std::min(low_water_, free_.size());
  if (free_.size() > kMinCached && surplus > 0) {
    size_t drop = std::min(surplus, free_.size() - kMinCached);
    free_.erase(free_.begin(), free_.begin() + static_cast<ptrdiff_t>(drop));
  }
  low_water_ = free_.size();
}

awaitable<SpliceOutcome> splice_relay(tcp::socket& in, Deadline& in_deadline, tcp::socket& out,
                                      Deadline& out_deadline, DeadlineList& deadlines,
                                      uint64_t len, int64_t idle_ms, Pipe& pipe,
                                      int64_t out_idle_ms) {
  if (out_idle_ms <= 0) out_idle_ms = idle_ms;
  SpliceOutcome res;
  uint64_t pulled = 0;
  size_t in_pipe = 0;
  // Both sockets have run asynchronous operations before (the heads), so
  // Asio has already put their descriptors in non-blocking mode.
  const int in_fd = in.native_handle();
  const int out_fd = out.native_handle();
  while (res.moved < len) {
    bool progressed = false;
    if (pulled < len && in_pipe < static_cast<size_t>(kPipeBytes)) {
      size_t want = static_cast<size_t>(
          std::min<uint64_t>(len - pulled, static_cast<uint64_t>(kPipeBytes) - in_pipe));
      ssize_t n = ::splice(in_fd, nullptr, pipe.write_fd(), nullptr, want, kFlags);
      if (n > 0) {
        pulled += static_cast<uint64_t>(n);
        in_pipe += static_cast<size_t>(n);
        progressed = true;
      } else if (n == 0) {
        res.in_ok = false;  // EOF before the promised length
        break;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        res.in_ok = false;
        break;
      }
    }
    if (in_pipe > 0) {
      ssize_t n = ::splice(pipe.read_fd(), nullptr, out_fd, nullptr, in_pipe, kFlags);
      if (n > 0) {
        in_pipe -= static_cast<size_t>(n);
        res.moved += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // The pipe has bytes, so the client's send buffer is full.
        out_deadline.arm(deadlines, &out, steady_ms() + out_idle_ms);
        auto [ec] = co_await out.async_wait(tcp::socket::wait_write, use_nothrow);
        if (ec || out_deadline.fired() || !out.is_open()) {
          res.out_ok = false;
          break;
        }
        continue;
      }
      res.out_ok = false;
      break;
    }
    if (!progressed) {
      // Nothing buffered and nothing to read yet: wait for the upstream.
      in_deadline.arm(deadlines, &in, steady_ms() + idle_ms);
      char probe;
      auto [ec, n] = co_await in.async_receive(asio::buffer(&probe, 1),
                                               tcp::socket::message_peek, use_nothrow);
      if (ec || n == 0 || in_deadline.fired()) {
        res.in_ok = false;
        break;
      }
    }
  }
  res.pipe_clean = in_pipe == 0;
  co_return res;
}

}  // namespace gatehouse::net
