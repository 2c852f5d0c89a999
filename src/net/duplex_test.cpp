#include "net/duplex.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::net {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

awaitable<std::string> read_all(DuplexEnd& e, boost::system::error_code& last) {
  std::string got;
  char buf[1000];
  for (;;) {
    auto [ec, n] = co_await e.async_read_some(asio::buffer(buf), use_nothrow);
    got.append(buf, n);
    if (ec) {
      last = ec;
      co_return got;
    }
  }
}

TEST(Duplex, BytesFlowBothWaysAndEofAfterShutdown) {
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor(), 4096);
  std::string at_b, at_a;
  boost::system::error_code eb, ea;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto [ec, n] = co_await asio::async_write(a, asio::buffer(std::string_view("hello from a")),
                                                  use_nothrow);
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, 12u);
        a.shutdown_send();
        at_a = co_await read_all(a, ea);
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        at_b = co_await read_all(b, eb);
        co_await asio::async_write(b, asio::buffer(std::string_view("and back")), use_nothrow);
        b.shutdown_send();
      },
      asio::detached);
  ioc.run();
  EXPECT_EQ(at_b, "hello from a");
  EXPECT_EQ(eb, asio::error::eof);
  EXPECT_EQ(at_a, "and back");
  EXPECT_EQ(ea, asio::error::eof);
}

TEST(Duplex, ResetIsConnectionResetNotEof) {
  // RFC 8441 6: a reset stream must not look like an orderly close.
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor(), 4096);
  std::string got;
  boost::system::error_code eb;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        co_await asio::async_write(a, asio::buffer(std::string_view("lost")), use_nothrow);
        a.reset();
      },
      asio::detached);
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { got = co_await read_all(b, eb); }, asio::detached);
  ioc.run();
  EXPECT_EQ(eb, asio::error::connection_reset);
}

TEST(Duplex, WriterWaitsUntilPeerReads) {
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor(), 1000);
  const std::string payload = pattern(100'000);
  bool write_done = false;
  size_t max_buffered = 0;
  std::string got;
  boost::system::error_code last;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto [ec, n] = co_await asio::async_write(a, asio::buffer(payload), use_nothrow);
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, payload.size());
        write_done = true;
        a.shutdown_send();
      },
      asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        char buf[333];
        for (;;) {
          max_buffered = std::max(max_buffered, b.readable());
          auto [ec, n] = co_await b.async_read_some(asio::buffer(buf), use_nothrow);
          got.append(buf, n);
          if (ec) {
            last = ec;
            break;
          }
        }
      },
      asio::detached);
  // Run a few handlers only: the writer must still be waiting, with no more
  // than the capacity buffered.
  for (int i = 0; i < 5; ++i) ioc.run_one();
  EXPECT_FALSE(write_done);
  ioc.run();
  EXPECT_TRUE(write_done);
  EXPECT_EQ(got, payload);
  EXPECT_EQ(last, asio::error::eof);
  EXPECT_LE(max_buffered, 1000u);
}

TEST(Duplex, ReaderGoneMakesWritesFail) {
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor(), 10);
  boost::system::error_code wec;
  size_t written = 0;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        std::string big(100, 'x');
        auto [ec, n] = co_await asio::async_write(a, asio::buffer(big), use_nothrow);
        wec = ec;
        written = n;
      },
      asio::detached);
  ioc.run_one();  // the writer fills 10 bytes and waits
  ioc.restart();
  b.close();
  ioc.run();
  EXPECT_EQ(wec, asio::error::broken_pipe);
  EXPECT_EQ(written, 10u);
}

TEST(Duplex, CloseAbortsOwnReadAndPeerSeesEof) {
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor());
  boost::system::error_code ea, eb;
  char ba[8], bb[8];
  a.async_read_some(asio::buffer(ba), [&](boost::system::error_code ec, size_t) { ea = ec; });
  b.async_read_some(asio::buffer(bb), [&](boost::system::error_code ec, size_t) { eb = ec; });
  a.close();
  ioc.run();
  EXPECT_EQ(ea, asio::error::operation_aborted);
  EXPECT_EQ(eb, asio::error::eof);
  EXPECT_FALSE(a.is_open());
  // Further use of a closed end fails at once.
  boost::system::error_code again;
  ioc.restart();
  a.async_read_some(asio::buffer(ba), [&](boost::system::error_code ec, size_t) { again = ec; });
  ioc.run();
  EXPECT_EQ(again, asio::error::bad_descriptor);
}

TEST(Duplex, CompletionsArePostedNotInline) {
  asio::io_context ioc;
  auto [a, b] = make_duplex(ioc.get_executor());
  bool done = false;
  a.async_write_some(asio::buffer(std::string_view("x")),
                     [&](boost::system::error_code, size_t) { done = true; });
  EXPECT_FALSE(done);  // even though the write could complete at once
  ioc.run();
  EXPECT_TRUE(done);
  EXPECT_EQ(b.readable(), 1u);
}

TEST(Duplex, DestroyingAnEndClosesIt) {
  asio::io_context ioc;
  auto pair = make_duplex(ioc.get_executor());
  DuplexEnd b = std::move(pair.second);
  boost::system::error_code eb;
  char buf[4];
  b.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, size_t) { eb = ec; });
  { DuplexEnd gone = std::move(pair.first); }
  ioc.run();
  EXPECT_EQ(eb, asio::error::eof);
}

}  // namespace
}  // namespace gatehouse::net
