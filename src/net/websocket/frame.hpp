// RFC 6455 5 frame headers, read as bytes pass through a WebSocket tunnel.
// Payloads are skipped, never copied or unmasked: the gateway checks what
// the frame headers say (sizes, opcodes, masking, fragmentation) and leaves
// the messages to the endpoints. No I/O and no allocation, so the relay, the
// unit tests and the fuzz target drive it with plain byte strings.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::net::websocket {

// Close codes the gateway sends (RFC 6455 7.4.1).
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseTooBig = 1009;

struct FrameLimits {
  uint64_t max_frame = 0;    // payload bytes of one frame; 0: no limit
  uint64_t max_message = 0;  // payload bytes of one data message, all fragments; 0: no limit
};

class FrameScanner {
 public:
  // from_client: the bytes are a client's (every frame masked, RFC 6455
  // 5.3) or a server's (none masked). extensions: the handshake negotiated
  // an extension, which may give the RSV bits a meaning (permessage-deflate).
  FrameScanner(bool from_client, bool extensions, FrameLimits limits)
      : from_client_(from_client), extensions_(extensions), limits_(limits) {}

  struct Result {
    // Bytes from the start of the input that may go on: whole headers and
    // payload bytes. The bytes of a header not complete yet are not counted;
    // the caller presents them again, with more, on the next call.
    size_t pass = 0;
    uint16_t close = 0;    // 0: fine; otherwise the code to close the sender with
    const char* why = "";  // what was wrong (logs)
  };
  // `in` begins where the previous call's `pass` ended. After a refusal
  // every call refuses again (pass 0).
  Result scan(std::string_view in);

  // The bytes passed so far end exactly at a frame's end: a frame of our
  // own (a Close) can follow them.
  bool at_boundary() const { return payload_left_ == 0; }
  uint64_t frames() const { return frames_; }

 private:
  Result refuse(size_t at, uint16_t code, const char* why);

  bool from_client_;
  bool extensions_;
  FrameLimits limits_;
  uint64_t payload_left_ = 0;  // of the frame being passed
  bool in_message_ = false;    // a fragmented data message awaits its continuation
  uint64_t message_bytes_ = 0;
  uint64_t frames_ = 0;
  Result refused_;  // set once refused
};

// A Close frame with `code` and a short reason (cut to fit the 125-byte
// control payload). Frames to a server must be masked: pass the 4-byte
// masking key then (random, RFC 6455 5.3); nullptr for frames to a client.
std::string close_frame(uint16_t code, std::string_view reason,
                        const std::array<uint8_t, 4>* mask_key);

}  // namespace gatehouse::net::websocket
