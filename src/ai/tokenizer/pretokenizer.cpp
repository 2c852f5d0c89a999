// Each function below is one alternative of the pattern, and next_piece tries
// them in the pattern's order: the regex engine tiktoken uses (fancy-regex,
// backtracking, leftmost-first) returns the first alternative that matches at
// the position, and within one, the first success in greedy order. Where an
// alternative's greedy run has to give characters back (U* before W+ in o200k,
// \s* before [\r\n]+, \s+ before (?!\S)) the comment says which match the
// backtracking lands on; the golden tests check it against tiktoken itself.
#include "ai/tokenizer/pretokenizer.hpp"

#include "ai/tokenizer/unicode.hpp"

namespace gatehouse::ai {
namespace {

using unicode::CodePoint;
using unicode::decode;

constexpr std::string_view kCl100kRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr size_t kFail = static_cast<size_t>(-1);

// o200k's two letter classes: "upper-ish" [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
// "lower-ish" [\p{Ll}\p{Lm}\p{Lo}\p{M}]; Lm, Lo and marks are in both.
constexpr uint16_t kUpperish =
    unicode::kLu | unicode::kLt | unicode::kLm | unicode::kLo | unicode::kMark;
constexpr uint16_t kLowerish = unicode::kLl | unicode::kLm | unicode::kLo | unicode::kMark;

bool is_crlf(const CodePoint& c) { return c.cp == '\r' || c.cp == '\n'; }

// [^\r\n\p{L}\p{N}]: the optional one-character prefix of a word (a space, a
// tab, punctuation, also a mark since marks are not \p{L}).
bool is_word_prefix(const CodePoint& c) {
  return c.len != 0 && (c.cls & (unicode::kLetter | unicode::kNumber)) == 0 && !is_crlf(c);
}

// [^\s\p{L}\p{N}]
bool is_symbol(const CodePoint& c) {
  return c.len != 0 && (c.cls & (unicode::kLetter | unicode::kNumber | unicode::kSpace)) == 0;
}

// End of the run of code points with any of `mask`'s class bits, from pos.
size_t run_end(std::string_view s, size_t pos, uint16_t mask) {
  for (;;) {
    CodePoint c = decode(s, pos);
    if ((c.cls & mask) == 0) return pos;
    pos += c.len;
  }
}

size_t symbol_run_end(std::string_view s, size_t pos) {
  for (;;) {
    CodePoint c = decode(s, pos);
    if (!is_symbol(c)) return pos;
    pos += c.len;
  }
}

// Simple case folding as Rust's regex applies it under (?i): ASCII, plus
// U+017F LATIN SMALL LETTER LONG S, which folds to 's'.
uint32_t fold(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp == 0x17F) return 's';
  return cp;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d): its length at pos, or 0.
size_t contraction_len(std::string_view s, size_t pos) {
  if (pos >= s.size() || s[pos] != '\'') return 0;
  CodePoint a = decode(s, pos + 1);
  uint32_t x = fold(a.cp);
  if (x == 's' || x == 't' || x == 'm' || x == 'd') return 1 + a.len;
  if (x != 'r' && x != 'v' && x != 'l') return 0;
  CodePoint b = decode(s, pos + 1 + a.len);
  uint32_t y = fold(b.cp);
  bool ok = (x == 'l') ? y == 'l' : y == 'e';
  return ok ? 1 + a.len + b.len : 0;
}

// \p{N}{1,3}
size_t digits_end(std::string_view s, size_t pos) {
  for (int i = 0; i < 3; ++i) {
    CodePoint c = decode(s, pos);
    if ((c.cls & unicode::kNumber) == 0) break;
    pos += c.len;
  }
  return pos;
}

// The last three alternatives, entered only at whitespace (everything else
// matched earlier). Let the whitespace run be [pos, j):
//   \s*[\r\n]+  : \s* backs off to the run's last CR or LF, so the piece ends
//                 just after that CR/LF;
//   \s+(?!\S)   : at the end of text the whole run; before a non-space, the run
//                 minus its last code point (which then prefixes the next word),
//                 if that leaves at least one;
//   \s+         : the run (a single space before a non-space).
size_t whitespace_end(std::string_view s, size_t pos) {
  size_t after_newline = kFail;
  size_t last_start = pos;
  size_t count = 0;
  size_t i = pos;
  for (;;) {
    CodePoint c = decode(s, i);
    if ((c.cls & unicode::kSpace) == 0) break;
    if (is_crlf(c)) after_newline = i + 1;
    last_start = i;
    i += c.len;
    ++count;
  }
  if (after_newline != kFail) return after_newline;
  if (i == s.size() || count < 2) return i;
  return last_start;
}

// " ?[^\s\p{L}\p{N}]+" then the trailing class ([\r\n]* or [\r\n/]*).
size_t symbols_end(std::string_view s, size_t pos, const CodePoint& c, bool slash) {
  size_t start = kFail;
  if (c.cp == ' ' && is_symbol(decode(s, pos + 1))) {
    start = pos + 1;
  } else if (is_symbol(c)) {
    start = pos;
  }
  if (start == kFail) return kFail;
  size_t end = symbol_run_end(s, start);
  while (end < s.size() && (s[end] == '\r' || s[end] == '\n' || (slash && s[end] == '/'))) ++end;
  return end;
}

size_t cl100k_piece(std::string_view s, size_t pos) {
  if (size_t n = contraction_len(s, pos)) return pos + n;
  CodePoint c = decode(s, pos);
  // [^\r\n\p{L}\p{N}]?\p{L}+ (a letter cannot be the prefix, so no backtracking)
  if (c.cls & unicode::kLetter) return run_end(s, pos + c.len, unicode::kLetter);
  if (is_word_prefix(c)) {
    CodePoint d = decode(s, pos + c.len);
    if (d.cls & unicode::kLetter) return run_end(s, pos + c.len + d.len, unicode::kLetter);
  }
  if (c.cls & unicode::kNumber) return digits_end(s, pos);
  if (size_t e = symbols_end(s, pos, c, false); e != kFail) return e;
  return whitespace_end(s, pos);
}

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ then an optional
// contraction, from q. The upper-ish run [q, b) is taken whole; if b starts a
// lower-ish run, that run is the W+. Otherwise the engine gives back upper-ish
// characters one at a time until W+ can start: at the last character of [q, b)
// that is also lower-ish (Lm, Lo or a mark), and W+ is that one character
// (the ones after it are not lower-ish, by choice of "last").
size_t o200k_lower_word(std::string_view s, size_t q) {
  size_t i = q;
  size_t last_lowerish_end = kFail;
  CodePoint c;
  for (;;) {
    c = decode(s, i);
    if ((c.cls & kUpperish) == 0) break;
    if (c.cls & kLowerish) last_lowerish_end = i + c.len;
    i += c.len;
  }
  size_t end;
  if (c.cls & kLowerish) {
    end = run_end(s, i, kLowerish);
  } else if (last_lowerish_end != kFail) {
    end = last_lowerish_end;
  } else {
    return kFail;
  }
  return end + contraction_len(s, end);
}

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* then an optional
// contraction: both runs greedy, nothing to give back (W* may be empty).
size_t o200k_upper_word(std::string_view s, size_t q) {
  size_t i = run_end(s, q, kUpperish);
  if (i == q) return kFail;
  size_t end = run_end(s, i, kLowerish);
  return end + contraction_len(s, end);
}

size_t o200k_piece(std::string_view s, size_t pos) {
  CodePoint c = decode(s, pos);
  // Each word alternative is tried with its optional prefix first, then
  // without (which only differs when the prefix is a mark), before the next.
  bool prefix = is_word_prefix(c);
  size_t after = pos + c.len;
  size_t e;
  if (prefix && (e = o200k_lower_word(s, after)) != kFail) return e;
  if ((e = o200k_lower_word(s, pos)) != kFail) return e;
  if (prefix && (e = o200k_upper_word(s, after)) != kFail) return e;
  if ((e = o200k_upper_word(s, pos)) != kFail) return e;
  if (c.cls & unicode::kNumber) return digits_end(s, pos);
  if ((e = symbols_end(s, pos, c, true)) != kFail) return e;
  return whitespace_end(s, pos);
}

}  // namespace

std::string_view split_regex(SplitPattern p) {
  return p == SplitPattern::kCl100k ? kCl100kRegex : kO200kRegex;
}

std::optional<SplitPattern> split_pattern_for_regex(std::string_view pat_str) {
  if (pat_str == kCl100kRegex) return SplitPattern::kCl100k;
  if (pat_str == kO200kRegex) return SplitPattern::kO200k;
  return std::nullopt;
}

size_t next_piece(SplitPattern p, std::string_view text, size_t pos) {
  size_t end = p == SplitPattern::kCl100k ? cl100k_piece(text, pos) : o200k_piece(text, pos);
  // Defensive: every branch above consumes at least one code point; never loop.
  return end > pos ? end : pos + 1;
}

}  // namespace gatehouse::ai
