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

// Counts the handlers the io_context runs until `done` is set.
template <class Start>
int handlers_until_done(Pair& p, bool& done, Start start) {
  start();
  int n = 0;
  while (!done && p.ioc.run_one()) ++n;
  return n;
}

TEST(StreamWriteAll, SmallWriteFinishesWithoutAQueueRound) {
  Pair p;
  std::string a = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", b = "hello";
  std::array<asio::const_buffer, 3> bufs{asio::buffer(a), asio::const_buffer(), asio::buffer(b)};
  bool done = false;
  boost::system::error_code result = asio::error::fault;
  // The same write through Asio's async_write completes through the handler
  // queue (one more handler run) even though the socket took it at once.
  int with_async = handlers_until_done(p, done, [&] {
    asio::co_spawn(
        p.ioc,
        [&]() -> awaitable<void> {
          auto [ec, n] = co_await asio::async_write(*p.server, bufs, use_nothrow);
          result = ec;
          done = true;
        },
        asio::detached);
  });
  ASSERT_TRUE(done);
  EXPECT_FALSE(result);
  EXPECT_EQ(drain(p, a.size() + b.size()), a + b);
  done = false;
  result = asio::error::fault;
  int with_write_all = handlers_until_done(p, done, [&] {
    asio::co_spawn(
        p.ioc,
        [&]() -> awaitable<void> {
          result = co_await write_all(*p.server, bufs);
          done = true;
        },
        asio::detached);
  });
  ASSERT_TRUE(done);
  EXPECT_FALSE(result);
  EXPECT_EQ(drain(p, a.size() + b.size()), a + b);
  EXPECT_LT(with_write_all, with_async);
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

}  // namespace
}  // namespace gatehouse::net
