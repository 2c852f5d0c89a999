// Code points and the Unicode classes tiktoken's split patterns test: general
// categories (Lu Ll Lt Lm Lo, M, N) and White_Space (`\s` in Rust's regex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gatehouse::ai::unicode {

// Class bits; a code point has at most one category bit plus kSpace.
enum : uint16_t {
  kLu = 1 << 0,
  kLl = 1 << 1,
  kLt = 1 << 2,
  kLm = 1 << 3,
  kLo = 1 << 4,
  kMark = 1 << 5,    // Mn Mc Me
  kNumber = 1 << 6,  // Nd Nl No
  kSpace = 1 << 7,   // White_Space property
};
constexpr uint16_t kLetter = kLu | kLl | kLt | kLm | kLo;

// One decoded code point. An invalid UTF-8 byte decodes as itself (len 1, no
// class bits, cp = kInvalid): it then behaves like punctuation, and the byte
// still reaches BPE unchanged. Past the end: len 0, cls 0.
struct CodePoint {
  uint32_t cp = 0;
  uint32_t len = 0;
  uint16_t cls = 0;
};
constexpr uint32_t kInvalid = 0xFFFFFFFF;

// Class bits of a code point (ICU's general category and White_Space).
uint16_t classify(uint32_t cp);

// Decodes the code point at `pos` (pos <= s.size()). Rejects overlong forms,
// surrogates and values past U+10FFFF as invalid bytes.
inline CodePoint decode(std::string_view s, size_t pos) {
  if (pos >= s.size()) return {};
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1, classify(b0)};
  size_t left = s.size() - pos;
  auto cont = [&](size_t i) {
    return i < left && (static_cast<unsigned char>(s[pos + i]) & 0xC0) == 0x80;
  };
  auto bits = [&](size_t i) { return static_cast<uint32_t>(s[pos + i]) & 0x3F; };
  uint32_t cp = 0;
  uint32_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    cp = ((b0 & 0x1Fu) << 6) | bits(1);
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    cp = ((b0 & 0x0Fu) << 12) | (bits(1) << 6) | bits(2);
    len = 3;
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) len = 0;
  } else if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    cp = ((b0 & 0x07u) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
    len = 4;
    if (cp < 0x10000 || cp > 0x10FFFF) len = 0;
  }
  if (len == 0) return {kInvalid, 1, 0};
  return {cp, len, classify(cp)};
}

}  // namespace gatehouse::ai::unicode
