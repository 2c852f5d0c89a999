// libFuzzer target: the JSON document model of the body transforms
// (policies/request_transformer/json_doc). Whatever parses must print to text
// that parses again to the same print (a fixed point), so an edited body is
// always valid JSON; the dotted-path parser must never crash either.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policies/request_transformer/json_doc.hpp"

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace gatehouse::policy;
  auto doc = parse_json(in);
  if (!doc) return 0;
  std::string once;
  print_json(*doc, once);
  auto again = parse_json(once);
  CHECK(again.ok());
  std::string twice;
  print_json(*again, twice);
  CHECK(once == twice);
  return 0;
}
