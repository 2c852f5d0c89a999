#include "policies/rate_limit/limit_key.hpp"

#include <cstring>

#include "common/strings.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::policy::rate_limit {

std::optional<KeyBy> parse_key_by(std::string_view s) {
  if (s == "consumer") return KeyBy::kConsumer;
  if (s == "credential") return KeyBy::kCredential;
  if (s == "ip") return KeyBy::kIp;
  if (s == "header") return KeyBy::kHeader;
  if (s == "route") return KeyBy::kRoute;
  if (s == "global") return KeyBy::kGlobal;
  return std::nullopt;
}

void LimitKey::set(char kind, std::string_view value) {
  buf_[0] = kind;
  if (value.size() <= kMaxValue) {
    buf_[1] = ':';
    if (!value.empty()) std::memcpy(buf_ + 2, value.data(), value.size());
    size_ = 2 + value.size();
    return;
  }
  std::string digest = sha256(value);  // 32 bytes, fits kMaxValue
  buf_[1] = '#';
  std::memcpy(buf_ + 2, digest.data(), digest.size());
  size_ = 2 + digest.size();
}

bool is_anonymous(const RequestContext& ctx) {
  return ctx.consumer == nullptr || ctx.credential_id.empty();
}

void make_limit_key(const RequestContext& ctx, KeyBy by, std::string_view header, LimitKey& out) {
  switch (by) {
    case KeyBy::kConsumer:
      if (!is_anonymous(ctx)) return out.set('c', ctx.consumer->name);
      break;
    case KeyBy::kCredential:
      if (!is_anonymous(ctx)) return out.set('k', ctx.credential_id);
      break;
    case KeyBy::kHeader:
      if (ctx.head) {
        if (const std::string* v = ctx.head->find(header)) {
          std::string_view t = trim_ows(*v);
          if (!t.empty()) return out.set('h', t);
        }
      }
      break;
    case KeyBy::kRoute:
      return out.set('r', ctx.route_name);
    case KeyBy::kGlobal:
      return out.set('g', {});
    case KeyBy::kIp:
      break;
  }
  out.set('i', ctx.client_ip);
}

}  // namespace gatehouse::policy::rate_limit
