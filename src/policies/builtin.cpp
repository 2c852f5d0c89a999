// The list of built-in policies. Each policy folder defines one
// register_<name>() function; adding a policy means adding it here.
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_key_auth(Registry& r);

void register_builtin_policies() {
  static bool done = false;
  if (done) return;
  done = true;
  auto& r = Registry::instance();
  register_key_auth(r);
}

}  // namespace gatehouse::policy
