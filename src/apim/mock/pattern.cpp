#include "apim/mock/pattern.hpp"

#include <re2/re2.h>

#include <memory>
#include <vector>

namespace gatehouse::apim::mock {

namespace {

constexpr size_t kMaxPattern = 1024;
constexpr size_t kMaxOutput = 4096;
constexpr int kMaxDepth = 32;
constexpr int kMaxRepeat = 64;   // {n} above this is refused
constexpr int kOpenExtra = 3;    // '*', '+', '{n,}': at most this many beyond the minimum

struct Alternation;

// One atom: a set of characters or a group, repeated [min, max] times.
struct Item {
  std::string chars;                  // candidates when group is null
  std::unique_ptr<Alternation> group;
  int min = 1, max = 1;
};

struct Alternation {
  std::vector<std::vector<Item>> branches;
};

std::string range(char from, char to) {
  std::string s;
  for (int c = from; c <= to; ++c) s += static_cast<char>(c);
  return s;
}

const std::string& digits() {
  static const std::string s = range('0', '9');
  return s;
}
const std::string& word() {
  static const std::string s = range('a', 'z') + range('A', 'Z') + digits() + "_";
  return s;
}
const std::string& letters() {
  static const std::string s = range('a', 'z') + range('A', 'Z');
  return s;
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  std::unique_ptr<Alternation> parse() {
    auto a = alternation(0);
    if (!ok_ || i_ != p_.size()) return nullptr;
    return a;
  }

 private:
  bool more() const { return i_ < p_.size(); }
  char peek() const { return p_[i_]; }

  std::unique_ptr<Alternation> alternation(int depth) {
    if (depth > kMaxDepth) {
      ok_ = false;
      return nullptr;
    }
    auto a = std::make_unique<Alternation>();
    a->branches.emplace_back();
    while (ok_ && more() && peek() != ')') {
      if (peek() == '|') {
        ++i_;
        a->branches.emplace_back();
        continue;
      }
      if (peek() == '^' || peek() == '$') {  // anchors add no characters
        ++i_;
        continue;
      }
      Item it;
      if (!atom(it, depth)) {
        ok_ = false;
        break;
      }
      quantifier(it);
      a->branches.back().push_back(std::move(it));
    }
    return a;
  }

  bool atom(Item& it, int depth) {
    char c = p_[i_++];
    switch (c) {
      case '(': {
        if (more() && peek() == '?') {  // only non-capturing groups
          if (i_ + 1 < p_.size() && p_[i_ + 1] == ':')
            i_ += 2;
          else
            return false;
        }
        it.group = alternation(depth + 1);
        if (!ok_ || !more() || peek() != ')') return false;
        ++i_;
        return true;
      }
      case '[':
        return char_class(it.chars);
      case '.':
        it.chars = word();
        return true;
      case '\\':
        return escape(it.chars, false);
      case '*':
      case '+':
      case '?':
      case ')':
        return false;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) return false;  // bytes of UTF-8: refuse
        it.chars = std::string(1, c);
        return true;
    }
  }

  bool escape(std::string& out, bool in_class) {
    if (!more()) return false;
    char c = p_[i_++];
    switch (c) {
      case 'd': out += digits(); return true;
      case 'w': out += word(); return true;
      case 's': out += ' '; return true;
      case 'D': out += letters(); return true;
      case 'W': out += '-'; return true;
      case 'S': out += letters(); return true;
      case 'n': out += '\n'; return true;
      case 't': out += '\t'; return true;
      case 'r': out += '\r'; return true;
      default:
        // Back-references, \b, \p{..}, \u.. and friends are not understood.
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
          return false;
        if (static_cast<unsigned char>(c) >= 0x80) return false;
        (void)in_class;
        out += c;
        return true;
    }
  }

  bool char_class(std::string& out) {
    bool negate = more() && peek() == '^';
    if (negate) ++i_;
    std::string set;
    bool first = true;
    for (;;) {
      if (!more()) return false;
      char c = p_[i_];
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      std::string one;
      ++i_;
      if (c == '\\') {
        if (!escape(one, true)) return false;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        return false;
      } else {
        one = std::string(1, c);
      }
      // a-z: a range between two single characters.
      if (one.size() == 1 && i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        char to = p_[i_++];
        if (to == '\\') {
          std::string t;
          if (!escape(t, true) || t.size() != 1) return false;
          to = t[0];
        }
        if (static_cast<unsigned char>(to) >= 0x80 || to < one[0]) return false;
        set += range(one[0], to);
      } else {
        set += one;
      }
    }
    if (!negate) {
      out += set;
      return !set.empty();
    }
    for (char c = 0x21; c < 0x7f; ++c)
      if (set.find(c) == std::string::npos) out += c;
    return !out.empty();
  }

  void quantifier(Item& it) {
    if (!more()) return;
    char c = peek();
    if (c == '*' || c == '+' || c == '?') {
      ++i_;
      it.min = c == '+' ? 1 : 0;
      it.max = c == '?' ? 1 : it.min + kOpenExtra;
    } else if (c == '{') {
      size_t j = i_ + 1;
      auto number = [&](int& v) {
        size_t start = j;
        v = 0;
        while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9' && j - start < 6)
          v = v * 10 + (p_[j++] - '0');
        return j > start;
      };
      int lo = 0, hi = 0;
      if (!number(lo)) return;  // a literal '{' (RE2 agrees), taken by the next atom
      if (j < p_.size() && p_[j] == '}') {
        hi = lo;
      } else if (j < p_.size() && p_[j] == ',') {
        ++j;
        if (j < p_.size() && p_[j] == '}')
          hi = lo + kOpenExtra;
        else if (!number(hi))
          return;
      } else {
        return;
      }
      if (j >= p_.size() || p_[j] != '}' || lo > kMaxRepeat || hi < lo) {
        ok_ = false;
        return;
      }
      i_ = j + 1;
      it.min = lo;
      it.max = std::min(hi, lo + kMaxRepeat);
    } else {
      return;
    }
    if (more() && (peek() == '?' || peek() == '+')) ++i_;  // lazy / possessive: same strings
  }

  std::string_view p_;
  size_t i_ = 0;
  bool ok_ = true;
};

bool emit(const Alternation& a, const Draw& draw, std::string& out);

bool emit_item(const Item& it, const Draw& draw, std::string& out) {
  int n = it.min + static_cast<int>(draw(static_cast<uint64_t>(it.max - it.min + 1)));
  for (int k = 0; k < n; ++k) {
    if (out.size() > kMaxOutput) return false;
    if (it.group) {
      if (!emit(*it.group, draw, out)) return false;
    } else {
      out += it.chars[draw(it.chars.size())];
    }
  }
  return true;
}

bool emit(const Alternation& a, const Draw& draw, std::string& out) {
  const auto& branch = a.branches[draw(a.branches.size())];
  for (const auto& it : branch)
    if (!emit_item(it, draw, out)) return false;
  return true;
}

}  // namespace

std::optional<std::string> string_for_pattern(std::string_view pattern, const Draw& draw) {
  if (pattern.size() > kMaxPattern) return std::nullopt;
  auto tree = Parser(pattern).parse();
  if (!tree) return std::nullopt;
  std::string out;
  if (!emit(*tree, draw, out)) return std::nullopt;
  // The subset's reading must agree with a real engine's, or we say nothing.
  RE2::Options opt;
  opt.set_log_errors(false);
  RE2 re(re2::StringPiece(pattern.data(), pattern.size()), opt);
  if (!re.ok() || !RE2::PartialMatch(out, re)) return std::nullopt;
  return out;
}

}  // namespace gatehouse::apim::mock
