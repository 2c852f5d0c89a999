// Query parameters of the usage API: times and grouping names.
#include "ai/usage/query_params.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace gatehouse::ai::usage {

namespace {

int digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<GroupBy> parse_group_by(std::string_view s) {
  if (s == "consumer") return GroupBy::kConsumer;
  if (s == "model") return GroupBy::kModel;
  if (s == "provider") return GroupBy::kProvider;
  if (s == "route") return GroupBy::kRoute;
  if (s == "day") return GroupBy::kDay;
  if (s == "hour") return GroupBy::kHour;
  return std::nullopt;
}

std::string_view group_by_name(GroupBy g) {
  switch (g) {
    case GroupBy::kConsumer:
      return "consumer";
    case GroupBy::kModel:
      return "model";
    case GroupBy::kProvider:
      return "provider";
    case GroupBy::kRoute:
      return "route";
    case GroupBy::kDay:
      return "day";
    case GroupBy::kHour:
      return "hour";
    case GroupBy::kNone:
      break;
  }
  return "";
}

std::optional<int64_t> parse_time(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM); a bare date means midnight UTC.
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || s[4] != '-' || s[7] != '-')
    return std::nullopt;
  int h = 0, mi = 0, sec = 0;
  int64_t frac_ms = 0, offset_s = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s.size() < 20) return std::nullopt;
    h = digits(s, 11, 2);
    mi = digits(s, 14, 2);
    sec = digits(s, 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || s[13] != ':' || s[16] != ':')
      return std::nullopt;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int64_t scale = 100;
      size_t start = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        frac_ms += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == start) return std::nullopt;
    }
    if (i >= s.size()) return std::nullopt;
    if (s[i] == 'Z' || s[i] == 'z') {
      if (i + 1 != s.size()) return std::nullopt;
    } else if (s[i] == '+' || s[i] == '-') {
      int oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59 || i + 6 != s.size() || s[i + 3] != ':')
        return std::nullopt;
      offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    } else {
      return std::nullopt;
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  if (tm.tm_mday != d) return std::nullopt;  // 2026-02-31 normalised to March
  return (static_cast<int64_t>(t) - offset_s) * 1000 + frac_ms;
}

std::string format_time(int64_t ms) {
  time_t t = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace gatehouse::ai::usage
