// libFuzzer target: what proxy-cache reads from upstream headers
// (policies/proxy_cache/cache_control). Any Cache-Control value parses
// without crashing, ages are never negative, and an accepted HTTP date is a
// real IMF-fixdate (29 bytes, within the years it can name).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policies/proxy_cache/cache_control.hpp"

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace gatehouse;
  std::vector<http1::Header> headers{{"Cache-Control", std::string(in)}};
  auto cc = policy::parse_cache_control(headers);
  if (cc.max_age) CHECK(*cc.max_age >= 0 && *cc.max_age <= (int64_t{1} << 31));
  if (cc.s_maxage) CHECK(*cc.s_maxage >= 0 && *cc.s_maxage <= (int64_t{1} << 31));
  if (auto t = policy::parse_http_date(in)) {
    CHECK(*t >= -62167219200 && *t < 253402300800);  // years 0000..9999
  }
  return 0;
}
