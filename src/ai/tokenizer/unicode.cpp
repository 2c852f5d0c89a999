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
  if (cp < 0x10000) return bmp().cls[cp];
  return classify_icu(cp);
}

}  // namespace gatehouse::ai::unicode
