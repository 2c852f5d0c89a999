// Whole-document checks of a config file (yaml_document.cpp); private to the loader.
#pragma once

#include <yaml-cpp/mark.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gatehouse::config::detail {

// Where a second, non-empty document starts, if any.
std::optional<YAML::Mark> second_document(const std::string& text);

// For a document that loaded as null: the 1-based line and column of the
// first thing that is not a comment, directive, marker or null literal.
std::optional<std::pair<int, int>> stray_content(std::string_view text);

}  // namespace gatehouse::config::detail
