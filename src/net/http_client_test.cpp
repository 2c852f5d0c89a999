#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

namespace gatehouse::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// A loopback HTTP/1.1 server counting the connections it accepts. `close_after`
// requests on a connection, it answers and closes (with Connection: close
// when `announce_close`, silently otherwise: a server dropping an idle
// keep-alive connection).
struct TestServer {
  explicit TestServer(asio::io_context& ioc)
      : acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ioc, accept_loop(), asio::detached);
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) +
           std::string(path);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(use_nothrow);
      if (ec) co_return;
      ++accepted;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(sock)), asio::detached);
    }
  }

  awaitable<void> serve(tcp::socket sock) {
    beast::flat_buffer buf;
    for (int n = 1;; ++n) {
      http::request<http::string_body> req;
      auto [rec, rn] = co_await http::async_read(sock, buf, req, use_nothrow);
      if (rec) co_return;
      ++requests;
      if (n == drop_at) co_return;   // read, then closed without an answer
      if (req.target() == "/sse") {  // an event, then (a moment later) the end of the stream
        std::string head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            "Transfer-Encoding: chunked\r\n\r\n";
        std::string event = "data: n=" + std::to_string(n) + "\n\n";
        char size[16];
        snprintf(size, sizeof size, "%zx\r\n", event.size());
        auto [e1, w1] = co_await asio::async_write(sock, asio::buffer(head + size + event + "\r\n"),
                                                   use_nothrow);
        asio::steady_timer t(sock.get_executor(), std::chrono::milliseconds(10));
        co_await t.async_wait(use_nothrow);
        auto [e2, w2] =
            co_await asio::async_write(sock, asio::buffer(std::string("0\r\n\r\n")), use_nothrow);
        if (e1 || e2) co_return;
        continue;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "text/plain");
      res.body() = req.target() == "/big" ? std::string(200'000, 'x') : "n=" + std::to_string(n);
      bool last = close_after > 0 && n >= close_after;
      if (last && announce_close) res.keep_alive(false);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(sock, res, use_nothrow);
      if (wec || last) co_return;
    }
  }

  tcp::acceptor acceptor;
  int accepted = 0;
  int requests = 0;
  int close_after = 0;
  bool announce_close = true;
  int drop_at = 0;
};

// Runs `body` as a coroutine on `ioc` until it finishes.
template <class F>
void run(asio::io_context& ioc, F body) {
  bool finished = false;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        co_await body();
        finished = true;
        ioc.stop();
      },
      asio::detached);
  ioc.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(finished);
}

awaitable<std::string> get(const std::string& url) {
  HttpClientRequest r;
  r.url = url;
  auto got = co_await http_call(r, nullptr);
  if (!got) co_return "error: " + got.error().message;
  co_return got.value().body;
}

TEST(HttpClient, SequentialCallsShareOneKeptAliveConnection) {
  asio::io_context ioc;
  TestServer srv(ioc);
  run(ioc, [&]() -> awaitable<void> {
    EXPECT_EQ(co_await get(srv.url("/a")), "n=1");
    EXPECT_EQ(co_await get(srv.url("/b")), "n=2");  // the second request on the same connection
    EXPECT_EQ(co_await get(srv.url("/c")), "n=3");
  });
  EXPECT_EQ(srv.accepted, 1);
  EXPECT_EQ(srv.requests, 3);
  EXPECT_EQ(http_idle_connections(ioc), 1u);
}

TEST(HttpClient, ConnectionCloseIsNotReused) {
  asio::io_context ioc;
  TestServer srv(ioc);
  srv.close_after = 1;
  run(ioc, [&]() -> awaitable<void> {
    EXPECT_EQ(co_await get(srv.url("/a")), "n=1");
    EXPECT_EQ(co_await get(srv.url("/b")), "n=1");
  });
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(http_idle_connections(ioc), 0u);
}

TEST(HttpClient, AConnectionThePeerDroppedIsReplacedNotAnError) {
  asio::io_context ioc;
  TestServer srv(ioc);
  srv.close_after = 1;
  srv.announce_close = false;  // says keep-alive, then closes: an idle timeout on the server
  run(ioc, [&]() -> awaitable<void> {
    EXPECT_EQ(co_await get(srv.url("/a")), "n=1");
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await t.async_wait(use_nothrow);
    EXPECT_EQ(co_await get(srv.url("/b")), "n=1");
    EXPECT_EQ(co_await get(srv.url("/c")), "n=1");
  });
  EXPECT_EQ(srv.accepted, 3);
  EXPECT_EQ(srv.requests, 3);
}

// A reused connection that the server closes after reading the request: a
// GET may be repeated on a new connection, a POST may not (the server may
// have acted on it).
TEST(HttpClient, OnlyRepeatableRequestsAreRetriedOnANewConnection) {
  asio::io_context ioc;
  TestServer srv(ioc);
  srv.drop_at = 2;
  run(ioc, [&]() -> awaitable<void> {
    EXPECT_EQ(co_await get(srv.url("/a")), "n=1");
    EXPECT_EQ(co_await get(srv.url("/b")), "n=1");  // dropped on the old one, answered on a new one
    srv.drop_at = 0;
    HttpClientRequest post;
    post.method = "POST";
    post.url = srv.url("/c");
    post.body = "{}";
    EXPECT_EQ(co_await get(srv.url("/warm")), "n=2");  // the new connection, now pooled
    srv.drop_at = 3;
    auto got = co_await http_call(post, nullptr);
    EXPECT_FALSE(got);
    if (!got) {
      EXPECT_NE(got.error().message.find("reading the response"), std::string::npos);
    }
  });
  EXPECT_EQ(srv.accepted, 2);
  EXPECT_EQ(srv.requests, 5);
}

TEST(HttpClient, AStreamLeftMidBodyClosesItsConnection) {
  asio::io_context ioc;
  TestServer srv(ioc);
  run(ioc, [&]() -> awaitable<void> {
    HttpClientRequest r;
    r.url = srv.url("/big");
    {
      auto s = co_await http_open(r, nullptr);
      EXPECT_TRUE(s);
      if (s) {
        auto piece = co_await s.value()->read_some();
        EXPECT_TRUE(piece);
        EXPECT_FALSE(s.value()->done());
      }
    }  // dropped with most of the body unread
    EXPECT_EQ(http_idle_connections(ioc), 0u);
    EXPECT_EQ(co_await get(srv.url("/a")), "n=1");  // a new connection
  });
  EXPECT_EQ(srv.accepted, 2);
}

// The caller stops at the event it wanted; the end of the stream is read in
// the background and the connection is kept.
TEST(HttpClient, FinishLaterKeepsTheConnectionOfAnEndingStream) {
  asio::io_context ioc;
  TestServer srv(ioc);
  run(ioc, [&]() -> awaitable<void> {
    HttpClientRequest r;
    r.url = srv.url("/sse");
    auto s = co_await http_open(r, nullptr);
    EXPECT_TRUE(s);
    if (!s) co_return;
    auto piece = co_await s.value()->read_some();
    EXPECT_TRUE(piece);
    if (piece) {
      EXPECT_EQ(piece.value(), "data: n=1\n\n");
    }
    EXPECT_FALSE(s.value()->done());
    HttpClientStream::finish_later(std::move(s.value()), 1'000);
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
    co_await t.async_wait(use_nothrow);
    EXPECT_EQ(http_idle_connections(ioc), 1u);
    EXPECT_EQ(co_await get(srv.url("/a")), "n=2");
  });
  EXPECT_EQ(srv.accepted, 1);
}

TEST(HttpClient, DifferentHostsDoNotShareConnections) {
  asio::io_context ioc;
  TestServer one(ioc);
  TestServer two(ioc);
  run(ioc, [&]() -> awaitable<void> {
    EXPECT_EQ(co_await get(one.url("/")), "n=1");
    EXPECT_EQ(co_await get(two.url("/")), "n=1");
    EXPECT_EQ(co_await get(one.url("/")), "n=2");
    EXPECT_EQ(co_await get(two.url("/")), "n=2");
  });
  EXPECT_EQ(one.accepted, 1);
  EXPECT_EQ(two.accepted, 1);
  EXPECT_EQ(http_idle_connections(ioc), 2u);
}

}  // namespace
}  // namespace gatehouse::net
