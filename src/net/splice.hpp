// Kernel-to-kernel body relay: splice(2) moves bytes from one socket into a
// pipe and from the pipe into the other socket, so a large body never gets
// copied into and out of user space (HAProxy's "splice" mode). Linux only.
// splice(2) has no MSG_NOSIGNAL: the process must ignore SIGPIPE (main does).
#pragma once

#include <cstdint>
#include <vector>

#include "net/asio.hpp"
#include "net/deadline.hpp"

namespace gatehouse::net {

// A kernel pipe used as the splice buffer. Move-only; closes on destruction.
class Pipe {
 public:
  Pipe() = default;
  ~Pipe() { close(); }
  Pipe(Pipe&& o) noexcept : r_(o.r_), w_(o.w_) { o.r_ = o.w_ = -1; }
  Pipe& operator=(Pipe&& o) noexcept {
    if (this != &o) {
      close();
      r_ = o.r_;
      w_ = o.w_;
      o.r_ = o.w_ = -1;
    }
    return *this;
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Opens a non-blocking pipe; false when the process is out of descriptors.
  bool open();
  bool valid() const { return r_ >= 0; }
  int read_fd() const { return r_; }
  int write_fd() const { return w_; }
  void close();

 private:
  int r_ = -1, w_ = -1;
};

// Idle pipes of one worker (no locks: one thread). A pipe that still holds
// bytes after an aborted relay is closed instead of being returned.
class PipeCache {
 public:
  // Enough for a relay per connection at 1,000 concurrent large responses:
  // a pipe made and closed per response costs three syscalls. An empty pipe
  // holds no pages, only its kernel bookkeeping (about 2.5 KiB, not RSS).
  static constexpr size_t kMaxCached = 1024;
  static constexpr size_t kMinCached = 4;
  Pipe take();
  void put(Pipe p);
  // Closes the pipes the cache did not need since the last trim.
  void trim();
  size_t size() const { return free_.size(); }

 private:
  std::vector<Pipe> free_;
  size_t low_water_ = 0;  // fewest cached pipes since the last trim
};

struct SpliceOutcome {
  bool in_ok = true;    // false: `in` failed, hit EOF early, or timed out
  bool out_ok = true;   // false: `out` failed or timed out
  bool pipe_clean = true;  // false: bytes were left in the pipe
  uint64_t moved = 0;   // bytes written to `out`
};

// Moves exactly `len` bytes from `in` to `out`. Each wait is bounded by
// `idle_ms` (`out_idle_ms` for waits on `out`, when set) through the sockets' deadlines (which close the socket on
// expiry, ending the wait). Reads readiness with a 1-byte MSG_PEEK receive
// rather than async_wait, which would cost an epoll_ctl per wait.
awaitable<SpliceOutcome> splice_relay(tcp::socket& in, Deadline& in_deadline, tcp::socket& out,
                                      Deadline& out_deadline, DeadlineList& deadlines,
                                      uint64_t len, int64_t idle_ms, Pipe& pipe,
                                      int64_t out_idle_ms = 0);

}  // namespace gatehouse::net
