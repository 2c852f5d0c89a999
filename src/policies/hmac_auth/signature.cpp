#include "policies/hmac_auth/signature.hpp"

#include <array>

#include "common/strings.hpp"

namespace gatehouse::policy::hmac_auth {

namespace {

bool scheme(std::string_view& v) {
  v = trim_ows(v);
  if (v.size() < 5 || !iequals(v.substr(0, 4), "hmac") || (v[4] != ' ' && v[4] != '\t'))
    return false;
  v.remove_prefix(5);
  return true;
}

void skip_ows(std::string_view& v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
}

int two_digits(std::string_view s) {
  if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

bool is_hmac_scheme(std::string_view value) {
  return scheme(value);
}

bool parse_authorization(std::string_view v, SignatureParams& out, std::string& why) {
  if (!scheme(v)) {
    why = "not the hmac scheme";
    return false;
  }
  bool seen_user = false, seen_alg = false, seen_headers = false, seen_sig = false;
  std::string headers_text = "date";
  while (true) {
    skip_ows(v);
    if (v.empty()) break;
    size_t eq = v.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      why = "expected name=\"value\" parameters";
      return false;
    }
    std::string name = to_lower(trim_ows(v.substr(0, eq)));
    v.remove_prefix(eq + 1);
    skip_ows(v);
    std::string value;
    if (!v.empty() && v.front() == '"') {
      v.remove_prefix(1);
      bool closed = false;
      while (!v.empty()) {
        char c = v.front();
        v.remove_prefix(1);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && !v.empty()) {  // quoted-pair
          c = v.front();
          v.remove_prefix(1);
        }
        value += c;
      }
      if (!closed) {
        why = "unterminated quoted value for '" + name + "'";
        return false;
      }
    } else {
      size_t end = v.find(',');
      value = std::string(trim_ows(v.substr(0, end)));
      v.remove_prefix(end == std::string_view::npos ? v.size() : end);
    }
    skip_ows(v);
    if (!v.empty()) {
      if (v.front() != ',') {
        why = "expected ',' between parameters";
        return false;
      }
      v.remove_prefix(1);
    }
    bool* seen = name == "username"    ? &seen_user
                 : name == "algorithm" ? &seen_alg
                 : name == "headers"   ? &seen_headers
                 : name == "signature" ? &seen_sig
                                       : nullptr;
    if (!seen) continue;  // unknown parameters (keyId, ...) are ignored
    if (*seen) {
      why = "parameter '" + name + "' appears twice";
      return false;
    }
    *seen = true;
    if (name == "username")
      out.username = std::move(value);
    else if (name == "algorithm")
      out.algorithm = to_lower(value);
    else if (name == "headers")
      headers_text = std::move(value);
    else
      out.signature = std::move(value);
  }
  if (out.username.empty() || out.algorithm.empty() || out.signature.empty()) {
    why = "username, algorithm and signature are required";
    return false;
  }
  out.headers.clear();
  std::string_view rest = headers_text;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view item = rest.substr(0, sp);
    if (!item.empty()) out.headers.emplace_back(item);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  }
  return true;
}

bool signing_string(const http1::RequestHead& head, const std::vector<std::string>& headers,
                    std::string& out, std::string& missing) {
  out.clear();
  for (size_t i = 0; i < headers.size(); ++i) {
    const std::string& name = headers[i];
    if (i) out += '\n';
    if (iequals(name, "request-line")) {
      out += head.method;
      out += ' ';
      out += head.target;
      out += " HTTP/1.";
      out += static_cast<char>('0' + head.version_minor);
      continue;
    }
    // Repeated fields are combined as one comma-separated value (RFC 9110 5.3).
    bool found = false;
    out += name;
    out += ": ";
    for (const auto& h : head.headers) {
      if (!iequals(h.name, name)) continue;
      if (found) out += ", ";
      out += h.value;
      found = true;
    }
    if (!found) {
      missing = name;
      return false;
    }
  }
  return true;
}

std::optional<int64_t> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 bytes.
  static constexpr std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = trim_ows(s);
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  bool day_ok = false;
  for (const char* d : kDays) day_ok |= s.substr(0, 3) == d;
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  int dd = two_digits(s.substr(5, 2));
  int y1 = two_digits(s.substr(12, 2)), y2 = two_digits(s.substr(14, 2));
  int hh = two_digits(s.substr(17, 2)), mm = two_digits(s.substr(20, 2)),
      ss = two_digits(s.substr(23, 2));
  if (!day_ok || !month || dd < 1 || dd > 31 || y1 < 0 || y2 < 0 || hh < 0 || hh > 23 || mm < 0 ||
      mm > 59 || ss < 0 || ss > 60)
    return std::nullopt;
  int64_t year = y1 * 100 + y2;
  return days_from_civil(year, month, static_cast<unsigned>(dd)) * 86400 + hh * 3600 + mm * 60 + ss;
}

}  // namespace gatehouse::policy::hmac_auth
