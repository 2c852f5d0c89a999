// libFuzzer target: the tokenizer's hand-written pre-tokenizer on arbitrary bytes
// (invalid UTF-8 included). For both split patterns the pieces must tile the
// input exactly, each non-empty and made of whole code points as decode() sees
// them, so BPE gets every byte once. Exactness against tiktoken is the unit
// tests' job (golden ids); this looks for crashes, overreads and stuck loops.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ai/tokenizer/pretokenizer.hpp"
#include "ai/tokenizer/unicode.hpp"

using namespace gatehouse::ai;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

void check_pattern(SplitPattern p, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = next_piece(p, text, pos);
    CHECK(end > pos && end <= text.size());
    size_t at = pos;
    while (at < end) {
      auto c = unicode::decode(text, at);
      CHECK(c.len > 0);
      at += c.len;
    }
    CHECK(at == end);
    pos = end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_pattern(SplitPattern::kO200k, text);
  check_pattern(SplitPattern::kCl100k, text);
  return 0;
}
