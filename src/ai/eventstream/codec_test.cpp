#include "ai/eventstream/codec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gatehouse::eventstream {
namespace {

Message event(std::string type, std::string payload) {
  Message m;
  m.headers.push_back({":event-type", HeaderType::kString, std::move(type)});
  m.headers.push_back({":content-type", HeaderType::kString, "application/json"});
  m.headers.push_back({":message-type", HeaderType::kString, "event"});
  m.payload = std::move(payload);
  return m;
}

std::vector<Message> decode_all(std::string_view bytes, size_t step, bool& ok) {
  Decoder d;
  std::vector<Message> out;
  ok = true;
  for (size_t at = 0; at < bytes.size() && ok; at += step)
    ok = d.feed(bytes.substr(at, step), out).ok();
  return out;
}

TEST(EventStream, Crc32CheckValue) {
  // The CRC-32 catalogue's check value for "123456789".
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("6789", crc32("12345")), 0xCBF43926u);
}

TEST(EventStream, EncodesTheDocumentedLayout) {
  Message m;
  m.headers.push_back({"a", HeaderType::kString, "b"});
  m.payload = "{}";
  std::string bytes = encode(m);
  // 12 prelude + header (1 + 1 + 1 + 2 + 1 = 6) + 2 payload + 4 CRC.
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\0\0\0\x18\0\0\0\x06", 8));
  EXPECT_EQ(bytes.substr(12, 6), std::string("\x01" "a" "\x07\0\x01" "b", 6));
}

TEST(EventStream, RoundTripsInAnyChunking) {
  std::string bytes = encode(event("messageStart", R"({"role":"assistant"})")) +
                      encode(event("contentBlockDelta", R"({"delta":{"text":"Hi"}})"));
  Message typed;
  typed.headers.push_back({"flag", HeaderType::kBoolTrue, ""});
  typed.headers.push_back({"n", HeaderType::kInt, std::string("\0\0\0\x2a", 4)});
  typed.headers.push_back({"id", HeaderType::kUuid, std::string(16, 'x')});
  bytes += encode(typed);
  for (size_t step : {size_t(1), size_t(5), bytes.size()}) {
    bool ok = false;
    auto msgs = decode_all(bytes, step, ok);
    ASSERT_TRUE(ok) << step;
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0].header(":event-type"), "messageStart");
    EXPECT_EQ(msgs[1].payload, R"({"delta":{"text":"Hi"}})");
    EXPECT_EQ(msgs[2].headers.size(), 3u);
    EXPECT_EQ(msgs[2].headers[1].value, std::string("\0\0\0\x2a", 4));
    EXPECT_EQ(msgs[2].header("n"), "");  // not a string header
  }
}

TEST(EventStream, DecodesBytesFramedByAnotherImplementation) {
  // Written by tests/fixtures/ai/bedrock/make_fixtures.py (Python's zlib CRC).
  std::ifstream in(std::string(GATEHOUSE_SOURCE_DIR) +
                       "/tests/fixtures/ai/bedrock/stream_text.eventstream",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  bool ok = false;
  auto msgs = decode_all(ss.str(), 3, ok);
  ASSERT_TRUE(ok);
  ASSERT_GE(msgs.size(), 4u);
  EXPECT_EQ(msgs.front().header(":event-type"), "messageStart");
  EXPECT_EQ(msgs.back().header(":event-type"), "metadata");
}

TEST(EventStream, RejectsCorruptFrames) {
  std::string good = encode(event("messageStop", R"({"stopReason":"end_turn"})"));
  auto fails_with = [](std::string bytes, const char* code) {
    Decoder d;
    std::vector<Message> out;
    auto r = d.feed(bytes, out);
    ASSERT_FALSE(r.ok()) << code;
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(r.error().status, 502);
    EXPECT_TRUE(d.failed());
    EXPECT_FALSE(d.feed(std::string(), out).ok());  // stays failed
  };
  std::string bad_prelude = good;
  bad_prelude[9] ^= 1;
  fails_with(bad_prelude, "eventstream_bad_crc");
  std::string bad_payload = good;
  bad_payload[good.size() - 6] ^= 1;
  fails_with(bad_payload, "eventstream_bad_crc");
  // Lengths that contradict each other, with a prelude CRC that matches them.
  auto with_prelude = [&](uint32_t total, uint32_t headers) {
    std::string p;
    for (uint32_t v : {total, headers})
      for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<char>(v >> s));
    uint32_t c = crc32(p);
    for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<char>(c >> s));
    return p + good.substr(12);
  };
  fails_with(with_prelude(8, 0), "eventstream_bad_length");
  fails_with(with_prelude(100, 90), "eventstream_bad_length");
  fails_with(with_prelude(64 * 1024 * 1024, 0), "eventstream_too_large");
  // A header whose declared string length runs past the header block.
  Message m;
  m.headers.push_back({"k", HeaderType::kString, "v"});
  std::string h = encode(m);
  h[15] = 9;  // the string length's high byte
  h.resize(h.size() - 4);
  uint32_t c = crc32(h);
  for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<char>(c >> s));
  fails_with(h, "eventstream_bad_header");
}

TEST(EventStream, IncompleteMessageIsPending) {
  std::string good = encode(event("metadata", "{}"));
  Decoder d;
  std::vector<Message> out;
  ASSERT_TRUE(d.feed(std::string_view(good).substr(0, good.size() - 1), out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.pending());
  ASSERT_TRUE(d.feed(std::string_view(good).substr(good.size() - 1), out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(d.pending());
}

}  // namespace
}  // namespace gatehouse::eventstream
