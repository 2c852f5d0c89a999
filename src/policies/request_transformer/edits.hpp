// Header and query-string edits shared by request-transformer and
// response-transformer: the config shape, its validation, and applying the
// edits to a header list or a raw query string.
//
// Operations run in a fixed order, whatever their order in the config
// (Kong's order): remove, rename, set, add, append. Values are expanded
// before any edit, so a template always sees the message as it arrived at
// this policy (renaming X-Old does not hide $(header.x-old)).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http1/parser.hpp"
#include "policies/config_reader.hpp"
#include "policies/query.hpp"
#include "policies/request_transformer/template.hpp"

namespace gatehouse::policy {

enum class EditTarget { kRequestHeaders, kResponseHeaders, kQuery };

struct Edits {
  std::vector<std::string> remove;                          // every occurrence
  std::vector<std::pair<std::string, std::string>> rename;  // old -> new, when old is present
  std::vector<ValueOp> set;     // replace all occurrences with one, or create
  std::vector<ValueOp> add;     // only when absent (never overwrites)
  std::vector<ValueOp> append;  // always one more occurrence
  bool empty() const {
    return remove.empty() && rename.empty() && set.empty() && add.empty() && append.empty();
  }
};

// Reads config key `key` ("headers" or "query") into `out`. Problems are
// reported through `cr` with paths such as "headers.add.Connection".
void read_edits(ConfigReader& cr, const char* key, EditTarget target, Edits& out);

// Why `name` may not be edited with `op` ("add", "set", "append", "remove",
// "rename"), or empty when it may.
std::string header_name_problem(std::string_view name, std::string_view op, EditTarget target);

// Field-value bytes we send (RFC 9110 5.5): no CR, LF, NUL or other controls
// except HTAB.
bool valid_header_value(std::string_view v);

// Expanded values of set, add and append, in that order (nullopt: do not
// write it). For headers, values that are not valid field values after
// expansion are nullopt too.
using Expanded = std::vector<std::optional<std::string>>;
void expand_edits(const Edits& e, const TemplateEnv& env, bool header_values, Expanded& out);

// Applies the edits to a header list. `values` comes from expand_edits and is
// consumed (moved from). A set whose value is nullopt still removes the
// header: a header the config owns is never left with a client-sent value.
void apply_header_edits(const Edits& e, Expanded& values, std::vector<http1::Header>& headers);

// Applies the edits to a raw query string; untouched pairs are kept byte for
// byte and new names and values are percent-encoded. Returns true and fills
// `out` only when the query changed.
bool apply_query_edits(const Edits& e, Expanded& values, std::string_view query, std::string& out);

}  // namespace gatehouse::policy
