#include "policies/ip_restriction/ip_set.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gatehouse::policy::ip {

namespace {

// The longest textual IPv6 form is 45 bytes; anything longer is not an address.
constexpr size_t kMaxText = 46;

Address from_bytes(const unsigned char* b) {
  Address a;
  for (int i = 0; i < 8; ++i) a.hi = (a.hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) a.lo = (a.lo << 8) | b[i];
  return a;
}

void to_bytes(const Address& a, unsigned char* b) {
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(a.hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(a.lo >> (56 - 8 * i));
}

Address mask_of(int prefix) {
  Address m;
  if (prefix >= 64) m.hi = ~uint64_t{0};
  else if (prefix > 0) m.hi = ~uint64_t{0} << (64 - prefix);
  if (prefix >= 128) m.lo = ~uint64_t{0};
  else if (prefix > 64) m.lo = ~uint64_t{0} << (128 - prefix);
  return m;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<Address> parse_address(std::string_view s) {
  if (s.empty() || s.size() >= kMaxText) return std::nullopt;
  char buf[kMaxText];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char bytes[16] = {};
  if (s.find(':') == std::string_view::npos) {
    // glibc's inet_pton(AF_INET) takes only a.b.c.d in decimal and rejects
    // leading zeros, so "010.1.1.1" (octal to some libraries) never parses.
    if (inet_pton(AF_INET, buf, bytes + 12) != 1) return std::nullopt;
    bytes[10] = bytes[11] = 0xff;
  } else if (inet_pton(AF_INET6, buf, bytes) != 1) {
    return std::nullopt;
  }
  return from_bytes(bytes);
}

std::optional<Address> parse_reported_address(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && all_digits(rest.substr(1)))) return std::nullopt;
    s = s.substr(1, close - 1);
    if (s.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]"
  } else if (size_t colon = s.find(':');
             colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
    // One colon: "v4:port" (a bare IPv6 address always has at least two).
    if (!all_digits(s.substr(colon + 1))) return std::nullopt;
    s = s.substr(0, colon);
  }
  if (size_t pct = s.find('%'); pct != std::string_view::npos) {
    if (s.find(':') == std::string_view::npos) return std::nullopt;  // zones are IPv6 only
    s = s.substr(0, pct);
  }
  return parse_address(s);
}

std::string format_address(const Address& a) {
  unsigned char bytes[16];
  to_bytes(a, bytes);
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.is_v4()) inet_ntop(AF_INET, bytes + 12, buf, sizeof buf);
  else inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  return buf;
}

std::optional<Cidr> parse_cidr(std::string_view s, std::string& why) {
  std::string_view addr_text = s, len_text;
  bool has_len = false;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    addr_text = s.substr(0, slash);
    len_text = s.substr(slash + 1);
    has_len = true;
  }
  auto addr = parse_address(addr_text);
  if (!addr) {
    why = "'" + std::string(addr_text) + "' is not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  // A prefix written after an IPv4 address counts IPv4 bits; mapped storage
  // puts those 32 bits after 96 fixed ones.
  const bool v4_text = addr_text.find(':') == std::string_view::npos;
  const int max_len = v4_text ? 32 : 128;
  int len = max_len;
  if (has_len) {
    int v = -1;
    if (!all_digits(len_text) || len_text.size() > 3 ||
        std::from_chars(len_text.data(), len_text.data() + len_text.size(), v).ec != std::errc() ||
        v > max_len) {
      why = "prefix length '" + std::string(len_text) + "' must be a number from 0 to " +
            std::to_string(max_len) + (v4_text ? " for IPv4" : " for IPv6");
      return std::nullopt;
    }
    len = v;
  }
  const int bits = v4_text ? len + 96 : len;
  Address m = mask_of(bits);
  Cidr c;
  c.first = {addr->hi & m.hi, addr->lo & m.lo};
  c.last = {addr->hi | ~m.hi, addr->lo | ~m.lo};
  if (c.first != *addr) {
    // Host bits set usually means a typo in the address or the length; say
    // which network the prefix actually denotes instead of guessing.
    why = "'" + std::string(s) + "' has bits set after the /" + std::to_string(len) +
          " prefix (did you mean " + format_address(c.first) + "/" + std::to_string(len) + "?)";
    return std::nullopt;
  }
  return c;
}

void Set::compile() {
  std::vector<Cidr> all = std::move(pending_);
  pending_.clear();
  for (const auto& r : ranges_) all.push_back(r);
  std::sort(all.begin(), all.end(),
            [](const Cidr& a, const Cidr& b) { return a.first < b.first; });
  ranges_.clear();
  for (const auto& c : all) {
    if (!ranges_.empty()) {
      Cidr& back = ranges_.back();
      // Merge overlapping and adjacent ranges (back.last + 1 == c.first).
      Address next = back.last;
      bool wrapped = false;
      if (++next.lo == 0 && ++next.hi == 0) wrapped = true;
      if (wrapped || c.first <= next) {
        if (back.last < c.last) back.last = c.last;
        continue;
      }
    }
    ranges_.push_back(c);
  }
}

bool Set::contains(const Address& a) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), a,
                             [](const Address& x, const Cidr& r) { return x < r.first; });
  if (it == ranges_.begin()) return false;
  --it;
  return a <= it->last;
}

}  // namespace gatehouse::policy::ip
