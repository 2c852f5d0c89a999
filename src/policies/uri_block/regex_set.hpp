// A list of RE2 patterns asked one question: does any of them occur in this
// text? One RE2::Set answers it in a single DFA pass however many patterns
// there are; if that DFA exceeds its memory budget on a hostile input, the
// patterns are scanned one by one, so the answer is never "no" by accident.
// Shared by uri-block and bot-detection.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::policy {

class RegexSet {
 public:
  RegexSet();
  // Adds one pattern (RE2 syntax, unanchored: "^" and "$" anchor explicitly).
  // Returns false with RE2's reason in `error`.
  bool add(std::string_view pattern, std::string& error);
  // Call once after the last add(); false (with `error`) if the set does not fit.
  bool compile(std::string& error);
  bool matches(std::string_view text) const;
  bool empty() const { return each_.empty(); }
  size_t size() const { return each_.size(); }

 private:
  RE2::Options options_;
  std::unique_ptr<RE2::Set> set_;
  std::vector<std::unique_ptr<RE2>> each_;
  bool compiled_ = false;
};

// Config spelling: a leading "~" marks a regex elsewhere in Gatehouse
// (route matchers); these lists hold only regexes, so it is optional.
inline std::string_view strip_regex_marker(std::string_view s) {
  if (!s.empty() && s.front() == '~') s.remove_prefix(1);
  return s;
}

}  // namespace gatehouse::policy
