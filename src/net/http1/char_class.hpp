// Byte classes of HTTP/1.1 heads (RFC 9110), shared by the head parser and
// the chunked decoder (chunk extensions and trailer fields use the same
// token and field-value rules). Internal to net/http1.
#pragma once

#include <cstdint>

namespace gatehouse::http1::detail {

// One 256-entry class table, so each byte of the head costs one load and one test.
inline constexpr uint8_t kTokenBit = 1;   // tchar (RFC 9110 5.6.2)
inline constexpr uint8_t kFieldBit = 2;   // field-vchar / obs-text / SP / HTAB (RFC 9110 5.5)
inline constexpr uint8_t kTargetBit = 4;  // VCHAR: request-target bytes; finer checks live in path.cpp
inline constexpr uint8_t kHexBit = 8;

struct CharTable {
  uint8_t bits[256] = {};
};

constexpr CharTable make_table() {
  CharTable t;
  for (int c = 0; c < 256; ++c) {
    uint8_t b = 0;
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alnum) b |= kTokenBit;
    switch (c) {
      case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
      case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        b |= kTokenBit;
        break;
      default:
        break;
    }
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t') b |= kFieldBit;
    if (c >= 0x21 && c <= 0x7e) b |= kTargetBit;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) b |= kHexBit;
    t.bits[c] = b;
  }
  return t;
}

inline constexpr CharTable kTable = make_table();

inline bool has(char c, uint8_t bit) { return (kTable.bits[static_cast<unsigned char>(c)] & bit) != 0; }
inline bool is_ws(char c) { return c == ' ' || c == '\t'; }

// Largest body length we accept. Far above any real body, far below uint64 overflow, so
// arithmetic on offsets never wraps.
inline constexpr uint64_t kMaxLength = uint64_t{1} << 62;

}  // namespace gatehouse::http1::detail
