// libFuzzer target: the AWS shared files' INI dialect (~/.aws/credentials,
// ~/.aws/config) and the profile lookup over them. Any input parses or gives
// a "source:line: why" error, never a crash; an error never quotes the input
// (it may hold a key); every parsed section has a name and lower-case keys.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/aws_profile.hpp"

using namespace gatehouse::config::aws;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parse_ini(in, "fuzz");
  if (!r) {
    CHECK(r.error().message.rfind("fuzz:", 0) == 0);
    return 0;
  }
  for (const auto& s : *r) {
    CHECK(!s.name.empty());
    for (const auto& [k, v] : s.props) {
      CHECK(!k.empty());
      for (char c : k) CHECK(!(c >= 'A' && c <= 'Z'));
    }
  }
  // The same text as both files, for the names the sections carry.
  for (const auto& s : *r) {
    Profile p = find_profile(*r, *r, s.name);
    CHECK(p.found);
    (void)find_profile(*r, *r, "default");
  }
  return 0;
}
