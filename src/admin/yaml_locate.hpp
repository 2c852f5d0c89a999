// Document paths ("llm.models[0].targets[1].provider") back to where they
// were written in a YAML text, so that errors found after loading (by the
// store's validator, on entities) can still say file:line:column.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace gatehouse::admin {

// 1-based (line, column) of the value at `path`, or of its deepest parent
// present in the text; nullopt when the text does not parse or the path's
// first segment is not there.
std::optional<std::pair<int, int>> locate_in_yaml(std::string_view text, std::string_view path);

}  // namespace gatehouse::admin
