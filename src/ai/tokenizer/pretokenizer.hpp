// The split step before BPE: cuts text into the pieces tiktoken's regex would
// find, for the two patterns we support. Hand-written because the patterns need
// a lookahead (`\s+(?!\S)`) RE2 cannot do, and a scanner is faster anyway.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace gatehouse::ai {

enum class SplitPattern { kCl100k, kO200k };

// The regex text each pattern implements, byte for byte as the rank files'
// "pat_str" spells it; a rank file with any other pattern is refused.
std::string_view split_regex(SplitPattern p);
std::optional<SplitPattern> split_pattern_for_regex(std::string_view pat_str);

// End (byte offset) of the piece that starts at `pos`; pos < text.size(). Every
// position starts a piece, so pieces tile the text with no gaps.
size_t next_piece(SplitPattern p, std::string_view text, size_t pos);

// Calls fn(piece) for each piece of text in order.
template <class Fn>
void for_each_piece(SplitPattern p, std::string_view text, Fn&& fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = next_piece(p, text, pos);
    fn(text.substr(pos, end - pos));
    pos = end;
  }
}

}  // namespace gatehouse::ai
