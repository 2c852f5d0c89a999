#include "ai/tokenizer/unicode.hpp"

#include <unicode/uchar.h>

#include <array>

namespace gatehouse::ai::unicode {
namespace {

uint16_t classify_icu(uint32_t cp) {
  auto c = static_cast<UChar32>(cp);
  uint16_t cls = u_isUWhiteSpace(c) ? kSpace : 0;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER: return cls | kLu;
    case U_LOWERCASE_LETTER: return cls | kLl;
    case U_TITLECASE_LETTER: return cls | kLt;
    case U_MODIFIER_LETTER: return cls | kLm;
    case U_OTHER_LETTER: return cls | kLo;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK: return cls | kMark;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER: return cls | kNumber;
    default: return cls;
  }
}

// The Basic Multilingual Plane is where nearly all text lives; a 128 KiB table
// built once turns its lookups into one load instead of two ICU calls.
struct BmpTable {
  std::array<uint16_t, 0x10000> cls{};
  BmpTable() {
    for (uint32_t cp = 0; cp < 0x10000; ++cp) cls[cp] = classify_icu(cp);
  }
};

const BmpTable& bmp() {
  static const BmpTable table;
  return table;
}

}  // namespace

uint16_t classify(uint32_t cp) {
  if (cp < 0x80) return kAsciiClasses.cls[cp];
  if (cp < 0x10000) return bmp().cls[cp];
  return classify_icu(cp);
}

CodePoint decode_multibyte(std::string_view s, size_t pos) {
  auto b0 = static_cast<unsigned char>(s[pos]);
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
