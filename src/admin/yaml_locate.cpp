#include "admin/yaml_locate.hpp"

#include <yaml-cpp/yaml.h>

#include <string>

namespace gatehouse::admin {

std::optional<std::pair<int, int>> locate_in_yaml(std::string_view text, std::string_view path) {
  YAML::Node node;
  try {
    node.reset(YAML::Load(std::string(text)));
  } catch (const YAML::Exception&) {
    return std::nullopt;  // the loader has reported it already
  }
  std::optional<std::pair<int, int>> found;
  size_t i = 0;
  while (i < path.size()) {
    YAML::Node next;
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos || !node.IsSequence()) break;
      size_t n = 0;
      for (size_t k = i + 1; k < close; ++k) {
        if (path[k] < '0' || path[k] > '9' || n > 1'000'000) return found;
        n = n * 10 + static_cast<size_t>(path[k] - '0');
      }
      if (n >= node.size()) break;
      next.reset(node[n]);
      i = close + 1;
    } else {
      if (path[i] == '.') ++i;
      size_t end = path.find_first_of(".[", i);
      if (end == std::string_view::npos) end = path.size();
      std::string key(path.substr(i, end - i));
      if (!node.IsMap()) break;
      // Iterate rather than node[key]: operator[] on a non-const node inserts.
      bool hit = false;
      for (auto it = node.begin(); it != node.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == key) {
          // An empty value has no useful mark of its own: point at the key.
          next.reset(it->second.IsNull() ? it->first : it->second);
          hit = true;
          break;
        }
      if (!hit) break;
      i = end;
    }
    node.reset(next);  // rebind: Node's operator= would assign into the document
    found = std::make_pair(node.Mark().line + 1, node.Mark().column + 1);
  }
  return found;
}

}  // namespace gatehouse::admin
