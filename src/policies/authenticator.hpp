// Common shape of authentication policies (key-auth, basic-auth, jwt,
// hmac-auth): several may sit on one route as alternatives.
#pragma once

#include <string>
#include <string_view>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

class Authenticator : public Policy {
 public:
  Phase phase() const final { return Phase::kAuthn; }

  Action on_request(RequestContext& ctx, Respond& out) const final {
    // Authenticated already (a credential was used). An earlier anonymous
    // fallback has no credential: it does not stop this method from trying,
    // so several methods can share a route when each has `anonymous`.
    if (!ctx.credential_id.empty()) return Action::kContinue;
    Action a = authenticate(ctx, out);
    // A rejected request is nobody, not the anonymous consumer an earlier
    // method fell back to (the access log must not name one).
    if (a == Action::kRespond) ctx.consumer = nullptr;
    return a;
  }

 protected:
  // Identify the consumer (set ctx.consumer and ctx.credential_id), fall back
  // to an anonymous consumer, or fill `out` with a 401.
  virtual Action authenticate(RequestContext& ctx, Respond& out) const = 0;
};

// A config error on consumers[i].credentials[j](.key), positioned at the
// consumer (credential indexes are built from ConsumerConfig, which keeps the
// consumer's source position).
inline Error credential_error(const config::ConsumerConfig& c, size_t i, size_t j,
                              const std::string& key, std::string code, std::string message) {
  Error e = make_error(std::move(code), std::move(message),
                       "consumers[" + std::to_string(i) + "].credentials[" + std::to_string(j) +
                           "]" + (key.empty() ? "" : "." + key),
                       0, ErrorSide::kConfig);
  e.file = c.pos.file;
  e.line = c.pos.line;
  e.column = c.pos.column;
  return e;
}

// A realm goes inside a quoted WWW-Authenticate parameter: non-empty, no
// controls, quotes or backslashes.
inline bool valid_realm(std::string_view r) {
  if (r.empty()) return false;
  for (unsigned char c : r)
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') return false;
  return true;
}

// The `realm` key of an authentication policy (default "gatehouse"),
// validated; returns it ready for a challenge: realm="...".
inline std::string read_realm_attr(ConfigReader& cr) {
  std::string realm = cr.str("realm", "gatehouse");
  if (!valid_realm(realm))
    cr.fail("realm", "invalid_value", "realm must be non-empty printable text without '\"' or '\\'");
  return "realm=\"" + realm + "\"";
}

// The consumer named by an authentication policy's `anonymous` key, or null.
inline const Consumer* read_anonymous(ConfigReader& cr, const BuildContext& ctx) {
  auto anon = cr.opt_str("anonymous");
  if (!anon) return nullptr;
  const Consumer* c = ctx.consumers->find(*anon);
  if (!c) cr.fail("anonymous", "unknown_consumer", "no consumer named '" + *anon + "'");
  return c;
}

}  // namespace gatehouse::policy
