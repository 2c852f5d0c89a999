// Breaking-change diff between two versions of an API description, with the
// main rules of oasdiff's checker: removed paths and operations, new required
// parameters or request properties, narrowed types, enums and constraints,
// removed response properties and status codes, security changes. Each
// finding has a rule id, a level and a location.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apim/openapi/document.hpp"

namespace gatehouse::apim::openapi {

// kError: breaks existing clients; kWarning: may break some; kInfo: compatible.
enum class Level { kError, kWarning, kInfo };
std::string_view level_name(Level l);

struct Change {
  Level level = Level::kInfo;
  std::string id;         // rule id, e.g. "new-required-request-parameter"
  std::string operation;  // "GET /pets/{petId}", "" for document-level changes
  std::string location;   // operation + where inside it
  std::string message;
};

// Findings in a stable order: by operation as in `base` then `revision`.
std::vector<Change> diff(const Document& base, const Document& revision);

bool has_breaking(const std::vector<Change>& changes);

}  // namespace gatehouse::apim::openapi
