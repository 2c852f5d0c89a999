// libFuzzer target: the usage API's time and grouping parameters
// (GET /api/v1/llm/usage?from=...&group_by=...). Any input gives a value or
// nullopt, never a crash; a parsed time formats back to RFC 3339 that parses
// to the same millisecond, and a group name round-trips.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ai/usage/query_params.hpp"

using namespace gatehouse::ai::usage;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto t = parse_time(in); t && *t >= 0 && *t < 253'402'300'800'000) {  // before year 10000
    std::string text = format_time(*t);
    auto again = parse_time(text);
    CHECK(again && *again == *t);
  }
  if (auto g = parse_group_by(in)) CHECK(group_by_name(*g) == in);
  return 0;
}
