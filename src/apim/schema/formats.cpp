// `format` assertions. Strings: RFC 3339 date-time/date/time, RFC 4122
// uuid, a pragmatic email (local@domain, no quoted local parts), RFC 3986
// absolute uri, RFC 1123 hostname, ipv4/ipv6 (inet_pton, no zone ids).
// Numbers: OpenAPI's int32/int64/float/double ranges.
#include <arpa/inet.h>

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "apim/schema/validator.hpp"

namespace gatehouse::apim::schema {

namespace json = boost::json;

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool full_date(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int max = kDays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
  return d <= max;
}

// partial-time time-offset (RFC 3339 full-time); `t`/`z` accepted as RFC 3339 allows.
bool full_time(std::string_view s) {
  int h, mi, se;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!digits(s, 0, 2, h) || !digits(s, 3, 2, mi) || !digits(s, 6, 2, se)) return false;
  if (h > 23 || mi > 59 || se > 60) return false;  // 60: leap second
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t j = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == j) return false;
  }
  std::string_view off = s.substr(i);
  if (off == "Z" || off == "z") return true;
  int oh, om;
  if (off.size() != 6 || (off[0] != '+' && off[0] != '-') || off[3] != ':') return false;
  return digits(off, 1, 2, oh) && digits(off, 4, 2, om) && oh <= 23 && om <= 59;
}

bool date_time(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
         full_date(s.substr(0, 10)) && full_time(s.substr(11));
}

bool hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

bool uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !hex(s[i])) return false;
  }
  return true;
}

bool hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    start = end + 1;
  }
  return true;
}

bool email(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  for (char c : local) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;  // RFC 6531 (idn-email) is lenient in practice
    if (!std::isalnum(u) &&
        std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) == std::string_view::npos)
      return false;
  }
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    std::string lit(domain.substr(1, domain.size() - 2));
    unsigned char buf[16];
    if (lit.starts_with("IPv6:")) return inet_pton(AF_INET6, lit.c_str() + 5, buf) == 1;
    return inet_pton(AF_INET, lit.c_str(), buf) == 1;
  }
  return hostname(domain);
}

bool uri(std::string_view s) {
  // scheme ":" hier-part, characters RFC 3986 allows (percent-escapes checked).
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  }
  for (size_t i = colon + 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2])) return false;
      i += 2;
      continue;
    }
    if (std::isalnum(c)) continue;
    if (std::string_view("-._~:/?#[]@!$&'()*+,;=").find(static_cast<char>(c)) ==
        std::string_view::npos)
      return false;
  }
  return true;
}

bool ip(std::string_view s, int family) {
  if (s.size() > 45) return false;
  std::string text(s);
  unsigned char buf[16];
  // inet_pton accepts IPv4 with leading zeros on some systems: refuse them (ambiguous octal).
  if (family == AF_INET) {
    size_t start = 0;
    while (start < s.size()) {
      size_t end = s.find('.', start);
      if (end == std::string_view::npos) end = s.size();
      if (end - start > 1 && s[start] == '0') return false;
      start = end + 1;
    }
  }
  return inet_pton(family, text.c_str(), buf) == 1;
}

bool integral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && std::isfinite(v.get_double()) &&
         std::floor(v.get_double()) == v.get_double();
}

}  // namespace

bool check_format(std::string_view f, const json::value& v, bool* known) {
  if (known) *known = true;
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (f == "date-time") return date_time(s);
    if (f == "date") return full_date(s);
    if (f == "time") return full_time(s);
    if (f == "email") return email(s);
    if (f == "uuid") return uuid(s);
    if (f == "uri") return uri(s);
    if (f == "ipv4") return ip(s, AF_INET);
    if (f == "ipv6") return ip(s, AF_INET6);
    if (f == "hostname") return hostname(s);
  } else if (v.is_number()) {
    if (f == "int32") {
      if (!integral(v)) return false;
      if (v.is_uint64()) return false;
      double d = v.is_int64() ? static_cast<double>(v.get_int64()) : v.get_double();
      return d >= INT32_MIN && d <= INT32_MAX;
    }
    if (f == "int64") {
      if (!integral(v)) return false;
      if (v.is_int64()) return true;
      if (v.is_uint64()) return v.get_uint64() <= static_cast<uint64_t>(INT64_MAX);
      return v.get_double() >= -9223372036854775808.0 && v.get_double() < 9223372036854775808.0;
    }
    if (f == "float") {
      double d = v.is_double() ? v.get_double() : 0;
      return !v.is_double() || (std::isfinite(d) && std::fabs(d) <= FLT_MAX);
    }
    if (f == "double") return true;
  }
  static constexpr std::string_view kKnown[] = {"date-time", "date",  "time",  "email",    "uuid",
                                                "uri",       "ipv4",  "ipv6",  "hostname", "int32",
                                                "int64",     "float", "double"};
  if (known) *known = false;
  for (auto k : kKnown)
    if (k == f && known) *known = true;
  return true;  // a format of another type, or one we do not know: annotation only
}

}  // namespace gatehouse::apim::schema
