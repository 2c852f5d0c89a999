// LLM providers and models as store entities (`llm_provider`, `llm_model`):
// bodies are the YAML items of llm.providers[] / llm.models[], except that
// provider secrets are kept sealed (secrets.hpp). This file owns the sealed
// form: writing (seal), reading (mask), building the data plane (unseal) and
// re-encryption under a new key.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/secrets.hpp"
#include "common/result.hpp"
#include "store/store.hpp"

namespace gatehouse::admin {

inline constexpr std::string_view kLlmProviderKind = "llm_provider";
inline constexpr std::string_view kLlmModelKind = "llm_model";
inline constexpr std::string_view kLlmKinds[] = {kLlmProviderKind, kLlmModelKind};
bool is_llm_kind(std::string_view kind);

// Secret fields of a provider body, as dotted paths.
inline constexpr std::string_view kProviderSecrets[] = {"api_key", "aws.secret_access_key",
                                                        "aws.session_token"};

// Before a write: plaintext secrets are sealed under the process key; a mask
// ("****abcd") or "<redacted>" keeps the stored value; "${VAR}" stays a
// reference, resolved when the snapshot is built. `existing` is the stored
// version, if any. Errors carry the field path.
Result<void> seal_provider_secrets(store::Entity& e, const store::Entity* existing,
                                   const secrets::Keyring& ring);

// For reading: sealed values become "****abcd" (the last four characters of
// keys of 12 or more) and `has_api_key` says whether a key is set.
void mask_provider_secrets(boost::json::object& body);
// Only the sealed values (audit snapshots): no has_api_key.
void mask_sealed_values(boost::json::object& body);

// The provider's YAML item with its secrets in plaintext and ${VAR}
// references resolved (GATEHOUSE_* variables are refused: they hold the
// gateway's own secrets). Errors name the field.
Result<boost::json::object> provider_loader_item(const store::Entity& e,
                                                 const secrets::Keyring& ring);

// For tools that validate on behalf of the nodes (`gatehouse apply/diff`):
// a ${VAR} unset in this process is left as written instead of failing.
void validate_refs_unresolved(bool on);

// Masks provider secrets in a plaintext item (a config file's): "****abcd"
// for keys of 12 or more, "****" else; ${VAR} references stay as written.
void mask_plain_secrets(boost::json::object& item);

// Key ids the entities' sealed values name (for the start-up check).
std::vector<std::string> sealed_key_ids(const std::vector<store::Entity>& entities);

// Settings-file items as the API lists them: secrets masked (plaintext
// "****abcd", ${VAR} references as written are not known here), `origin:
// "settings"` and `read_only: true`. `section` is "providers" or "models".
boost::json::array settings_items(const boost::json::value& settings_llm, std::string_view section);

// Re-seals every secret under the ring's current key; true when the body changed.
Result<bool> reseal_provider(store::Entity& e, const secrets::Keyring& ring);

}  // namespace gatehouse::admin
