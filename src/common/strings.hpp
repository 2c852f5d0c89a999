// Small string helpers shared by the HTTP codec, router and config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Stable 64-bit hash (FNV-1a then a murmur finaliser): consistent-hash rings and
// sharding must give the same answer across processes and releases.
inline uint64_t stable_hash(std::string_view s, uint64_t seed = 0) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Parses a duration such as "250ms", "5s", "2m", "1h", "30d" or a bare number
// of milliseconds. Returns milliseconds.
std::optional<int64_t> parse_duration_ms(std::string_view s);

// Parses a size such as "8k", "64KiB", "1m", "1MiB" or a bare number of bytes.
std::optional<uint64_t> parse_size(std::string_view s);

}  // namespace gatehouse
