#include "net/recycler.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http1/parser.hpp"
#include "net/worker.hpp"

namespace gatehouse::net {
namespace {

struct Thing {
  std::vector<int> v;
};

TEST(Recycler, ReturnedObjectsAreReusedWithTheirCapacity) {
  Recycler<Thing> r(4);
  Thing* first = nullptr;
  {
    auto a = r.take();
    first = a.get();
    a->v.reserve(100);
    a->v.push_back(7);
    EXPECT_EQ(r.idle(), 0u);
  }
  EXPECT_EQ(r.idle(), 1u);
  auto b = r.take();
  EXPECT_EQ(b.get(), first);         // the same object, last in first out
  EXPECT_GE(b->v.capacity(), 100u);  // with what it had grown to
  EXPECT_EQ(b->v.size(), 1u);        // and as the last user left it: callers reset
  EXPECT_EQ(r.idle(), 0u);
}

TEST(Recycler, KeepsAtMostMaxFree) {
  Recycler<Thing> r(2);
  {
    auto a = r.take();
    auto b = r.take();
    auto c = r.take();
    EXPECT_NE(a.get(), b.get());
    EXPECT_NE(b.get(), c.get());
  }
  EXPECT_EQ(r.idle(), 2u);  // the third was freed
}

TEST(Recycler, KeepTestRejectsOversizedObjects) {
  Recycler<Thing> r(8, [](const Thing& t) { return t.v.capacity() <= 16; });
  {
    auto small = r.take();
    auto big = r.take();
    small->v.resize(4);
    big->v.resize(1000);
  }
  EXPECT_EQ(r.idle(), 1u);
  auto again = r.take();
  EXPECT_LE(again->v.capacity(), 16u);
}

TEST(Recycler, MovedLeaseReturnsOnce) {
  Recycler<Thing> r(4);
  {
    auto a = r.take();
    auto b = std::move(a);
    EXPECT_EQ(a.get(), nullptr);
    Recycler<Thing>::Lease c;
    c = std::move(b);
    EXPECT_NE(c.get(), nullptr);
  }
  EXPECT_EQ(r.idle(), 1u);
}

TEST(Recycler, ReusedRequestHeadParsesLikeANewOne) {
  // The parser resets every field of a head it is given: a recycled head
  // that carried a chunked upload with many headers parses a small GET to
  // exactly what a fresh head would.
  metrics::Registry registry(1);
  Worker w(0, registry, -1);
  http1::Limits limits;
  http1::ParseError err;
  {
    auto h = w.request_heads().take();
    std::string big =
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
        "Connection: close\r\nUser-Agent: a-rather-long-user-agent-value/1.0\r\nX-1: 1\r\n"
        "X-2: 2\r\n\r\n";
    ASSERT_EQ(http1::parse_request_head(big, limits, *h, err), http1::ParseStatus::kComplete);
    EXPECT_EQ(h->body, http1::BodyKind::kChunked);
  }
  EXPECT_EQ(w.request_heads().idle(), 1u);
  auto h = w.request_heads().take();
  std::string small = "GET /x HTTP/1.1\r\nHost: b\r\n\r\n";
  ASSERT_EQ(http1::parse_request_head(small, limits, *h, err), http1::ParseStatus::kComplete);
  http1::RequestHead fresh;
  ASSERT_EQ(http1::parse_request_head(small, limits, fresh, err), http1::ParseStatus::kComplete);
  EXPECT_EQ(h->method, fresh.method);
  EXPECT_EQ(h->target, fresh.target);
  ASSERT_EQ(h->headers.size(), 1u);
  EXPECT_EQ(h->headers[0].name, "Host");
  EXPECT_EQ(h->headers[0].value, "b");
  EXPECT_EQ(h->body, fresh.body);
  EXPECT_EQ(h->content_length, fresh.content_length);
  EXPECT_EQ(h->keep_alive, fresh.keep_alive);
  EXPECT_EQ(h->expect_continue, fresh.expect_continue);
  EXPECT_EQ(h->upgrade, fresh.upgrade);
  EXPECT_EQ(h->head_bytes, fresh.head_bytes);
}

TEST(Recycler, WorkerDropsHeadsWithHugeHeaders) {
  metrics::Registry registry(1);
  Worker w(0, registry, -1);
  {
    auto h = w.response_heads().take();
    h->headers.resize(4);
    h->headers[0].value.assign(64 * 1024, 'x');  // a 64 KiB cookie is not worth pinning
  }
  EXPECT_EQ(w.response_heads().idle(), 0u);
  {
    auto h = w.response_heads().take();
    h->headers.resize(4);
  }
  EXPECT_EQ(w.response_heads().idle(), 1u);
}

}  // namespace
}  // namespace gatehouse::net
