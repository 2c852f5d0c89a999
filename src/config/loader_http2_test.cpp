#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

using namespace loader_test_util;

TEST(ConfigHttp2, DefaultsAndOverrides) {
  auto d = load(kMinimal);
  ASSERT_TRUE(d.ok()) << dump(d);
  EXPECT_TRUE(d.config.server.http2.enabled);
  EXPECT_EQ(d.config.server.http2.max_concurrent_streams, 100u);
  EXPECT_EQ(d.config.server.http2.initial_window_size, 65'535u);
  EXPECT_EQ(d.config.server.http2.max_header_list_size, 64u * 1024);

  auto r = load(std::string("http2: {enabled: false, max_concurrent_streams: 8, "
                            "initial_window_size: 1m, max_header_list_size: 16k}\n") +
                kMinimal);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_FALSE(r.config.server.http2.enabled);
  EXPECT_EQ(r.config.server.http2.max_concurrent_streams, 8u);
  EXPECT_EQ(r.config.server.http2.initial_window_size, 1024u * 1024);
  EXPECT_EQ(r.config.server.http2.max_header_list_size, 16u * 1024);
}

TEST(ConfigHttp2, UnknownKeyAndBadValues) {
  auto unknown = load("http2: {max_streams: 8}\n");
  expect_only_error(unknown, "unknown_field", "http2.max_streams", 1, 9);
  EXPECT_FALSE(load("http2: {max_concurrent_streams: 0}\n").ok());
  EXPECT_FALSE(load("http2: {initial_window_size: 4g}\n").ok());
  EXPECT_FALSE(load("http2: {max_header_list_size: 10}\n").ok());
}

}  // namespace
}  // namespace gatehouse::config
