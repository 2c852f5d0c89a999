#include "common/percent.hpp"

namespace gatehouse {

namespace {

// The byte an escape at s[i] ('%') stands for, or -1 when it is not one.
int escape_at(std::string_view s, size_t i) {
  if (i + 2 >= s.size()) return -1;
  int hi = hex_digit_value(s[i + 1]);
  int lo = hex_digit_value(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// The decoded byte at s[i] (lenient); advances i past what it used.
char lenient_at(std::string_view s, size_t& i, bool plus_as_space) {
  int b = s[i] == '%' ? escape_at(s, i) : -1;
  if (b >= 0) {
    i += 3;
    return static_cast<char>(b);
  }
  char c = s[i++];
  return plus_as_space && c == '+' ? ' ' : c;
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  percent_decode_into(s, plus_as_space, out);
  return out;
}

void percent_decode_into(std::string_view s, bool plus_as_space, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) out += lenient_at(s, i, plus_as_space);
}

bool percent_decoded_equals(std::string_view s, std::string_view want, bool plus_as_space) {
  size_t j = 0;
  for (size_t i = 0; i < s.size();) {
    if (j >= want.size() || lenient_at(s, i, plus_as_space) != want[j++]) return false;
  }
  return j == want.size();
}

std::optional<std::string> percent_decode_strict(std::string_view s, bool plus_as_space,
                                                 bool reject_nul) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int b = escape_at(s, i);
      if (b < 0 || (reject_nul && b == 0)) return std::nullopt;
      out += static_cast<char>(b);
      i += 2;
    } else {
      out += plus_as_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace gatehouse
