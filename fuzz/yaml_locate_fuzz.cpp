// Document paths located in YAML texts (gatehouse apply/diff errors): the
// first line is the path, the rest the text. Nothing may crash, hang or
// modify the document, and a found position is inside the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "admin/yaml_locate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  std::string_view path = in.substr(0, nl);
  std::string_view text = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto pos = gatehouse::admin::locate_in_yaml(text, path);
  if (pos &&
      (pos->first < 1 || pos->second < 1 || static_cast<size_t>(pos->first) > text.size() + 1))
    std::abort();
  return 0;
}
