// Common shape of authentication policies (key-auth, basic-auth, jwt,
// hmac-auth): several may sit on one route as alternatives.
#pragma once

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

}  // namespace gatehouse::policy
