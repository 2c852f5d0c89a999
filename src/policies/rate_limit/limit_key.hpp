// What a limit counts by: the key of a request in a counter table. Shared by
// rate-limit and concurrency-limit so "by: consumer" means the same in both.
#pragma once

#include <optional>
#include <string_view>

#include "policies/policy.hpp"

namespace gatehouse::policy::rate_limit {

enum class KeyBy { kConsumer, kCredential, kIp, kHeader, kRoute, kGlobal };

std::optional<KeyBy> parse_key_by(std::string_view s);

// A key in a fixed buffer: building it allocates nothing. The first byte
// names the kind so a consumer called "10.0.0.1" and that client IP do not
// share a budget. Values longer than kMaxValue (header values can be 8 KiB)
// are replaced by their SHA-256, which bounds the memory an entry takes.
class LimitKey {
 public:
  static constexpr size_t kMaxValue = 64;
  void set(char kind, std::string_view value);
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[2 + kMaxValue];
  size_t size_ = 0;
};

// A request is anonymous when no consumer was identified, or when the
// consumer came without a credential (key-auth's `anonymous` fallback):
// anonymous requests are counted per client IP, so one abuser cannot spend
// the budget of every anonymous caller.
bool is_anonymous(const RequestContext& ctx);

// by consumer / credential fall back to the client IP when anonymous; by
// header falls back to the client IP when the header is absent or empty.
void make_limit_key(const RequestContext& ctx, KeyBy by, std::string_view header, LimitKey& out);

}  // namespace gatehouse::policy::rate_limit
