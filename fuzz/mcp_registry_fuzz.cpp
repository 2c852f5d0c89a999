// The MCP registry's parsers: the /v0/servers path and query, RFC 3339
// timestamps, version strings and their order, and the canonical JSON and
// diff of tool definitions (input read as JSON when it parses).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mcp/registry/pins.hpp"
#include "mcp/registry/versions.hpp"

using namespace gatehouse::mcp::registry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)parse_registry_path(in);
  (void)parse_query(in);
  if (auto t = parse_rfc3339(in)) {
    // What we print must parse back to the same instant (whole ms).
    if (*t > -62135596800000 && *t < 253402300799000 && parse_rfc3339(rfc3339(*t)) != *t)
      __builtin_trap();
  }
  size_t half = in.size() / 2;
  std::string_view a = in.substr(0, half), b = in.substr(half);
  int ab = compare_versions(a, b), ba = compare_versions(b, a);
  if ((ab < 0) != (ba > 0) || (ab == 0) != (a == b)) __builtin_trap();
  (void)valid_version(in);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(in, ec);
  if (!ec) {
    std::string c = canonical_json(v);
    // Canonical text is a fixed point. Boost.JSON 1.81's parser is not
    // correctly rounded for every double (a 17-digit value can come back one
    // ulp off) and prints an overflowed one as text it will not read back, so
    // the check holds where the values survived the round trip; pins hash
    // live values, never re-parsed text.
    boost::system::error_code back_ec;
    boost::json::value back = boost::json::parse(c, back_ec);
    if (!back_ec && back == v && canonical_json(back) != c) __builtin_trap();
    if (!diff(v, v).empty()) __builtin_trap();
    if (!back_ec) (void)diff(v, back);
  }
  return 0;
}
