// IP addresses and CIDR sets for ip-restriction. Every address is held as
// 128 bits; IPv4 lives in the IPv4-mapped range (::ffff:0:0/96), so
// "10.0.0.0/8" and a peer seen by a dual-stack socket as "::ffff:10.1.2.3"
// meet in one representation without special cases at match time.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::policy::ip {

struct Address {
  uint64_t hi = 0;
  uint64_t lo = 0;
  auto operator<=>(const Address&) const = default;
  bool is_v4() const { return hi == 0 && (lo >> 32) == 0xffff; }
};

// Strict textual forms: dotted quad without leading zeros, or RFC 4291 IPv6
// (with "::" and a trailing dotted quad). No zone, no port, no brackets.
std::optional<Address> parse_address(std::string_view s);

// An address as a peer or proxy reports it: also accepts "[v6]", "[v6]:port",
// "v4:port" and a "%zone" suffix, which some proxies and socket APIs add.
std::optional<Address> parse_reported_address(std::string_view s);

std::string format_address(const Address& a);  // dotted quad for IPv4-mapped

struct Cidr {
  Address first;
  Address last;
};

// "10.0.0.0/8", "2001:db8::/32" or a bare address. On failure returns
// nullopt and sets `why` to a one-line reason (with a corrected form when the
// only problem is host bits set after the prefix).
std::optional<Cidr> parse_cidr(std::string_view s, std::string& why);

// A set of CIDRs compiled into sorted, merged, disjoint ranges: membership is
// one binary search, whatever the mix of prefix lengths.
class Set {
 public:
  void add(const Cidr& c) { pending_.push_back(c); }
  void compile();
  bool contains(const Address& a) const;
  bool empty() const { return ranges_.empty(); }
  size_t range_count() const { return ranges_.size(); }

 private:
  std::vector<Cidr> pending_;
  std::vector<Cidr> ranges_;
};

}  // namespace gatehouse::policy::ip
