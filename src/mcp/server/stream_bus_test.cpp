#include "mcp/server/stream_bus.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace gatehouse::mcp {
namespace {

// Runs the posted deliveries and returns what reached the feed.
std::vector<FeedItem> drain(asio::io_context& ioc, const std::shared_ptr<Feed>& f) {
  std::vector<FeedItem> out;
  ioc.restart();
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        for (;;) {
          auto it = co_await f->next(1);
          if (!it) co_return;
          out.push_back(std::move(*it));
        }
      },
      asio::detached);
  ioc.run();
  return out;
}

TEST(EventId, ParsesOnlyWhatWeSend) {
  auto id = EventId::parse("12-3");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->stream, 12u);
  EXPECT_EQ(id->seq, 3u);
  EXPECT_EQ(id->str(), "12-3");
  for (const char* bad :
       {"", "1", "-1", "1-", "a-1", "1-b", "1-2-3", "1 -2", "99999999999999999999-1"})
    EXPECT_FALSE(EventId::parse(bad)) << bad;
}

TEST(SessionBus, StandaloneStreamLiveThenResumed) {
  asio::io_context ioc;
  SessionBus bus;
  auto f1 = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {"a"}, std::nullopt, f1, 0);
  bus.publish("s", "n1", 0);
  auto got = drain(ioc, f1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "0-1");
  EXPECT_EQ(got[0].data, "n1");
  f1->closed = true;
  bus.publish("s", "n2", 0);
  bus.publish("s", "n3", 0);
  // Resuming after 0-2 replays 0-3 only.
  auto f2 = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {"a"}, EventId{0, 2}, f2, 0);
  got = drain(ioc, f2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "0-3");
  // A second GET replaces the first: the old one is ended.
  auto f3 = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {"a"}, std::nullopt, f3, 0);
  got = drain(ioc, f2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].end);
  // A fresh (non-resuming) later stream does not replay old events.
  EXPECT_TRUE(drain(ioc, f3).empty());
}

TEST(SessionBus, FirstStreamGetsWhatCameBeforeIt) {
  asio::io_context ioc;
  SessionBus bus;
  bus.publish("s", "early", 0);
  auto f = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {}, std::nullopt, f, 0);
  auto got = drain(ioc, f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "early");
}

TEST(SessionBus, PostStreamReplayedThenFollowedToItsResponse) {
  asio::io_context ioc;
  SessionBus bus;
  bus.record("s", {7, 1}, "p1", false, 0);
  bus.record("s", {7, 2}, "p2", false, 0);
  bus.record("s", {8, 1}, "other", false, 0);
  auto f = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {}, EventId{7, 1}, f, 0);
  bus.record("s", {7, 3}, "response", true, 0);
  auto got = drain(ioc, f);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "7-2");
  EXPECT_EQ(got[1].data, "response");
  EXPECT_TRUE(got[2].end);
  // Resuming after the response came: replayed, then ended at once.
  auto g = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("s", {}, EventId{7, 2}, g, 0);
  got = drain(ioc, g);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, "response");
  EXPECT_TRUE(got[1].end);
}

TEST(SessionBus, BroadcastReachesLiveSessionsOfTheServerOnly) {
  asio::io_context ioc;
  SessionBus bus;
  auto a = std::make_shared<Feed>(ioc.get_executor());
  auto b = std::make_shared<Feed>(ioc.get_executor());
  bus.listen("a", {"x", "y"}, std::nullopt, a, 0);
  bus.listen("b", {"y"}, std::nullopt, b, 0);
  bus.broadcast("x", "changed", 0);
  EXPECT_EQ(drain(ioc, a).size(), 1u);
  EXPECT_TRUE(drain(ioc, b).empty());
}

TEST(SessionBus, Bounded) {
  asio::io_context ioc;
  SessionBus::Limits l;
  l.events_per_session = 3;
  l.sessions = 2;
  SessionBus bus(l);
  for (int i = 0; i < 10; ++i) bus.publish("s", "n" + std::to_string(i), 0);
  EXPECT_EQ(bus.buffered("s"), 3u);
  bus.publish("t", "x", 1);
  bus.publish("u", "x", 2);  // evicts the least recently used ("s")
  EXPECT_EQ(bus.sessions(), 2u);
  EXPECT_EQ(bus.buffered("s"), 0u);
  // Idle logs without a listener go.
  bus.publish("v", "x", 2 + l.idle_ms + 1);
  EXPECT_LE(bus.sessions(), 2u);
  bus.forget("v");
  EXPECT_EQ(bus.buffered("v"), 0u);
}

}  // namespace
}  // namespace gatehouse::mcp
