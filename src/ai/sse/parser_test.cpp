#include "ai/sse/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ai/sse/writer.hpp"

namespace gatehouse::sse {
namespace {

std::vector<Event> parse_all(std::string_view text, ParserOptions opt = {}) {
  Parser p(opt);
  std::vector<Event> out;
  auto r = p.feed(text, out);
  EXPECT_TRUE(r.ok());
  return out;
}

// Feeds `text` split at every pair of positions (three pieces) and checks the result
// equals the one-shot parse.
void expect_split_invariant(std::string_view text) {
  auto whole = parse_all(text);
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); j += 1) {
      Parser p;
      std::vector<Event> out;
      ASSERT_TRUE(p.feed(text.substr(0, i), out).ok());
      ASSERT_TRUE(p.feed(text.substr(i, j - i), out).ok());
      ASSERT_TRUE(p.feed(text.substr(j), out).ok());
      ASSERT_EQ(out.size(), whole.size()) << "split " << i << "," << j;
      for (size_t k = 0; k < out.size(); ++k) {
        EXPECT_EQ(out[k].event, whole[k].event);
        EXPECT_EQ(out[k].data, whole[k].data) << "split " << i << "," << j;
        EXPECT_EQ(out[k].id, whole[k].id);
      }
    }
  }
}

TEST(SseParser, BasicEventAndData) {
  auto ev = parse_all("event: message_start\ndata: {\"a\":1}\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "message_start");
  EXPECT_EQ(ev[0].data, "{\"a\":1}");
  EXPECT_EQ(ev[0].type_or_default(), "message_start");
}

TEST(SseParser, DefaultTypeIsMessage) {
  auto ev = parse_all("data: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "");
  EXPECT_EQ(ev[0].type_or_default(), "message");
}

TEST(SseParser, MultiLineDataJoinedWithLf) {
  auto ev = parse_all("data: a\ndata:b\ndata:  c\ndata\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb\n c\n");
}

TEST(SseParser, CrLfAndCrLineEndings) {
  auto ev = parse_all("event: e1\r\ndata: one\r\n\r\nevent: e2\rdata: two\r\rdata: three\n\n");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].event, "e1");
  EXPECT_EQ(ev[0].data, "one");
  EXPECT_EQ(ev[1].event, "e2");
  EXPECT_EQ(ev[1].data, "two");
  EXPECT_EQ(ev[2].data, "three");
}

TEST(SseParser, CommentsAreSkippedOrReported) {
  auto ev = parse_all(": ping\n\ndata: x\n: inside\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "x");
  ParserOptions opt;
  opt.report_comments = true;
  auto ev2 = parse_all(": ping\n\n", opt);
  ASSERT_EQ(ev2.size(), 1u);
  EXPECT_TRUE(ev2[0].comment);
  EXPECT_EQ(ev2[0].data, "ping");
}

TEST(SseParser, FrameWithoutDataIsNotDispatchedAndResetsType) {
  auto ev = parse_all("event: lonely\n\ndata: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "");
}

TEST(SseParser, EmptyDataLineDispatchesEmptyData) {
  auto ev = parse_all("data:\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "");
}

TEST(SseParser, IdPersistsAndNulIdIgnored) {
  using namespace std::string_literals;
  auto ev = parse_all("id: 7\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n"s);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].id, "7");
  EXPECT_EQ(ev[1].id, "7");
  EXPECT_EQ(ev[2].id, "7");
  EXPECT_EQ(ev[3].id, "");
}

TEST(SseParser, RetryOnlyDigits) {
  auto ev = parse_all("retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\n");
  ASSERT_EQ(ev.size(), 2u);
  ASSERT_TRUE(ev[0].retry.has_value());
  EXPECT_EQ(*ev[0].retry, 1500u);
  EXPECT_FALSE(ev[1].retry.has_value());
}

TEST(SseParser, UnknownFieldsAndNoColonLines) {
  auto ev = parse_all("foo: bar\ndata: a\nevent\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a");
  EXPECT_EQ(ev[0].event, "");  // `event` with no colon sets an empty type
}

TEST(SseParser, BomStrippedOnceEvenWhenSplit) {
  std::string s = "\xEF\xBB\xBF" "data: a\n\n\xEF\xBB\xBF" "data: b\n\n";
  for (size_t i = 0; i <= 4; ++i) {
    Parser p;
    std::vector<Event> out;
    ASSERT_TRUE(p.feed(std::string_view(s).substr(0, i), out).ok());
    ASSERT_TRUE(p.feed(std::string_view(s).substr(i), out).ok());
    ASSERT_EQ(out.size(), 1u) << i;  // the second BOM makes an unknown field name
    EXPECT_EQ(out[0].data, "a");
  }
}

TEST(SseParser, SplitAtEveryBoundary) {
  expect_split_invariant(
      "event: a\r\ndata: 1\r\n\r\n: c\rdata: 2\r\rid: 9\ndata: x\ndata: y\n\n");
}

TEST(SseParser, PendingTellsACutFrame) {
  Parser p;
  std::vector<Event> out;
  ASSERT_TRUE(p.feed("data: done\n\ndata: {\"par", out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(p.pending());
  ASSERT_TRUE(p.feed("tial\"}\n\n", out).ok());
  EXPECT_FALSE(p.pending());
  EXPECT_EQ(out.back().data, "{\"partial\"}");
}

TEST(SseParser, MaxFrameSizeIsAnError) {
  ParserOptions opt;
  opt.max_frame_bytes = 16;
  Parser p(opt);
  std::vector<Event> out;
  ASSERT_TRUE(p.feed("data: 0123\n\n", out).ok());
  auto r = p.feed("data: 0123456789", out);
  ASSERT_TRUE(r.ok());
  r = p.feed("abcdef\n", out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "sse_frame_too_large");
  EXPECT_TRUE(p.failed());
  EXPECT_FALSE(p.feed("\n", out).ok());
  // Many small data lines count too.
  Parser q(opt);
  std::vector<Event> out2;
  auto r2 = q.feed("data: 01234\ndata: 01234\ndata: 01234\ndata: 0\n", out2);
  EXPECT_FALSE(r2.ok());
}

TEST(SseWriter, RoundTripsThroughParser) {
  std::string out;
  write_event(out, "content_block_delta", "{\"a\":1}");
  write_event(out, "", "line1\nline2\r\nline3\rline4");
  write_event(out, "", "", "42");
  write_comment(out, "ping");
  write_event(out, "x\ny", " leading space");
  auto ev = parse_all(out);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].event, "content_block_delta");
  EXPECT_EQ(ev[0].data, "{\"a\":1}");
  EXPECT_EQ(ev[1].data, "line1\nline2\nline3\nline4");
  EXPECT_EQ(ev[2].data, "");
  EXPECT_EQ(ev[2].id, "42");
  EXPECT_EQ(ev[3].event, "x");
  EXPECT_EQ(ev[3].data, " leading space");
}

TEST(SseWriter, ExactBytes) {
  std::string out;
  write_event(out, "ping", "{\"type\":\"ping\"}");
  EXPECT_EQ(out, "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  out.clear();
  write_event(out, "", "[DONE]");
  EXPECT_EQ(out, "data: [DONE]\n\n");
  out.clear();
  write_comment(out, "keepalive");
  EXPECT_EQ(out, ": keepalive\n\n");
}

}  // namespace
}  // namespace gatehouse::sse
