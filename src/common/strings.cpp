#include "common/strings.hpp"

#include <charconv>

namespace gatehouse {

namespace {
std::optional<std::pair<uint64_t, std::string_view>> split_number(std::string_view s) {
  s = trim_ows(s);
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr == s.data()) return std::nullopt;
  return std::make_pair(n, s.substr(static_cast<size_t>(ptr - s.data())));
}
}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view s) {
  auto parsed = split_number(s);
  if (!parsed) return std::nullopt;
  auto [n, unit] = *parsed;
  uint64_t mult = 0;
  if (unit.empty() || unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;  // quotas and daily limits
  else return std::nullopt;
  if (n > (uint64_t{1} << 40) || n > (uint64_t{1} << 62) / mult) return std::nullopt;
  return static_cast<int64_t>(n * mult);
}

std::optional<uint64_t> parse_size(std::string_view s) {
  auto parsed = split_number(s);
  if (!parsed) return std::nullopt;
  auto [n, unit] = *parsed;
  std::string u = to_lower(unit);
  uint64_t mult = 0;
  if (u.empty() || u == "b") mult = 1;
  else if (u == "k" || u == "kb" || u == "kib") mult = 1024;
  else if (u == "m" || u == "mb" || u == "mib") mult = 1024 * 1024;
  else if (u == "g" || u == "gb" || u == "gib") mult = 1024ULL * 1024 * 1024;
  else return std::nullopt;
  if (n > (uint64_t{1} << 50) / mult) return std::nullopt;
  return n * mult;
}

}  // namespace gatehouse
