// JSON body edits shared by request-transformer and response-transformer:
// the `body: {remove, rename, set, add}` config shape, dotted field paths,
// typed values, and applying the edits to a parsed document.
//
// Operations run in a fixed order, like the header edits: remove, rename,
// set, add. Template values are expanded before any edit, from the request
// (as for headers), so they never see the body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/config_reader.hpp"
#include "policies/request_transformer/json_doc.hpp"
#include "policies/request_transformer/template.hpp"

namespace gatehouse::policy {

// How much of a JSON body the transformers buffer unless `max_body` says.
constexpr uint64_t kDefaultMaxBody = 1024 * 1024;

// Reads `max_body` (a size, 1 byte to 64 MiB).
uint64_t read_max_body(ConfigReader& cr);

// "user.address.city", "items.0.id", "items.*.internal". A segment is an
// object member name, or, where the value is an array, an element index;
// "*" is every element of an array (or every member of an object).
struct JsonPath {
  std::vector<std::string> segments;
  std::string text;  // as written, for messages
  bool has_wildcard = false;
};

// Parses a path; empty optional and `problem` set when it is malformed.
std::optional<JsonPath> parse_json_path(std::string_view text, std::string& problem);

struct JsonValueOp {
  JsonPath path;
  JsonNode literal;               // the typed value, when not a template
  std::optional<Template> tmpl;   // a string value with $(...) variables
};

struct BodyEdits {
  std::vector<JsonPath> remove;
  std::vector<std::pair<JsonPath, JsonPath>> rename;  // old -> new, when old is present
  std::vector<JsonValueOp> set;                       // replace or create
  std::vector<JsonValueOp> add;                       // only when absent
  bool empty() const { return remove.empty() && rename.empty() && set.empty() && add.empty(); }
};

// Reads config key `key` ("body") into `out`. Problems are reported through
// `cr` with paths such as "body.set.user.name".
void read_body_edits(ConfigReader& cr, const char* key, BodyEdits& out);

// application/json, text/json and any */*+json media type, parameters ignored.
bool is_json_media_type(std::string_view content_type);

// Applies the edits to a document. A template whose value is absent makes
// `set` remove the field (a field the config owns never keeps a sent value)
// and `add` do nothing. Edits whose path runs through a value that is not a
// container (a string where an object was expected) are skipped. Returns true
// when the document changed.
bool apply_body_edits(const BodyEdits& e, const TemplateEnv& env, JsonNode& doc);

// Parses `body`, applies the edits and re-serializes it when something
// changed (untouched bodies keep their bytes). Not JSON: an "invalid_json"
// error whose message names the byte offset, and `body` untouched.
Result<bool> transform_json_body(const BodyEdits& e, const TemplateEnv& env, std::string& body);

}  // namespace gatehouse::policy
