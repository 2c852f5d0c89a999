#include "apim/lifecycle.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace gatehouse::apim {

namespace json = boost::json;

namespace {

constexpr State kAll[] = {State::kDraft, State::kPublished, State::kDeprecated, State::kRetired,
                          State::kBlocked};
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool ident_chars(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '_'))
      return false;
  return true;
}

int num(std::string_view s) {
  int v = -1;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Days from 1970-01-01 for a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool valid_date(int y, int m, int d) {
  static const int kLen[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= kLen[m - 1];
}

}  // namespace

std::string_view state_name(State s) {
  switch (s) {
    case State::kDraft:
      return "draft";
    case State::kPublished:
      return "published";
    case State::kDeprecated:
      return "deprecated";
    case State::kRetired:
      return "retired";
    case State::kBlocked:
      return "blocked";
  }
  return "";
}

std::optional<State> parse_state(std::string_view s) {
  for (State st : kAll)
    if (state_name(st) == s) return st;
  return std::nullopt;
}

bool transition_allowed(State from, State to) {
  switch (from) {
    case State::kDraft:
      return to == State::kPublished || to == State::kBlocked;
    case State::kPublished:
      return to == State::kDeprecated || to == State::kBlocked;
    case State::kDeprecated:
      return to == State::kPublished || to == State::kRetired || to == State::kBlocked;
    case State::kBlocked:
      return to == State::kPublished || to == State::kDeprecated || to == State::kRetired;
    case State::kRetired:
      return false;
  }
  return false;
}

std::vector<State> next_states(State from) {
  std::vector<State> out;
  for (State s : kAll)
    if (transition_allowed(from, s)) out.push_back(s);
  return out;
}

std::optional<VersionKind> version_kind(std::string_view v) {
  if (v.empty() || v.size() > 64 || !ident_chars(v)) return std::nullopt;
  // YYYY-MM-DD, optionally followed by ".suffix" or "-suffix".
  if (v.size() >= 10 && v[4] == '-' && v[7] == '-' && digits(v.substr(0, 4)) &&
      digits(v.substr(5, 2)) && digits(v.substr(8, 2)) &&
      (v.size() == 10 || v[10] == '.' || v[10] == '-')) {
    if (!valid_date(num(v.substr(0, 4)), num(v.substr(5, 2)), num(v.substr(8, 2))))
      return std::nullopt;
    return VersionKind::kDated;
  }
  // MAJOR[.MINOR[.PATCH]] with an optional "-pre" or "+build" tail (no leading zeros).
  std::string_view core = v.substr(0, v.find_first_of("-+"));
  if (core.size() != v.size() && core.size() + 1 == v.size()) return std::nullopt;
  int parts = 0;
  size_t i = 0;
  while (i <= core.size()) {
    size_t j = core.find('.', i);
    if (j == std::string_view::npos) j = core.size();
    std::string_view p = core.substr(i, j - i);
    if (!digits(p) || (p.size() > 1 && p[0] == '0')) return std::nullopt;
    ++parts;
    i = j + 1;
  }
  if (parts < 1 || parts > 3) return std::nullopt;
  return VersionKind::kSemantic;
}

std::string major_of(std::string_view v) {
  auto k = version_kind(v);
  if (k == VersionKind::kSemantic) return std::string(v.substr(0, v.find_first_of(".-+")));
  return std::string(v);
}

json::object lifecycle_policy(const LifecyclePolicyInput& in) {
  if (in.state == State::kDraft || in.state == State::kPublished) return {};
  json::object c;
  c["state"] = state_name(in.state);
  c["api"] = in.api_label;
  if (in.deprecated_at_ms > 0) c["deprecation"] = in.deprecated_at_ms / 1000;
  if (!in.sunset.empty()) c["sunset"] = in.sunset;
  if (!in.successor_url.empty()) c["successor"] = in.successor_url;
  if (!in.successor_version.empty()) c["successor_version"] = in.successor_version;
  return json::object{{"name", "api-lifecycle"}, {"config", std::move(c)}};
}

std::string http_date(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() == 29 && s.substr(3, 2) == ", " && s.substr(25) == " GMT") {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    d = num(s.substr(5, 2));
    for (int i = 0; i < 12; ++i)
      if (s.substr(8, 3) == kMonths[i]) mo = i + 1;
    y = num(s.substr(12, 4));
    if (s[16] != ' ' || s[19] != ':' || s[22] != ':') return std::nullopt;
    h = num(s.substr(17, 2));
    mi = num(s.substr(20, 2));
    se = num(s.substr(23, 2));
  } else if ((s.size() == 10 || (s.size() == 20 && s[10] == 'T' && s[19] == 'Z')) && s[4] == '-' &&
             s[7] == '-') {
    if (!digits(s.substr(0, 4)) || !digits(s.substr(5, 2)) || !digits(s.substr(8, 2)))
      return std::nullopt;
    y = num(s.substr(0, 4));
    mo = num(s.substr(5, 2));
    d = num(s.substr(8, 2));
    if (s.size() == 20) {
      if (s[13] != ':' || s[16] != ':') return std::nullopt;
      h = num(s.substr(11, 2));
      mi = num(s.substr(14, 2));
      se = num(s.substr(17, 2));
    }
  } else {
    return std::nullopt;
  }
  if (!valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
    return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se;
}

}  // namespace gatehouse::apim
