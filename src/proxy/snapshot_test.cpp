#include "proxy/snapshot.hpp"

#include <gtest/gtest.h>

#include "net/deadline.hpp"

namespace gatehouse::proxy {
namespace {

config::Config two_upstreams(const std::string& second_target) {
  config::Config c;
  config::UpstreamConfig a;
  a.name = "a";
  a.targets.push_back({"127.0.0.1:9001", "127.0.0.1", 9001, 1});
  config::UpstreamConfig b;
  b.name = "b";
  b.targets.push_back({second_target, "127.0.0.1",
                       static_cast<uint16_t>(std::stoi(second_target.substr(10))), 1});
  c.upstreams = {a, b};
  config::RouteConfig r;
  r.name = "r";
  r.upstream = "b";
  r.match.paths.push_back({config::PathKind::kPrefix, "/"});
  c.routes = {r};
  return c;
}

TEST(Snapshot, UnchangedUpstreamsAreReusedAcrossReloads) {
  metrics::Registry reg(1);
  auto s1 = build_snapshot(two_upstreams("127.0.0.1:9002"), nullptr, reg, 1);
  ASSERT_TRUE(s1.ok());
  auto s2 = build_snapshot(two_upstreams("127.0.0.1:9003"), s1.value().get(), reg, 2);
  ASSERT_TRUE(s2.ok());
  // "a" is unchanged: same shared state (pools, health, breaker survive).
  EXPECT_EQ(s1.value()->upstreams[0].get(), s2.value()->upstreams[0].get());
  // "b" changed its target: fresh state.
  EXPECT_NE(s1.value()->upstreams[1].get(), s2.value()->upstreams[1].get());
  EXPECT_EQ(s2.value()->routes[0].upstream, 1);
  EXPECT_EQ(s2.value()->generation, 2u);
}

TEST(Snapshot, LiteralTargetsResolveImmediately) {
  metrics::Registry reg(1);
  auto s = build_snapshot(two_upstreams("127.0.0.1:9002"), nullptr, reg, 1);
  ASSERT_TRUE(s.ok());
  auto eps = s.value()->upstreams[0]->addresses[0]->endpoints.load();
  ASSERT_EQ(eps->size(), 1u);
  EXPECT_EQ(eps->front().port(), 9001);
  EXPECT_TRUE(s.value()->upstreams[0]->addresses[0]->is_literal);
}

TEST(Snapshot, UnknownUpstreamIsAnError) {
  metrics::Registry reg(1);
  auto c = two_upstreams("127.0.0.1:9002");
  c.routes[0].upstream = "missing";
  auto s = build_snapshot(c, nullptr, reg, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "unknown_upstream");
  EXPECT_EQ(s.error().field, "routes[0].upstream");
}

TEST(Deadline, ExpiredDeadlineClosesSocket) {
  asio::io_context ioc;
  tcp::acceptor acc(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(ioc);
  client.connect(acc.local_endpoint());
  tcp::socket server = acc.accept();
  net::DeadlineList list;
  net::Deadline early, late;
  early.arm(list, &server, 100);
  late.arm(list, &client, 1000);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.expire(500), 1u);
  EXPECT_TRUE(early.fired());
  EXPECT_FALSE(server.is_open());
  EXPECT_TRUE(client.is_open());
  EXPECT_FALSE(late.fired());
  late.disarm();
  EXPECT_EQ(list.expire(5000), 0u);
  early.unlink();
  EXPECT_EQ(list.size(), 1u);
}

}  // namespace
}  // namespace gatehouse::proxy
