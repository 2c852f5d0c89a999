// The list of built-in policies. Each policy folder defines one
// register_<name>() function; adding a policy means adding it here.
#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_key_auth(Registry& r);
void register_basic_auth(Registry& r);
void register_jwt(Registry& r);
void register_hmac_auth(Registry& r);
void register_mtls_auth(Registry& r);
void register_cors(Registry& r);
void register_ip_restriction(Registry& r);
void register_acl(Registry& r);
void register_request_size_limit(Registry& r);
void register_bot_detection(Registry& r);
void register_uri_block(Registry& r);
void register_allowed_methods(Registry& r);
void register_request_transformer(Registry& r);
void register_response_transformer(Registry& r);
void register_traffic_split(Registry& r);
void register_proxy_mirror(Registry& r);
void register_rate_limit(Registry& r);
void register_concurrency_limit(Registry& r);
void register_quota(Registry& r);
void register_oauth2_introspection(Registry& r);
void register_llm_token_limit(Registry& r);
void register_llm_guardrails(Registry& r);
void register_llm_cache(Registry& r);
void register_llm_semantic_cache(Registry& r);
void register_llm_budget(Registry& r);
void register_api_lifecycle(Registry& r);
void register_proxy_cache(Registry& r);
void register_request_validation(Registry& r);

void register_builtin_policies() {
  static bool done = false;
  if (done) return;
  done = true;
  auto& r = Registry::instance();
  register_key_auth(r);
  register_basic_auth(r);
  register_jwt(r);
  register_hmac_auth(r);
  register_mtls_auth(r);
  register_cors(r);
  register_ip_restriction(r);
  register_acl(r);
  register_request_size_limit(r);
  register_bot_detection(r);
  register_uri_block(r);
  register_allowed_methods(r);
  register_request_transformer(r);
  register_response_transformer(r);
  register_traffic_split(r);
  register_proxy_mirror(r);
  register_rate_limit(r);
  register_concurrency_limit(r);
  register_oauth2_introspection(r);
  register_llm_token_limit(r);
  register_llm_guardrails(r);
  register_llm_cache(r);
  register_llm_semantic_cache(r);
  register_llm_budget(r);
  register_quota(r);
  register_api_lifecycle(r);
  register_proxy_cache(r);
  register_request_validation(r);
}

}  // namespace gatehouse::policy
