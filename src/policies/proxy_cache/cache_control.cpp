#include "policies/proxy_cache/cache_control.hpp"

#include <array>
#include <charconv>

#include "common/strings.hpp"

namespace gatehouse::policy {

namespace {

// Delta-seconds (RFC 9111 1.2.2): digits; too large saturates at 2^31.
std::optional<int64_t> delta_seconds(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty()) return std::nullopt;
  int64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
    if (out > (int64_t{1} << 31)) out = int64_t{1} << 31;
  }
  return out;
}

void apply(CacheControl& cc, std::string_view name, std::string_view value) {
  if (iequals(name, "no-store")) {
    cc.no_store = true;
  } else if (iequals(name, "no-cache")) {
    cc.no_cache = true;
  } else if (iequals(name, "private")) {
    cc.is_private = true;
  } else if (iequals(name, "public")) {
    cc.is_public = true;
  } else if (iequals(name, "must-revalidate") || iequals(name, "proxy-revalidate")) {
    cc.must_revalidate = true;
  } else if (iequals(name, "max-age")) {
    cc.max_age = delta_seconds(value).value_or(0);
  } else if (iequals(name, "s-maxage")) {
    cc.s_maxage = delta_seconds(value).value_or(0);
  }
}

// One field value: directives separated by commas; a value is a token or a
// quoted string (which may hold commas).
void parse_field(CacheControl& cc, std::string_view v) {
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ',' || v[i] == ' ' || v[i] == '\t')) ++i;
    size_t start = i;
    while (i < v.size() && v[i] != '=' && v[i] != ',') ++i;
    std::string_view name = trim_ows(v.substr(start, i - start));
    std::string_view value;
    if (i < v.size() && v[i] == '=') {
      ++i;
      while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
      size_t vs = i;
      if (i < v.size() && v[i] == '"') {
        ++i;
        while (i < v.size() && v[i] != '"') {
          if (v[i] == '\\' && i + 1 < v.size()) ++i;
          ++i;
        }
        if (i < v.size()) ++i;  // closing quote
      }
      while (i < v.size() && v[i] != ',') ++i;
      value = trim_ows(v.substr(vs, i - vs));
    }
    if (!name.empty()) apply(cc, name, value);
  }
}

int two_digits(std::string_view s, size_t at) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9')
    return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

CacheControl parse_cache_control(const std::vector<http1::Header>& headers) {
  CacheControl cc;
  for (const auto& h : headers)
    if (iequals(h.name, "cache-control")) parse_field(cc, h.value);
  return cc;
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions, 29 bytes.
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trim_ows(s);
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  bool day_ok = false;
  for (auto d : kDays) day_ok = day_ok || s.substr(0, 3) == d;
  if (!day_ok) return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  int day = two_digits(s, 5), hh = two_digits(s, 17), mm = two_digits(s, 20),
      ss = two_digits(s, 23), y1 = two_digits(s, 12), y2 = two_digits(s, 14);
  if (!month || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
      ss > 60 || y1 < 0 || y2 < 0)
    return std::nullopt;
  int64_t year = y1 * 100 + y2;
  return days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 + hh * 3600 + mm * 60 +
         ss;
}

}  // namespace gatehouse::policy
