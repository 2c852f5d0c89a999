// AWS event stream framing (`application/vnd.amazon.eventstream`), the binary
// framing of Bedrock's ConverseStream: each message is
//   prelude:  total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes
//   headers:  name length (u8), name, value type (u8), value
//   payload:  total - headers - 16 bytes
//   trailer:  CRC32 of everything before it
// The decoder is incremental (fed arbitrary chunks) and checks both CRCs and
// every length before it trusts it; a bad frame fails the stream for good,
// since nothing after it can be re-synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::eventstream {

// Header value types (the wire's type byte).
enum class HeaderType : uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kShort = 3,
  kInt = 4,
  kLong = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,
  kUuid = 9,
};

struct Header {
  std::string name;
  HeaderType type = HeaderType::kString;
  std::string value;  // strings and bytes as they are; numbers big-endian as on the wire
};

struct Message {
  std::vector<Header> headers;
  std::string payload;
  // The value of a string header; empty when absent or not a string.
  std::string_view header(std::string_view name) const;
};

// CRC-32 (IEEE 802.3, the zlib one), continuing from `crc` (0 to start).
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

// Writes one message (tests, the fuzz target's round trip).
std::string encode(const Message& m);

struct DecoderOptions {
  // Largest message accepted; Bedrock's are far smaller (AWS caps them at 16 MiB).
  size_t max_message_bytes = 16 * 1024 * 1024;
};

class Decoder {
 public:
  explicit Decoder(DecoderOptions opt = {}) : opt_(opt) {}
  // Consumes `chunk` and appends every message it completes. After an error
  // the decoder stays failed.
  Result<void> feed(std::string_view chunk, std::vector<Message>& out);
  // Bytes of an incomplete message are buffered (a body ending here was cut).
  bool pending() const { return !buf_.empty(); }
  bool failed() const { return failed_; }

 private:
  Result<void> fail(std::string code, std::string message);
  DecoderOptions opt_;
  std::string buf_;
  bool failed_ = false;
};

}  // namespace gatehouse::eventstream
