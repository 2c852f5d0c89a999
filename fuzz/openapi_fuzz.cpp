// libFuzzer target: the OpenAPI loader must turn any byte string into a
// Document or an Error; never crash, hang, leak or throw. References to other
// files resolve against a tiny in-memory file set so the file path is fuzzed
// too. A loaded document also goes through import, diff (against itself:
// nothing may break) and lint. Seeds live in fuzz/corpus/openapi/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apim/openapi/diff.hpp"
#include "apim/openapi/lint.hpp"
#include "apim/openapi/loader.hpp"
#include "apim/openapi/to_routes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  gatehouse::apim::openapi::LoadOptions opt;
  opt.reader = [](const std::string& path) -> gatehouse::Result<std::string> {
    if (path == "other.yaml")
      return std::string(
          "A: {type: object, properties: {self: {$ref: '#/A'}}}\n"
          "P: {get: {responses: {'200': {description: x}}}}\n");
    return gatehouse::make_error("not_found", "no such file");
  };
  auto doc = gatehouse::apim::openapi::load_document(text, "fuzz.yaml", opt);
  size_t n = 0;
  if (doc) {
    for (const auto& op : doc->operations) n += op.parameters.size() + op.responses.size();
    for (const auto& [name, schema] : doc->schemas)
      n += gatehouse::apim::openapi::resolve_schema(*doc, schema).is_object();
    gatehouse::apim::openapi::ImportOptions io;
    io.api = "fuzz";
    io.upstream = "up";
    auto routes = gatehouse::apim::openapi::to_routes(*doc, io);
    if (routes) n += routes->routes.size();
    if (gatehouse::apim::openapi::has_breaking(gatehouse::apim::openapi::diff(*doc, *doc)))
      __builtin_trap();
    auto src = gatehouse::apim::openapi::parse_source(text, "fuzz.yaml");
    n += gatehouse::apim::openapi::lint(*doc, src ? src->get() : nullptr).size();
  } else {
    n += doc.error().message.size();
  }
  return n == static_cast<size_t>(-1) ? 1 : 0;
}
