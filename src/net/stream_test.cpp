#include "net/stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace gatehouse::net {
namespace {

struct Pair {
  asio::io_context ioc;
  tcp::socket client{ioc};
  std::unique_ptr<Stream> server;

  Pair() {
    tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client.connect(acc.local_endpoint());
    server = std::make_unique<Stream>(acc.accept());
  }
};

std::string pattern(size_t n, char base) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(base + (i * 13 + i / 509) % 23);
  return s;
}

// Reads from the client side until `want` bytes or EOF.
std::string drain(Pair& p, size_t want) {
  std::string got;
  char buf[65536];
  boost::system::error_code ec;
  while (got.size() < want) {
    size_t n = p.client.read_some(asio::buffer(buf), ec);
    if (ec) break;
    got.append(buf, n);
  }
  return got;
}

// Runs handlers one at a time until the coroutine has started; says whether
// it also finished within that same handler run.
template <class Write>
bool finishes_in_first_run(Pair& p, Write write) {
  p.ioc.restart();
  bool started = false, done = false;
  asio::co_spawn(
      p.ioc,
      [&]() -> awaitable<void> {
        started = true;
        co_await write();
        done = true;
      },
      asio::detached);
  while (!started && p.ioc.run_one()) {
  }
  bool first = done;
  p.ioc.run();
  EXPECT_TRUE(done);
  return first;
}

TEST(StreamWriteAll, SmallWriteFinishesWithoutAQueueRound) {
  Pair p;
  std::string a = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", b = "hello";
  std::array<asio::const_buffer, 3> bufs{asio::buffer(a), asio::const_buffer(), asio::buffer(b)};
  boost::system::error_code result = asio::error::fault;
  // Asio's async_write completes through the handler queue even though the
  // socket took every byte at once: the coroutine resumes in a later run.
  EXPECT_FALSE(finishes_in_first_run(p, [&]() -> awaitable<void> {
    auto [ec, n] = co_await asio::async_write(*p.server, bufs, use_nothrow);
    result = ec;
  }));
  EXPECT_FALSE(result);
  EXPECT_EQ(drain(p, a.size() + b.size()), a + b);
  result = asio::error::fault;
  EXPECT_TRUE(finishes_in_first_run(p, [&]() -> awaitable<void> {
    result = co_await write_all(*p.server, bufs);
  }));
  EXPECT_FALSE(result);
  EXPECT_EQ(drain(p, a.size() + b.size()), a + b);
}

TEST(StreamWriteAll, LargeWriteFinishesAsynchronouslyInOrder) {
  Pair p;
  // Small socket buffers, several megabytes: the first write only takes a
  // part, split inside some buffer; the rest must follow in order.
  p.server->socket().set_option(asio::socket_base::send_buffer_size(16384));
  p.client.set_option(asio::socket_base::receive_buffer_size(16384));
  std::string x = pattern(3'000'001, 'a'), y = pattern(777, 'A'), z = pattern(2'000'003, 'k');
  std::vector<asio::const_buffer> bufs{asio::buffer(x), asio::buffer(y), asio::const_buffer(),
                                       asio::buffer(z)};
  boost::system::error_code result = asio::error::fault;
  bool done = false;
  asio::co_spawn(
      p.ioc,
      [&]() -> awaitable<void> {
        result = co_await write_all(*p.server, bufs);
        done = true;
      },
      asio::detached);
  std::string got;
  std::thread reader([&] { got = drain(p, x.size() + y.size() + z.size()); });
  p.ioc.run();
  reader.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(result);
  ASSERT_EQ(got.size(), x.size() + y.size() + z.size());
  EXPECT_TRUE(got == x + y + z);
}

TEST(StreamWriteAll, ReportsAPeerThatIsGone) {
  Pair p;
  p.client.close();
  std::string big = pattern(8 << 20, 'a');
  boost::system::error_code result;
  asio::co_spawn(
      p.ioc,
      [&]() -> awaitable<void> {
        // The first write may still land in the buffer; one of them fails.
        for (int i = 0; i < 4 && !result; ++i) {
          std::array<asio::const_buffer, 1> one{asio::buffer(big)};
          result = co_await write_all(*p.server, one);
        }
      },
      asio::detached);
  p.ioc.run();
  EXPECT_TRUE(result);
}

TEST(StreamWriteAll, TryWriteOnClosedSocketWritesNothing) {
  Pair p;
  p.server->close();
  boost::system::error_code ec;
  std::string s = "abc";
  EXPECT_EQ(p.server->try_write_some(asio::buffer(s), ec), 0u);
  EXPECT_FALSE(ec);
}

// ------------------------------------------------------ reads after ready work

// Runs one read_after_ready_work to completion on p.ioc; `between` runs on the
// client side after the read has started (and gone to the back of the queue).
struct ReadResult {
  boost::system::error_code ec = asio::error::fault;
  std::string got;
  bool done = false;
};

template <class Between>
ReadResult read_after(Pair& p, const Deadline* cancelled, ReadDeferral* learn, Between between) {
  ReadResult r;
  char buf[64];
  p.ioc.restart();
  asio::co_spawn(
      p.ioc,
      [&]() -> awaitable<void> {
        auto [ec, n] = co_await read_after_ready_work(*p.server, asio::buffer(buf), cancelled,
                                                      learn, use_nothrow);
        r.ec = ec;
        r.got.assign(buf, n);
        r.done = true;
      },
      asio::detached);
  p.ioc.run_one();  // the coroutine starts and posts its trip
  between();
  p.ioc.run();
  return r;
}

TEST(ReadAfterReadyWork, TakesBytesThatArrivedDuringTheTrip) {
  Pair p;
  ReadDeferral learn;
  auto r = read_after(p, nullptr, &learn, [&] {
    asio::write(p.client, asio::buffer(std::string_view("GET / HTTP/1.1\r\n")));
  });
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.got, "GET / HTTP/1.1\r\n");
  EXPECT_EQ(learn.score(), 1);  // a hit
}

TEST(ReadAfterReadyWork, WaitsWhenNothingIsThereAndRecordsTheMiss) {
  Pair p;
  ReadDeferral learn;
  // Queued behind the read's trip, so the bytes come after its try.
  auto r = read_after(p, nullptr, &learn, [&] {
    asio::post(p.ioc, [&] { asio::write(p.client, asio::buffer(std::string_view("late"))); });
  });
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.got, "late");
  EXPECT_EQ(learn.score(), -ReadDeferral::kMissWeight);
}

TEST(ReadAfterReadyWork, EndOfStreamIsEof) {
  Pair p;
  auto r = read_after(p, nullptr, nullptr, [&] { p.client.shutdown(tcp::socket::shutdown_send); });
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, asio::error::eof);
  EXPECT_TRUE(r.got.empty());
}

TEST(ReadAfterReadyWork, ACancellingDeadlineThatFiredDuringTheTripAborts) {
  // The deadline fires while the read is in the queue, with no operation to
  // cancel; the read must not then wait for bytes that may never come.
  Pair p;
  DeadlineList list;
  Deadline d;
  d.arm_cancel(list, &p.server->socket(), 1);
  auto r = read_after(p, &d, nullptr, [&] { EXPECT_EQ(list.expire(2), 1u); });
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_TRUE(p.server->is_open());
}

TEST(ReadAfterReadyWork, AClosedSocketFails) {
  // As after a closing deadline fired: the try reads nothing and the read
  // through Asio reports the closed descriptor.
  Pair p;
  p.server->close();
  auto r = read_after(p, nullptr, nullptr, [] {});
  ASSERT_TRUE(r.done);
  EXPECT_TRUE(r.ec);
}

TEST(ReadDeferral, DefersWhileFourTriesInFiveHitThenProbesRarely) {
  ReadDeferral d;
  EXPECT_TRUE(d.should_defer());
  for (int i = 0; i < ReadDeferral::kLimit; ++i) d.record(true);
  // Nine hits in ten (small responses hit 99%): it keeps deferring.
  for (int i = 0; i < 100; ++i) {
    d.record(i % 10 != 9);
    EXPECT_TRUE(d.should_defer()) << i;
  }
  // Half the tries missing (64 KiB responses): it stops.
  for (int i = 0; i < 20; ++i) d.record(i % 2 == 0);
  EXPECT_LT(d.score(), 0);
  for (int i = 0; i < 20; ++i) d.record(false);
  EXPECT_EQ(d.score(), -ReadDeferral::kLimit);  // bounded, so it can recover
  int deferred = 0;
  for (uint32_t i = 0; i < 10 * ReadDeferral::kProbeEvery; ++i) deferred += d.should_defer();
  EXPECT_EQ(deferred, 10);
  // The probes hit again: after kLimit of them it defers once more.
  for (int i = 0; i < ReadDeferral::kLimit - 1; ++i) d.record(true);
  EXPECT_EQ(d.score(), -1);
  d.record(true);
  EXPECT_EQ(d.score(), 0);
  EXPECT_TRUE(d.should_defer());
}

}  // namespace
}  // namespace gatehouse::net
