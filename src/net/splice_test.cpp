#include "net/splice.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <string>

namespace gatehouse::net {
namespace {

// Two loopback TCP connections: `src_peer` writes into `in`, the relay moves
// bytes from `in` to `out`, and `dst_peer` reads what arrives.
struct Wires {
  asio::io_context ioc;
  tcp::socket src_peer{ioc}, in{ioc}, out{ioc}, dst_peer{ioc};
  DeadlineList deadlines;
  Deadline in_deadline, out_deadline;

  Wires() {
    connect_pair(src_peer, in);
    connect_pair(out, dst_peer);
    // The relay expects descriptors Asio has made non-blocking.
    in.non_blocking(true);
    out.non_blocking(true);
  }
  void connect_pair(tcp::socket& a, tcp::socket& b) {
    tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    a.connect(acc.local_endpoint());
    acc.accept(b);
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Runs the relay while one coroutine feeds `payload` (then optionally closes)
// and another drains the destination; returns what arrived.
std::string run_relay(Wires& w, const std::string& payload, uint64_t len, bool close_after,
                      SpliceOutcome& outcome) {
  Pipe pipe;
  EXPECT_TRUE(pipe.open());
  std::string received;
  asio::co_spawn(
      w.ioc,
      [&]() -> awaitable<void> {
        // Written in pieces with pauses so the relay has to wait for data.
        size_t off = 0;
        asio::steady_timer t(w.ioc);
        while (off < payload.size()) {
          size_t n = std::min<size_t>(payload.size() - off, 100'000);
          co_await asio::async_write(w.src_peer, asio::buffer(payload.data() + off, n),
                                     use_nothrow);
          off += n;
          t.expires_after(std::chrono::milliseconds(2));
          co_await t.async_wait(use_nothrow);
        }
        if (close_after) w.src_peer.close();
      },
      asio::detached);
  asio::co_spawn(
      w.ioc,
      [&]() -> awaitable<void> {
        outcome = co_await splice_relay(w.in, w.in_deadline, w.out, w.out_deadline, w.deadlines,
                                        len, 5'000, pipe);
        w.out.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  asio::co_spawn(
      w.ioc,
      [&]() -> awaitable<void> {
        // Reads slowly at first so the destination's buffers fill up.
        char buf[16384];
        asio::steady_timer t(w.ioc);
        for (int i = 0;; ++i) {
          if (i < 20) {
            t.expires_after(std::chrono::milliseconds(5));
            co_await t.async_wait(use_nothrow);
          }
          auto [ec, n] = co_await w.dst_peer.async_read_some(asio::buffer(buf), use_nothrow);
          if (ec) break;
          received.append(buf, n);
        }
      },
      asio::detached);
  w.ioc.run();
  return received;
}

TEST(SpliceRelay, MovesExactlyTheLengthAcrossManyWaits) {
  Wires w;
  // More than the pipe and the socket buffers hold, plus bytes past the
  // length that must stay in the source socket.
  std::string payload = pattern(3 * 1024 * 1024 + 17);
  uint64_t len = payload.size() - 17;
  SpliceOutcome r;
  std::string got = run_relay(w, payload, len, false, r);
  EXPECT_TRUE(r.in_ok);
  EXPECT_TRUE(r.out_ok);
  EXPECT_TRUE(r.pipe_clean);
  EXPECT_EQ(r.moved, len);
  ASSERT_EQ(got.size(), len);
  EXPECT_TRUE(got == payload.substr(0, len));
  // The 17 bytes past the length are still readable from `in`.
  char rest[64];
  w.in.non_blocking(false);
  size_t n = w.in.read_some(asio::buffer(rest));
  EXPECT_EQ(std::string(rest, n), payload.substr(len));
}

TEST(SpliceRelay, EarlyEofIsAnInputFailureWithWhatArrivedDelivered) {
  Wires w;
  std::string payload = pattern(300'000);
  SpliceOutcome r;
  std::string got = run_relay(w, payload, 1'000'000, true, r);
  EXPECT_FALSE(r.in_ok);
  EXPECT_TRUE(r.out_ok);
  EXPECT_EQ(r.moved, payload.size());
  EXPECT_TRUE(got == payload);
}

TEST(SpliceRelay, ClosedDestinationIsAnOutputFailure) {
  // splice(2) has no MSG_NOSIGNAL: the gateway ignores SIGPIPE (cli/main.cpp).
  std::signal(SIGPIPE, SIG_IGN);
  Wires w;
  w.dst_peer.close();
  Pipe pipe;
  ASSERT_TRUE(pipe.open());
  std::string payload = pattern(4 * 1024 * 1024);
  SpliceOutcome r;
  asio::co_spawn(
      w.ioc,
      [&]() -> awaitable<void> {
        co_await asio::async_write(w.src_peer, asio::buffer(payload), use_nothrow);
      },
      asio::detached);
  asio::co_spawn(
      w.ioc,
      [&]() -> awaitable<void> {
        r = co_await splice_relay(w.in, w.in_deadline, w.out, w.out_deadline, w.deadlines,
                                  payload.size(), 5'000, pipe);
        w.src_peer.close();
        w.in.close();
      },
      asio::detached);
  w.ioc.run();
  EXPECT_FALSE(r.out_ok);
  EXPECT_LT(r.moved, payload.size());
}

TEST(SpliceRelay, PipeCacheReusesAndCaps) {
  PipeCache cache;
  Pipe a = cache.take();
  ASSERT_TRUE(a.valid());
  int fd = a.read_fd();
  cache.put(std::move(a));
  EXPECT_EQ(cache.size(), 1u);
  Pipe b = cache.take();
  EXPECT_EQ(b.read_fd(), fd);
  cache.put(Pipe{});  // an invalid pipe is not kept
  EXPECT_EQ(cache.size(), 0u);
  for (size_t i = 0; i < PipeCache::kMaxCached + 5; ++i) {
    Pipe p;
    ASSERT_TRUE(p.open());
    cache.put(std::move(p));
  }
  EXPECT_EQ(cache.size(), PipeCache::kMaxCached);
  // Nothing was taken since: a trim keeps only the floor.
  cache.trim();
  cache.trim();
  EXPECT_EQ(cache.size(), PipeCache::kMinCached);
}

}  // namespace
}  // namespace gatehouse::net
