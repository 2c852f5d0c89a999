#include "net/websocket/frame.hpp"

#include <algorithm>

namespace gatehouse::net::websocket {

namespace {
constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv = 0x70;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kOpContinuation = 0x0;
constexpr uint8_t kOpText = 0x1;
constexpr uint8_t kOpBinary = 0x2;
constexpr uint8_t kOpClose = 0x8;
constexpr uint8_t kOpPong = 0xA;
constexpr size_t kMaxControlPayload = 125;
}  // namespace

FrameScanner::Result FrameScanner::refuse(size_t at, uint16_t code, const char* why) {
  refused_ = Result{0, code, why};
  return Result{at, code, why};
}

FrameScanner::Result FrameScanner::scan(std::string_view in) {
  if (refused_.close) return refused_;
  size_t pos = 0;
  while (pos < in.size()) {
    if (payload_left_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(payload_left_, in.size() - pos));
      pos += n;
      payload_left_ -= n;
      continue;
    }
    std::string_view h = in.substr(pos);
    if (h.size() < 2) break;
    const auto b0 = static_cast<uint8_t>(h[0]);
    const auto b1 = static_cast<uint8_t>(h[1]);
    const bool fin = (b0 & kFin) != 0;
    const uint8_t opcode = b0 & 0x0F;
    const bool masked = (b1 & kMaskBit) != 0;
    const uint8_t len7 = b1 & 0x7F;
    // What the first two bytes say is checked at once, so a bad frame is
    // refused before its length even arrives.
    if ((b0 & kRsv) && !extensions_) return refuse(pos, kCloseProtocolError, "reserved bits set");
    const bool control = (opcode & 0x8) != 0;
    if ((opcode > kOpBinary && opcode < kOpClose) || opcode > kOpPong)
      return refuse(pos, kCloseProtocolError, "reserved opcode");
    if (control && !fin) return refuse(pos, kCloseProtocolError, "fragmented control frame");
    if (control && len7 > kMaxControlPayload)
      return refuse(pos, kCloseProtocolError, "control frame over 125 bytes");
    if (opcode == kOpContinuation && !in_message_)
      return refuse(pos, kCloseProtocolError, "continuation frame outside a message");
    if ((opcode == kOpText || opcode == kOpBinary) && in_message_)
      return refuse(pos, kCloseProtocolError, "new message inside a fragmented one");
    if (from_client_ && !masked) return refuse(pos, kCloseProtocolError, "unmasked client frame");
    if (!from_client_ && masked) return refuse(pos, kCloseProtocolError, "masked server frame");
    size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (h.size() < need) break;
    uint64_t len = len7;
    if (len7 == 126) {
      len = (uint64_t{static_cast<uint8_t>(h[2])} << 8) | static_cast<uint8_t>(h[3]);
    } else if (len7 == 127) {
      len = 0;
      for (size_t i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(h[2 + i]);
      if (len >> 63) return refuse(pos, kCloseProtocolError, "payload length over 63 bits");
    }
    if (limits_.max_frame && len > limits_.max_frame)
      return refuse(pos, kCloseTooBig, "frame exceeds max_frame_size");
    if (!control) {
      uint64_t total = opcode == kOpContinuation ? message_bytes_ + len : len;
      if (limits_.max_message && total > limits_.max_message)
        return refuse(pos, kCloseTooBig, "message exceeds max_message_size");
      message_bytes_ = total;
      in_message_ = !fin;
    }
    pos += need;
    payload_left_ = len;
    ++frames_;
  }
  return Result{pos, 0, ""};
}

std::string close_frame(uint16_t code, std::string_view reason,
                        const std::array<uint8_t, 4>* mask_key) {
  reason = reason.substr(0, kMaxControlPayload - 2);
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload += reason;
  std::string out;
  out += static_cast<char>(kFin | kOpClose);
  out += static_cast<char>((mask_key ? kMaskBit : 0) | payload.size());
  if (mask_key) {
    for (uint8_t b : *mask_key) out += static_cast<char>(b);
    for (size_t i = 0; i < payload.size(); ++i)
      payload[i] = static_cast<char>(static_cast<uint8_t>(payload[i]) ^ (*mask_key)[i % 4]);
  }
  out += payload;
  return out;
}

}  // namespace gatehouse::net::websocket
