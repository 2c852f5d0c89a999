#include "net/websocket/frame.hpp"

#include <gtest/gtest.h>

#include "net/websocket/handshake.hpp"

namespace gatehouse::net::websocket {
namespace {

// A frame as an endpoint would send it (payload not really masked: the
// scanner never looks at payload bytes).
std::string frame(uint8_t opcode, size_t len, bool masked, bool fin = true, uint8_t rsv = 0) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | rsv | opcode);
  uint8_t m = masked ? 0x80 : 0;
  if (len < 126) {
    f += static_cast<char>(m | len);
  } else if (len < 65536) {
    f += static_cast<char>(m | 126);
    f += static_cast<char>(len >> 8);
    f += static_cast<char>(len & 0xFF);
  } else {
    f += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((uint64_t{len} >> (8 * i)) & 0xFF);
  }
  if (masked) f += "mask";
  f += std::string(len, 'p');
  return f;
}

TEST(WebSocketFrames, WholeFramesPassInAnySplit) {
  std::string in = frame(1, 5, true) + frame(2, 300, true) + frame(2, 70'000, true) +
                   frame(9, 4, true) + frame(8, 2, true);
  for (size_t cut = 0; cut <= in.size(); cut += 7) {
    FrameScanner s(true, false, {});
    std::string pending;
    size_t passed = 0;
    for (std::string_view part :
         {std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}) {
      pending += part;
      auto r = s.scan(pending);
      ASSERT_EQ(r.close, 0) << r.why;
      passed += r.pass;
      pending.erase(0, r.pass);
    }
    EXPECT_EQ(passed, in.size());
    EXPECT_TRUE(s.at_boundary());
    EXPECT_EQ(s.frames(), 5u);
  }
}

TEST(WebSocketFrames, UnfinishedHeaderIsHeldBack) {
  FrameScanner s(false, false, {});
  std::string f = frame(2, 70'000, false);
  auto r = s.scan(f.substr(0, 5));  // 2 + 3 of the 8 length bytes
  EXPECT_EQ(r.pass, 0u);
  r = s.scan(f.substr(0, 12));
  EXPECT_EQ(r.pass, 12u);  // the header (10) and two payload bytes
  EXPECT_FALSE(s.at_boundary());
}

TEST(WebSocketFrames, FrameOverTheLimitIsRefusedWith1009BeforeItsHeaderGoesOn) {
  FrameScanner s(true, false, FrameLimits{1000, 0});
  std::string in = frame(1, 1000, true) + frame(2, 1001, true);
  auto r = s.scan(in);
  EXPECT_EQ(r.close, kCloseTooBig);
  EXPECT_EQ(r.pass, frame(1, 1000, true).size());
  EXPECT_TRUE(s.at_boundary());
  EXPECT_EQ(s.scan(frame(1, 1, true)).close, kCloseTooBig);  // stays refused
}

TEST(WebSocketFrames, FragmentedMessageOverTheLimitIsRefused) {
  FrameScanner s(false, false, FrameLimits{0, 250});
  std::string in = frame(1, 100, false, false) + frame(9, 3, false) + frame(0, 100, false, false);
  auto r = s.scan(in);
  EXPECT_EQ(r.close, 0);
  EXPECT_EQ(r.pass, in.size());
  r = s.scan(frame(0, 51, false, true));
  EXPECT_EQ(r.close, kCloseTooBig);
  EXPECT_EQ(r.pass, 0u);
  // A new message starts its count again.
  FrameScanner t(false, false, FrameLimits{0, 250});
  EXPECT_EQ(t.scan(frame(2, 200, false) + frame(2, 200, false)).close, 0);
}

TEST(WebSocketFrames, ProtocolViolationsAre1002) {
  struct Case {
    std::string bytes;
    bool from_client;
    const char* why;
  };
  std::vector<Case> cases = {
      {frame(3, 1, true), true, "reserved opcode"},
      {frame(0xB, 1, true), true, "reserved opcode"},
      {frame(9, 126, true), true, "control frame over 125 bytes"},
      {frame(8, 2, true, false), true, "fragmented control frame"},
      {frame(0, 5, true), true, "continuation frame outside a message"},
      {frame(1, 5, true, false) + frame(2, 5, true), true, "new message inside a fragmented one"},
      {frame(1, 5, false), true, "unmasked client frame"},
      {frame(1, 5, true), false, "masked server frame"},
      {frame(1, 5, true, true, 0x40), true, "reserved bits set"},
  };
  for (const auto& c : cases) {
    FrameScanner s(c.from_client, false, {});
    auto r = s.scan(c.bytes);
    EXPECT_EQ(r.close, kCloseProtocolError) << c.why;
    EXPECT_STREQ(r.why, c.why);
  }
  // 64-bit length with the top bit set.
  std::string huge = "\x82\x7f\x80";
  huge += std::string(7, '\0');
  FrameScanner s(false, false, {});
  EXPECT_EQ(s.scan(huge).close, kCloseProtocolError);
  // RSV1 is permessage-deflate's once an extension was negotiated.
  FrameScanner d(true, true, {});
  EXPECT_EQ(d.scan(frame(1, 5, true, true, 0x40)).close, 0);
}

TEST(WebSocketFrames, BadFirstBytesAreRefusedBeforeTheLengthArrives) {
  FrameScanner s(true, false, {});
  auto r = s.scan("\x83");  // one byte: not enough to judge
  EXPECT_EQ(r.close, 0);
  r = s.scan(std::string("\x83\xfe", 2));  // reserved opcode, length still missing
  EXPECT_EQ(r.close, kCloseProtocolError);
}

TEST(WebSocketFrames, CloseFrameToClientAndToServer) {
  std::string c = close_frame(kCloseTooBig, "too big", nullptr);
  ASSERT_EQ(c.size(), 2u + 2 + 7);
  EXPECT_EQ(static_cast<uint8_t>(c[0]), 0x88);
  EXPECT_EQ(static_cast<uint8_t>(c[1]), 9);
  EXPECT_EQ(static_cast<uint8_t>(c[2]), 1009 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(c[3]), 1009 & 0xFF);
  EXPECT_EQ(c.substr(4), "too big");
  std::array<uint8_t, 4> key{1, 2, 3, 4};
  std::string m = close_frame(kCloseGoingAway, "", &key);
  ASSERT_EQ(m.size(), 2u + 4 + 2);
  EXPECT_EQ(static_cast<uint8_t>(m[1]), 0x82);
  EXPECT_EQ(static_cast<uint8_t>(m[6]) ^ 1, 1001 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(m[7]) ^ 2, 1001 & 0xFF);
  // Both are valid frames for the scanner on the receiving side.
  EXPECT_EQ(FrameScanner(false, false, {}).scan(c).close, 0);
  EXPECT_EQ(FrameScanner(true, false, {}).scan(m).close, 0);
  // A long reason is cut to fit a control frame.
  EXPECT_EQ(close_frame(1002, std::string(300, 'r'), nullptr).size(), 2u + 125);
}

TEST(WebSocketHandshake, AcceptMatchesTheRfcExample) {
  // RFC 6455 1.3.
  EXPECT_EQ(accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::string k = new_key();
  EXPECT_EQ(k.size(), 24u);
  EXPECT_NE(k, new_key());
}

}  // namespace
}  // namespace gatehouse::net::websocket
