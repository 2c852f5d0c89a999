// YAML <-> JSON for the admin API and declarative sync. The store keeps
// entity bodies as JSON; the loader and users speak YAML. Plain YAML scalars
// are typed the way the loader reads them (null, true/false, integers, floats,
// else strings); quoted scalars always stay strings.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace gatehouse::admin {

// Parses one YAML (or JSON) document. `expand_env` expands ${VAR} in scalar
// values as the file loader does (the CLI does; the admin API does not, so a
// remote editor cannot read the server's environment). Either way "$${" reads
// as a literal "${", so exported YAML reads back as it was. Errors carry
// line/column.
Result<boost::json::value> yaml_to_json(std::string_view text, bool expand_env);

// Flow-style YAML the config loader reads back exactly: every string double
// quoted with "${" written as "$${" (so no expansion happens), null members
// dropped.
std::string json_to_loader_yaml(const boost::json::value& v);

// Human-friendly block-style YAML (export); strings that would read back as
// another type are quoted.
std::string json_to_block_yaml(const boost::json::value& v);

}  // namespace gatehouse::admin
