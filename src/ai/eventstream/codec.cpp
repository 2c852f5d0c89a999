// AWS event stream framing: see codec.hpp for the layout.
#include "ai/eventstream/codec.hpp"

#include <array>

namespace gatehouse::eventstream {
namespace {

constexpr size_t kPrelude = 12;  // total length, headers length, prelude CRC
constexpr size_t kTrailer = 4;   // message CRC

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_table();

uint32_t be32(std::string_view s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

void put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Fixed value sizes per type; variable-length types (bytes, string) say -1.
int fixed_size(uint8_t type) {
  switch (static_cast<HeaderType>(type)) {
    case HeaderType::kBoolTrue:
    case HeaderType::kBoolFalse: return 0;
    case HeaderType::kByte: return 1;
    case HeaderType::kShort: return 2;
    case HeaderType::kInt: return 4;
    case HeaderType::kLong:
    case HeaderType::kTimestamp: return 8;
    case HeaderType::kUuid: return 16;
    case HeaderType::kBytes:
    case HeaderType::kString: return -1;
  }
  return -2;  // unknown type
}

// Parses a header block; false with `why` on any length that runs past it.
bool parse_headers(std::string_view h, std::vector<Header>& out, std::string& why) {
  size_t at = 0;
  while (at < h.size()) {
    size_t name_len = uint8_t(h[at++]);
    if (name_len == 0 || at + name_len + 1 > h.size()) {
      why = "header name runs past the header block";
      return false;
    }
    Header hd;
    hd.name.assign(h.substr(at, name_len));
    at += name_len;
    uint8_t type = uint8_t(h[at++]);
    int size = fixed_size(type);
    if (size == -2) {
      why = "unknown header value type " + std::to_string(type);
      return false;
    }
    size_t len = 0;
    if (size == -1) {
      if (at + 2 > h.size()) {
        why = "header value length runs past the header block";
        return false;
      }
      len = (size_t(uint8_t(h[at])) << 8) | uint8_t(h[at + 1]);
      at += 2;
    } else {
      len = static_cast<size_t>(size);
    }
    if (at + len > h.size()) {
      why = "header value runs past the header block";
      return false;
    }
    hd.type = static_cast<HeaderType>(type);
    hd.value.assign(h.substr(at, len));
    at += len;
    out.push_back(std::move(hd));
  }
  return true;
}

}  // namespace

uint32_t crc32(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
  for (unsigned char c : bytes) crc = kCrcTable[(crc ^ c) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string_view Message::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name == name && h.type == HeaderType::kString) return h.value;
  return {};
}

std::string encode(const Message& m) {
  std::string headers;
  for (const auto& h : m.headers) {
    headers.push_back(static_cast<char>(h.name.size()));
    headers += h.name;
    headers.push_back(static_cast<char>(h.type));
    if (fixed_size(static_cast<uint8_t>(h.type)) == -1) {
      headers.push_back(static_cast<char>(h.value.size() >> 8));
      headers.push_back(static_cast<char>(h.value.size()));
    }
    headers += h.value;
  }
  std::string out;
  put32(out, static_cast<uint32_t>(kPrelude + headers.size() + m.payload.size() + kTrailer));
  put32(out, static_cast<uint32_t>(headers.size()));
  put32(out, crc32(out));
  out += headers;
  out += m.payload;
  put32(out, crc32(out));
  return out;
}

Result<void> Decoder::fail(std::string code, std::string message) {
  failed_ = true;
  buf_.clear();
  return make_error(std::move(code), std::move(message), {}, 502, ErrorSide::kUpstream);
}

Result<void> Decoder::feed(std::string_view chunk, std::vector<Message>& out) {
  if (failed_) return make_error("eventstream_failed", "the event stream already failed", {}, 502,
                                 ErrorSide::kUpstream);
  buf_.append(chunk);
  size_t at = 0;
  while (buf_.size() - at >= kPrelude) {
    std::string_view rest(buf_.data() + at, buf_.size() - at);
    uint32_t total = be32(rest, 0);
    uint32_t headers_len = be32(rest, 4);
    if (crc32(rest.substr(0, 8)) != be32(rest, 8))
      return fail("eventstream_bad_crc", "event stream prelude CRC mismatch");
    if (total < kPrelude + kTrailer || headers_len > total - kPrelude - kTrailer)
      return fail("eventstream_bad_length", "event stream message lengths are inconsistent");
    if (total > opt_.max_message_bytes)
      return fail("eventstream_too_large", "event stream message of " + std::to_string(total) +
                                               " bytes exceeds " +
                                               std::to_string(opt_.max_message_bytes));
    if (rest.size() < total) break;  // wait for the rest of the message
    if (crc32(rest.substr(0, total - kTrailer)) != be32(rest, total - kTrailer))
      return fail("eventstream_bad_crc", "event stream message CRC mismatch");
    Message m;
    std::string why;
    if (!parse_headers(rest.substr(kPrelude, headers_len), m.headers, why))
      return fail("eventstream_bad_header", "event stream " + why);
    m.payload.assign(rest.substr(kPrelude + headers_len, total - kPrelude - headers_len - kTrailer));
    out.push_back(std::move(m));
    at += total;
  }
  buf_.erase(0, at);
  return Ok{};
}

}  // namespace gatehouse::eventstream
