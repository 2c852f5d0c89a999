#include "policies/query.hpp"

#include "common/percent.hpp"

namespace gatehouse::policy {

namespace {
template <class F>
void for_each_pair(std::string_view q, F f) {
  size_t start = 0;
  while (start <= q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view pair = q.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      f(pair, k, v);
    }
    start = amp + 1;
  }
}
}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::optional<std::string> out;
  for_each_pair(query, [&](std::string_view, std::string_view k, std::string_view v) {
    if (!out && percent_decode(k, true) == name) out = percent_decode(v, true);
  });
  return out;
}

std::string remove_query_param(std::string_view query, std::string_view name) {
  std::string out;
  for_each_pair(query, [&](std::string_view pair, std::string_view k, std::string_view) {
    if (percent_decode(k, true) == name) return;
    if (!out.empty()) out += '&';
    out += pair;
  });
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace gatehouse::policy
