// One OpenAPI source file (YAML or JSON) as a JSON value, plus what is needed
// to say where something was written: the YAML node tree, walked by JSON
// pointer only when an error needs a line:column.
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"

namespace gatehouse::apim::openapi {

struct SourceDoc {
  std::string path;  // the name errors use (a file path, or what the caller gave)
  boost::json::value root;
  YAML::Node yaml;  // null for JSON input
  bool is_yaml = false;

  // 1-based line:column of the value at `pointer`, {0, 0} when unknown
  // (JSON input, or a pointer that does not exist).
  std::pair<int, int> position(std::string_view pointer) const;
};

// Largest source accepted; GitHub's REST description is about 13 MB.
inline constexpr size_t kMaxSourceBytes = 64 * 1024 * 1024;

// JSON when the first non-blank byte is '{' or '[', else YAML (1.2 core
// schema typing: plain null/true/false/numbers are typed, quoted scalars stay
// strings). Errors carry the file and line:column.
Result<std::shared_ptr<const SourceDoc>> parse_source(std::string_view text, std::string path);

// JSON pointer helpers (RFC 6901).
std::string pointer_escape(std::string_view token);
std::string pointer_append(std::string_view base, std::string_view token);
// nullptr when the pointer does not exist or is malformed.
const boost::json::value* pointer_find(const boost::json::value& root, std::string_view pointer);

// An Error located at `pointer` in `doc` (file, field = pointer, line:column).
Error located_error(const SourceDoc& doc, std::string_view pointer, std::string code,
                    std::string message);

}  // namespace gatehouse::apim::openapi
