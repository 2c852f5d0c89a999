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

// ASCII classes as a constant table: the pre-tokenizer asks for the class of
// every code point several times, and in English and code nearly all of them
// are ASCII, so this path must inline to a load.
constexpr uint16_t ascii_class(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return kLu;
  if (c >= 'a' && c <= 'z') return kLl;
  if (c >= '0' && c <= '9') return kNumber;
  if (c == ' ' || (c >= 9 && c <= 13)) return kSpace;
  return 0;
}
struct AsciiClasses {
  uint16_t cls[128];
};
constexpr AsciiClasses make_ascii_classes() {
  AsciiClasses t{};
  for (uint32_t c = 0; c < 128; ++c) t.cls[c] = ascii_class(c);
  return t;
}
inline constexpr AsciiClasses kAsciiClasses = make_ascii_classes();

// The non-ASCII part of decode(), out of line.
CodePoint decode_multibyte(std::string_view s, size_t pos);

// Decodes the code point at `pos` (pos <= s.size()). Rejects overlong forms,
// surrogates and values past U+10FFFF as invalid bytes.
inline CodePoint decode(std::string_view s, size_t pos) {
  if (pos >= s.size()) return {};
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1, kAsciiClasses.cls[b0]};
  return decode_multibyte(s, pos);
}

}  // namespace gatehouse::ai::unicode
