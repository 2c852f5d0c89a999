// Declarative sync: a whole config document (the YAML file format) against
// the store. Shared by `gatehouse apply/diff/export` and PUT/GET
// /api/v1/config. With an owner tag only the entities carrying that tag are
// managed: others are never changed or deleted, and claiming one is an error.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace gatehouse::admin {

struct DiffEntry {
  char op = '+';  // '+' create, '~' change, '-' delete
  std::string kind;
  std::string name;
  std::vector<std::string> details;  // "~" only: "path: old -> new"
};

struct Plan {
  std::string workspace;
  std::string owner;
  std::vector<store::Entity> wanted;  // normalised (secrets hashed), ids of matches
  std::vector<DiffEntry> diff;        // empty: nothing would change
  std::vector<std::string> ignored;   // server settings in the document
};

// Field paths in errors are document paths ("routes[2].match.paths[0]").
// The default workspace's document also holds llm.providers and llm.models;
// `settings_llm` (the --settings file's llm section) names the read-only
// ones a document may not define.
Result<Plan> plan_apply(store::Store& store, const boost::json::value& doc,
                        const std::string& workspace, const std::string& owner,
                        const boost::json::value* settings_llm = nullptr);
// Commits the plan atomically (the store re-checks everything under its lock).
Result<store::CommitResult> commit_plan(store::Store& store, const std::string& actor,
                                        const Plan& plan);

std::string format_diff(const std::vector<DiffEntry>& diff);
boost::json::value diff_json(const std::vector<DiffEntry>& diff);

// {upstreams, routes, consumers, policies, llm} of one workspace.
Result<boost::json::value> export_document(store::Store& store, const std::string& workspace,
                                           bool redact, int64_t* revision = nullptr);

}  // namespace gatehouse::admin
