#include "mcp/registry/versions.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <vector>

#include "common/percent.hpp"

namespace gatehouse::mcp::registry {

namespace {

struct Semver {
  std::vector<uint64_t> nums;
  std::string pre;
};

std::optional<Semver> parse_semver(std::string_view v) {
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  if (size_t plus = v.find('+'); plus != std::string_view::npos) v = v.substr(0, plus);
  Semver s;
  if (size_t dash = v.find('-'); dash != std::string_view::npos) {
    s.pre = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
  }
  while (!v.empty()) {
    size_t dot = v.find('.');
    std::string_view part = v.substr(0, dot);
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    s.nums.push_back(std::stoull(std::string(part)));
    if (dot == std::string_view::npos) break;
    v.remove_prefix(dot + 1);
    if (v.empty()) return std::nullopt;
  }
  if (s.nums.empty()) return std::nullopt;
  return s;
}

}  // namespace

bool valid_version(std::string_view v) {
  if (v.empty() || v.size() > 255 || v == "latest") return false;
  if (v.find_first_of("^~<>=* ") != std::string_view::npos) return false;
  // "1.x" / "1.X": a range, not a version.
  for (size_t i = 0; i + 1 < v.size(); ++i)
    if (v[i] == '.' && (v[i + 1] == 'x' || v[i + 1] == 'X') &&
        (i + 2 == v.size() || v[i + 2] == '.'))
      return false;
  return true;
}

int compare_versions(std::string_view a, std::string_view b) {
  auto x = parse_semver(a), y = parse_semver(b);
  if (x && y) {
    size_t n = std::max(x->nums.size(), y->nums.size());
    for (size_t i = 0; i < n; ++i) {
      uint64_t p = i < x->nums.size() ? x->nums[i] : 0;
      uint64_t q = i < y->nums.size() ? y->nums[i] : 0;
      if (p != q) return p < q ? -1 : 1;
    }
    if (x->pre.empty() != y->pre.empty()) return x->pre.empty() ? 1 : -1;
    if (x->pre != y->pre) return x->pre < y->pre ? -1 : 1;
    // Equal as versions (1.0 vs 1.0.0): fall back to bytes for a total order.
  }
  if (a == b) return 0;
  return a < b ? -1 : 1;
}

std::string rfc3339(int64_t unix_ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(unix_ms)));
  year_month_day ymd(day);
  int64_t in_day = unix_ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()),
                static_cast<long long>(in_day / 3'600'000),
                static_cast<long long>(in_day / 60'000 % 60),
                static_cast<long long>(in_day / 1000 % 60), static_cast<long long>(in_day % 1000));
  return buf;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *h > 23 || *mi > 59 ||
      *se > 60)
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year(*y), month(unsigned(*mo)), day(unsigned(*d))};
  if (!ymd.ok()) return std::nullopt;
  size_t i = 19;
  int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return std::nullopt;
    for (size_t k = start; k < start + 3; ++k) ms = ms * 10 + (k < i ? s[k] - '0' : 0);
  }
  int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    auto oh = digits(i + 1, 2), om = digits(i + 4, 2);
    if (!oh || !om || s[i + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = (*oh * 60 + *om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs = duration_cast<seconds>(sys_days(ymd).time_since_epoch()).count() +
                 int64_t{*h} * 3600 + int64_t{*mi} * 60 + std::min(*se, 59) - offset_min * 60;
  return secs * 1000 + ms;
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto k = percent_decode_strict(part.substr(0, eq), true, true);
    auto v = percent_decode_strict(
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true, true);
    if (!k || !v) return std::nullopt;
    out.emplace(std::move(*k), std::move(*v));
  }
  return out;
}

RegistryPath parse_registry_path(std::string_view rest) {
  RegistryPath p;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) {
    p.list = true;
    return p;
  }
  if (rest.front() != '/') {
    p.status = 404;
    p.error = "no registry resource at this path";
    return p;
  }
  rest.remove_prefix(1);
  std::vector<std::string_view> segs;
  while (true) {
    size_t s = rest.find('/');
    segs.push_back(rest.substr(0, s));
    if (s == std::string_view::npos) break;
    rest.remove_prefix(s + 1);
  }
  auto bad = [&](std::string why) {
    p.status = 400;
    p.error = std::move(why);
    return p;
  };
  auto first = percent_decode_strict(segs[0], false, true);
  if (!first || first->empty()) return bad("malformed server name in the path");
  size_t used = 1;
  if (first->find('/') != std::string::npos) {
    p.name = *first;
  } else if (segs.size() >= 2 && segs[1] != "versions") {
    auto second = percent_decode_strict(segs[1], false, true);
    if (!second || second->empty()) return bad("malformed server name in the path");
    p.name = *first + "/" + *second;
    used = 2;
  } else {
    p.name = *first;
  }
  if (segs.size() == used) return p;
  if (segs[used] != "versions" || segs.size() > used + 2) {
    p.status = 404;
    p.error = "no registry resource at this path";
    return p;
  }
  p.versions = true;
  if (segs.size() == used + 2) {
    auto v = percent_decode_strict(segs[used + 1], false, true);
    if (!v || v->empty()) return bad("malformed version in the path");
    p.version = *v;
  }
  return p;
}

}  // namespace gatehouse::mcp::registry
