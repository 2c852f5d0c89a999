#include "ai/guardrails/detect.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "common/percent.hpp"

namespace gatehouse::ai::guardrails {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

char at(std::string_view t, size_t i) {
  return i < t.size() ? t[i] : '\0';
}
char before(std::string_view t, size_t i) {
  return i > 0 ? t[i - 1] : '\0';
}

// Candidates of every type, then resolved by priority (see the header).
struct Candidate {
  size_t begin;
  size_t end;
  PiiType type;
};

// ---- card numbers: 13-19 digits, single ' ' or '-' between groups, Luhn.
void cards(std::string_view t, std::vector<Candidate>& out) {
  const size_t n = t.size();
  for (size_t i = 0; i < n;) {
    char p = before(t, i);
    if (!is_digit(t[i]) || is_alnum(p) || p == '+' || p == '.') {
      ++i;
      continue;
    }
    std::string digits;
    size_t j = i, end = i;
    while (j < n) {
      if (is_digit(t[j])) {
        digits += t[j++];
        end = j;
      } else if ((t[j] == ' ' || t[j] == '-') && is_digit(at(t, j + 1)) && digits.size() < 19) {
        ++j;
      } else {
        break;
      }
    }
    if (!is_alnum(at(t, end)) && digits.size() >= 13 && digits.size() <= 19 && luhn_valid(digits))
      out.push_back({i, end, PiiType::kCard});
    i = std::max(end, i + 1);
  }
}

// ---- API keys: well-known prefixes, then high-entropy tokens.
struct Prefix {
  std::string_view text;
  int cls;  // 0: [A-Za-z0-9], 1: + '_' '-', 2: [A-Z0-9], 3: + '-', 4: + '_'
  size_t min_body;
  size_t exact_body;  // 0: any length >= min_body
};
constexpr std::array<Prefix, 20> kPrefixes{{
    {"sk-", 1, 20, 0},   {"sk_live_", 0, 16, 0}, {"sk_test_", 0, 16, 0}, {"rk_live_", 0, 16, 0},
    {"AKIA", 2, 16, 16}, {"ASIA", 2, 16, 16},    {"ghp_", 0, 30, 0},     {"gho_", 0, 30, 0},
    {"ghu_", 0, 30, 0},  {"ghs_", 0, 30, 0},     {"ghr_", 0, 30, 0},     {"github_pat_", 4, 40, 0},
    {"xoxb-", 3, 10, 0}, {"xoxa-", 3, 10, 0},    {"xoxp-", 3, 10, 0},    {"xoxr-", 3, 10, 0},
    {"xoxs-", 3, 10, 0}, {"xapp-", 3, 10, 0},    {"AIza", 1, 35, 35},    {"glpat-", 1, 20, 0},
}};

bool in_class(char c, int cls) {
  switch (cls) {
    case 0:
      return is_alnum(c);
    case 1:
      return is_alnum(c) || c == '_' || c == '-';
    case 2:
      return is_upper(c) || is_digit(c);
    case 3:
      return is_alnum(c) || c == '-';
    default:
      return is_alnum(c) || c == '_';
  }
}

bool token_char(char c) {
  return is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
}

// Random keys switch between upper, lower and digits at most characters
// (about 60% for base62); words and CamelCase identifiers rarely do.
bool random_mix(std::string_view tok) {
  auto cls = [](char c) { return is_upper(c) ? 0 : is_lower(c) ? 1 : is_digit(c) ? 2 : 3; };
  size_t switches = 0;
  for (size_t k = 1; k < tok.size(); ++k) switches += cls(tok[k]) != cls(tok[k - 1]);
  return switches * 3 >= tok.size();
}

void api_keys(std::string_view t, std::vector<Candidate>& out) {
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    char p = before(t, i);
    if (is_alnum(p) || p == '_' || p == '-') continue;
    for (const auto& pre : kPrefixes) {
      if (t.substr(i, pre.text.size()) != pre.text) continue;
      size_t j = i + pre.text.size();
      while (j < n && in_class(t[j], pre.cls)) ++j;
      size_t body = j - i - pre.text.size();
      if (body < pre.min_body || (pre.exact_body && body != pre.exact_body)) continue;
      if (pre.exact_body && is_alnum(at(t, j))) continue;
      out.push_back({i, j, PiiType::kApiKey});
      i = j - 1;
      break;
    }
  }
  // High-entropy tokens: 32+ characters of a key alphabet with upper, lower and
  // digits mixed like random text, and more than 4 bits per character, which
  // hex (hashes, UUIDs) can never reach.
  for (size_t i = 0; i < n;) {
    if (!token_char(t[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    bool up = false, lo = false, dig = false;
    while (j < n && token_char(t[j])) {
      up |= is_upper(t[j]);
      lo |= is_lower(t[j]);
      dig |= is_digit(t[j]);
      ++j;
    }
    std::string_view tok = t.substr(i, j - i);
    if (tok.size() >= 32 && tok.size() <= 1024 && up && lo && dig && random_mix(tok) &&
        shannon_entropy(tok) > 4.0)
      out.push_back({i, j, PiiType::kApiKey});
    i = j;
  }
}

// ---- emails: local@domain.tld
bool local_char(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool domain_char(char c) {
  return is_alnum(c) || c == '.' || c == '-';
}

void emails(std::string_view t, std::vector<Candidate>& out) {
  const size_t n = t.size();
  for (size_t at_pos = t.find('@'); at_pos != std::string_view::npos;
       at_pos = t.find('@', at_pos + 1)) {
    size_t l = at_pos;
    while (l > 0 && local_char(t[l - 1])) --l;
    while (l < at_pos && t[l] == '.') ++l;
    if (l == at_pos || at_pos - l > 64) continue;
    size_t r = at_pos + 1;
    while (r < n && domain_char(t[r])) ++r;
    while (r > at_pos + 1 && (t[r - 1] == '.' || t[r - 1] == '-')) --r;
    std::string_view domain = t.substr(at_pos + 1, r - at_pos - 1);
    size_t dot = domain.rfind('.');
    if (domain.empty() || dot == std::string_view::npos || domain.find("..") != domain.npos ||
        domain.front() == '.' || domain.front() == '-')
      continue;
    std::string_view tld = domain.substr(dot + 1);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_alpha)) continue;
    out.push_back({l, r, PiiType::kEmail});
  }
}

// ---- IPv4 and IPv6 addresses
bool octet(std::string_view t, size_t& j) {
  size_t s = j;
  int v = 0;
  while (j < t.size() && is_digit(t[j]) && j - s < 3) v = v * 10 + (t[j++] - '0');
  if (j == s || v > 255 || (j - s > 1 && t[s] == '0')) return false;
  return !is_digit(at(t, j));
}

void ips(std::string_view t, std::vector<Candidate>& out) {
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    char p = before(t, i);
    if (!is_digit(t[i]) || is_alnum(p) || p == '.' || p == ':') continue;
    size_t j = i;
    bool ok = octet(t, j);
    for (int k = 0; ok && k < 3; ++k) ok = at(t, j) == '.' && octet(t, ++j);
    if (!ok || is_alnum(at(t, j)) || (at(t, j) == '.' && is_digit(at(t, j + 1)))) continue;
    out.push_back({i, j, PiiType::kIp});
    i = j - 1;
  }
  // IPv6: a run of letters, digits, ':' and '.' with two colons or more, all
  // hex, that inet_pton accepts ("std::vector" has non-hex letters).
  for (size_t i = 0; i < n;) {
    char c = t[i];
    if (!(is_alnum(c) || c == ':')) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && (is_alnum(t[j]) || t[j] == ':' || t[j] == '.')) ++j;
    size_t e = j;
    while (e > i && t[e - 1] == '.') --e;
    std::string run(t.substr(i, e - i));
    size_t colons = static_cast<size_t>(std::count(run.begin(), run.end(), ':'));
    bool hex_only = std::all_of(run.begin(), run.end(),
                                [](char x) { return is_hex_digit(x) || x == ':' || x == '.'; });
    bool some_hex = std::any_of(run.begin(), run.end(), is_hex_digit);
    in6_addr a{};
    if (colons >= 2 && hex_only && some_hex && run.size() <= 45 &&
        inet_pton(AF_INET6, run.c_str(), &a) == 1)
      out.push_back({i, e, PiiType::kIp});
    i = j;
  }
}

// ---- phone numbers: +E.164 (8-15 digits) or national forms (10-11 digits
// in two groups or more: "(555) 123-4567", "555-123-4567", "020 7946 0958").
bool phone_sep(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

void phones(std::string_view t, std::vector<Candidate>& out) {
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    char c = t[i];
    char p = before(t, i);
    bool plus = c == '+';
    if (!(plus || c == '(' || is_digit(c))) continue;
    if (is_alnum(p) || p == '+' || p == '.' || p == '-' || p == '/' || (is_digit(c) && p == '('))
      continue;
    size_t j = plus ? i + 1 : i;
    if (!is_digit(at(t, j)) && !(at(t, j) == '(' && is_digit(at(t, j + 1)))) continue;
    size_t digits = 0, groups = 0, end = j;
    int seps = 0;
    bool in_group = false;
    while (j < n) {
      if (is_digit(t[j])) {
        if (!in_group) ++groups;
        in_group = true;
        seps = 0;
        ++digits;
        end = ++j;
      } else if (phone_sep(t[j]) && seps < 2 && digits < 15) {
        in_group = false;
        ++seps;
        ++j;
      } else {
        break;
      }
    }
    bool ok = plus ? digits >= 8 && digits <= 15 : digits >= 10 && digits <= 11 && groups >= 2;
    if (!ok || is_alnum(at(t, end))) continue;
    out.push_back({i, end, PiiType::kPhone});
    i = end - 1;
  }
}

}  // namespace

std::string_view pii_name(PiiType t) {
  switch (t) {
    case PiiType::kCard:
      return "card";
    case PiiType::kApiKey:
      return "api_key";
    case PiiType::kEmail:
      return "email";
    case PiiType::kIp:
      return "ip";
    case PiiType::kPhone:
      return "phone";
  }
  return "";
}

std::optional<PiiType> parse_pii(std::string_view name) {
  for (size_t i = 0; i < kPiiTypes; ++i)
    if (pii_name(static_cast<PiiType>(i)) == name) return static_cast<PiiType>(i);
  return std::nullopt;
}

std::string_view pii_mask(PiiType t) {
  switch (t) {
    case PiiType::kCard:
      return "[CARD]";
    case PiiType::kApiKey:
      return "[API_KEY]";
    case PiiType::kEmail:
      return "[EMAIL]";
    case PiiType::kIp:
      return "[IP]";
    case PiiType::kPhone:
      return "[PHONE]";
  }
  return "[REDACTED]";
}

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool dbl = false;
  for (size_t k = digits.size(); k-- > 0;) {
    if (!is_digit(digits[k])) return false;
    int d = digits[k] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

double shannon_entropy(std::string_view token) {
  if (token.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (unsigned char c : token) ++counts[c];
  double h = 0;
  const double n = static_cast<double>(token.size());
  for (uint32_t c : counts) {
    if (c == 0) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

void find_pii(std::string_view text, PiiSet enabled, std::vector<PiiMatch>& out) {
  std::vector<Candidate> cand;
  auto on = [&](PiiType t) { return (enabled & pii_bit(t)) != 0; };
  // Priority order: each type only takes bytes no earlier type claimed.
  std::vector<PiiMatch> taken;
  auto claim = [&](PiiType t, void (*fn)(std::string_view, std::vector<Candidate>&)) {
    if (!on(t)) return;
    cand.clear();
    fn(text, cand);
    for (const auto& c : cand) {
      bool overlaps = std::any_of(taken.begin(), taken.end(), [&](const PiiMatch& m) {
        return c.begin < m.end && m.begin < c.end;
      });
      if (!overlaps) taken.push_back({c.begin, c.end, c.type});
    }
  };
  claim(PiiType::kCard, cards);
  claim(PiiType::kApiKey, api_keys);
  claim(PiiType::kEmail, emails);
  claim(PiiType::kIp, ips);
  claim(PiiType::kPhone, phones);
  std::sort(taken.begin(), taken.end(),
            [](const PiiMatch& a, const PiiMatch& b) { return a.begin < b.begin; });
  out.insert(out.end(), taken.begin(), taken.end());
}

}  // namespace gatehouse::ai::guardrails
