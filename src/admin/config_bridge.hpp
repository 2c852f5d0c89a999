// Store entities <-> the config the data plane runs. Entity bodies are the
// YAML items (minus name and tags), so the data-plane config is built by
// writing the entities out as one YAML document per workspace and running the
// very loader and validator `gatehouse check` runs: the admin API and files
// accept exactly the same things, with the same messages.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apim/spec_set.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "store/store.hpp"

namespace gatehouse::admin {

// The entity kinds that make up the gateway config, in document order.
// Credentials live inside their consumer's body (see README.md).
inline constexpr std::string_view kConfigKinds[] = {"upstream", "route", "consumer", "policy"};
std::string plural(std::string_view kind);                             // "route" -> "routes"
std::optional<std::string> kind_of_section(std::string_view section);  // "routes" -> "route"
// Where a kind's items sit in a config document: "routes", "llm.providers".
std::string doc_section(std::string_view kind);

// An error located in one entity. Encoded into Error as: file = "kind/id",
// field = path relative to the entity's JSON (e.g. "match.paths[1]").
struct EntityProblem {
  Error error;
  const store::Entity* entity = nullptr;  // null: not tied to one entity
  std::string field;                      // relative to the entity
};

// Builds the runnable config from every workspace's entities. Names in a
// workspace other than "default" are qualified as "workspace/name" in the
// data plane (metrics labels, logs). Returns the problems instead when any.
// Deployed API versions become specs ("API@VERSION", document by hash);
// `fetch` loads documents the process has not parsed yet (store.get_document;
// without it they must already be in apim::DocumentCache).
// `settings_llm` is the --settings file's `llm` section (JSON, ${VAR}
// expanded): stored llm_provider/llm_model entities (default workspace) are
// added to its providers and models, and the result is validated as one
// section, so names are unique across both and references may cross.
// `settings_mcp` is its `mcp` section: stored routes may name its servers
// (MCP servers come from the operator's file only, never from the API).
Result<config::Config> build_config(const std::vector<store::Entity>& entities,
                                    std::vector<EntityProblem>* problems = nullptr,
                                    const apim::DocumentFetch* fetch = nullptr,
                                    const boost::json::value* settings_llm = nullptr,
                                    const boost::json::value* settings_mcp = nullptr);

// build_config + compiling the snapshot (router, policies) like `check`.
// The first problem becomes an Error (see EntityProblem).
// The validator runs inside the store's commit; `fetch` may read the store
// (its lock is recursive for that).
Result<void> validate_entities(const std::vector<store::Entity>& entities,
                               const apim::DocumentFetch* fetch = nullptr,
                               const boost::json::value* settings_llm = nullptr,
                               const boost::json::value* settings_mcp = nullptr);
store::Validator make_validator(apim::DocumentFetch fetch = {},
                                boost::json::value settings_llm = nullptr,
                                boost::json::value settings_mcp = nullptr);

// The --settings file's `mcp` section (as JSON) for build_config: its
// servers' relative tls files are made relative to `settings_path`'s folder,
// as the loader does when it reads that file itself (config/load_tls.hpp),
// since build_config loads the section from a document with no folder. A
// path starting with '$' (an environment variable) is left to the loader.
void resolve_settings_mcp_files(boost::json::value& mcp, const std::string& settings_path);

// The YAML item for an entity: {name, tags, ...body} (credential ids dropped,
// policies without tags), as the loader wants it.
boost::json::object entity_item(const store::Entity& e, bool for_loader);

// A config document {upstreams, routes, consumers, policies, llm: {providers,
// models}} from entities of one workspace, in store order. `redact` hides
// credential secrets and masks provider keys; without it provider keys stay
// sealed ({sealed, last4}), never plaintext.
boost::json::object entities_document(const std::vector<store::Entity>& entities, bool redact);

// Splits a config document into entities of `workspace` (server settings are
// not stored: their keys are reported in `ignored`). Field paths in errors are
// document paths ("routes[2].name").
Result<std::vector<store::Entity>> document_entities(const boost::json::value& doc,
                                                     const std::string& workspace,
                                                     std::vector<std::string>* ignored);

// Splits an API body into name/tags/body; read-only fields (id, created_at,
// updated_at, version, revision) are dropped, `workspace` is returned.
Result<store::Entity> entity_from_json(const std::string& kind, const boost::json::object& in);
boost::json::object entity_to_json(const store::Entity& e, bool redact);

// Hashes secrets the way they are kept (key-auth key -> key_hash, basic-auth
// password -> password_hash, re-using the stored hash when it still
// verifies), gives credentials ids (kept when they match a stored one by
// type and identity). `existing` is the stored version, if any.
Result<void> normalize_for_write(store::Entity& e, const store::Entity* existing);

// Replaces secret values with "<redacted>".
void redact_credential(boost::json::object& cred);
inline constexpr std::string_view kRedacted = "<redacted>";

}  // namespace gatehouse::admin
