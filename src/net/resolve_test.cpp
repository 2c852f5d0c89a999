#include "net/resolve.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gatehouse {
namespace {

std::vector<tcp::endpoint> run_resolve(std::string host, std::string port,
                                       boost::system::error_code& ec) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  std::vector<tcp::endpoint> out;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        auto [e, results] = co_await resolve(resolver, host, port);
        ec = e;
        for (const auto& r : results) out.push_back(r.endpoint());
      },
      asio::detached);
  ioc.run();
  return out;
}

TEST(Resolve, IpLiteralsNeedNoLookup) {
  boost::system::error_code ec;
  auto v4 = run_resolve("10.0.0.7", "8443", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0], tcp::endpoint(asio::ip::make_address("10.0.0.7"), 8443));
  auto v6 = run_resolve("[::1]", "80", ec);
  ASSERT_FALSE(ec);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0], tcp::endpoint(asio::ip::make_address("::1"), 80));
}

TEST(Resolve, NamesAndServiceNamesGoToTheResolver) {
  boost::system::error_code ec;
  auto local = run_resolve("localhost", "9000", ec);
  ASSERT_FALSE(ec);
  ASSERT_FALSE(local.empty());
  for (const auto& e : local) {
    EXPECT_TRUE(e.address().is_loopback());
    EXPECT_EQ(e.port(), 9000);
  }
  // A literal with a service name instead of a number is the resolver's too.
  auto named_port = run_resolve("127.0.0.1", "http", ec);
  ASSERT_FALSE(ec);
  ASSERT_FALSE(named_port.empty());
  EXPECT_EQ(named_port[0].port(), 80);
  run_resolve("no-such-host.invalid", "80", ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace gatehouse
