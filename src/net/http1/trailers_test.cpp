// Chunked trailer sections: kept on request, validated, forbidden fields dropped.
#include <gtest/gtest.h>

#include "net/http1/parser.hpp"

namespace gatehouse::http1 {
namespace {

TEST(ChunkedTrailers, DroppedByDefault) {
  ChunkedDecoder dec;
  auto o = dec.feed("3\r\nabc\r\n0\r\nx-sum: 1\r\n\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_TRUE(dec.trailers().empty());
}

TEST(ChunkedTrailers, KeptAndTrimmedAcrossFeeds) {
  const std::string in = "3\r\nabc\r\n0\r\nX-Sum:  1 \r\ngrpc-status:0\r\n\r\n";
  for (size_t step : {1u, 4u, 100u}) {
    ChunkedDecoder dec;
    dec.keep_trailers();
    std::string buf;
    bool done = false;
    for (size_t i = 0; i < in.size(); i += step) {
      buf += in.substr(i, step);
      auto o = dec.feed(buf);
      ASSERT_FALSE(o.error) << o.error_code;
      buf.erase(0, o.consumed);
      done = o.done;
    }
    ASSERT_TRUE(done);
    ASSERT_EQ(dec.trailers().size(), 2u);
    EXPECT_EQ(dec.trailers()[0].name, "X-Sum");
    EXPECT_EQ(dec.trailers()[0].value, "1");
    EXPECT_EQ(dec.trailers()[1].name, "grpc-status");
    EXPECT_EQ(dec.trailers()[1].value, "0");
  }
}

TEST(ChunkedTrailers, ForbiddenFieldsAreDropped) {
  ChunkedDecoder dec;
  dec.keep_trailers();
  auto o = dec.feed(
      "0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nHost: evil\r\n"
      "Authorization: x\r\nSet-Cookie: a=1\r\nConnection: close\r\nTE: trailers\r\n"
      "Content-Type: text/html\r\nx-ok: yes\r\n\r\n");
  ASSERT_TRUE(o.done);
  ASSERT_EQ(dec.trailers().size(), 1u);
  EXPECT_EQ(dec.trailers()[0].name, "x-ok");
}

TEST(ChunkedTrailers, MalformedTrailerIsAnError) {
  for (const char* bad : {"0\r\nx y: 1\r\n\r\n", "0\r\n folded\r\n\r\n", "0\r\nx: a\rb\r\n\r\n",
                          "0\r\nx: 1\n\r\n"}) {
    ChunkedDecoder dec;
    dec.keep_trailers();
    EXPECT_TRUE(dec.feed(bad).error) << bad;
  }
}

TEST(ChunkedTrailers, SizeIsBounded) {
  ChunkedDecoder dec(4096, 64);
  dec.keep_trailers();
  auto o = dec.feed("0\r\nx-a: " + std::string(40, 'a') + "\r\nx-b: " + std::string(40, 'b') +
                    "\r\n\r\n");
  EXPECT_TRUE(o.error);
  EXPECT_EQ(o.error_code, "trailers_too_large");
}

TEST(ChunkedTrailers, ForbiddenNames) {
  EXPECT_TRUE(is_forbidden_trailer("content-length"));
  EXPECT_TRUE(is_forbidden_trailer("Host"));
  EXPECT_TRUE(is_forbidden_trailer(":status"));
  EXPECT_FALSE(is_forbidden_trailer("grpc-status"));
  EXPECT_FALSE(is_forbidden_trailer("server-timing"));
}

}  // namespace
}  // namespace gatehouse::http1
