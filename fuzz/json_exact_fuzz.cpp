// libFuzzer target: the product's JSON parse (common/json.cpp), Boost.JSON's
// tokenizer with doubles re-read exactly. It must accept what Boost.JSON
// accepts (bar numbers out of a double's range), build the same structure,
// and what it builds must print and parse back to itself.
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.hpp"

namespace json = boost::json;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

namespace {

// Same shape and kinds; doubles may differ in the last place (Boost.JSON's
// own reading is the inexact one).
bool same_shape(const json::value& a, const json::value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::object: {
      const auto& x = a.as_object();
      const auto& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const json::value* w = y.if_contains(k);
        if (!w || !same_shape(v, *w)) return false;
      }
      return true;
    }
    case json::kind::array: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!same_shape(x[i], y[i])) return false;
      return true;
    }
    case json::kind::double_: {
      double p = a.as_double(), q = b.as_double();
      // Boost.JSON 1.81 reads 0e400 as NaN; ours is the exact zero.
      if (!std::isfinite(q)) return std::isfinite(p);
      return p == q || std::fabs(p - q) <= std::fmax(std::fabs(p) * 1e-14, 1e-300);
    }
    default:
      return a == b;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ours_ec, theirs_ec;
  json::value ours = gatehouse::parse_json(text, ours_ec);
  json::value theirs = json::parse(json::string_view(text.data(), text.size()), theirs_ec);
  if (ours_ec) {
    // Refused only where Boost.JSON refuses too, or for a number no double holds.
    CHECK(theirs_ec || ours_ec == json::error::exponent_overflow);
    return 0;
  }
  CHECK(!theirs_ec);
  CHECK(same_shape(ours, theirs));
  std::string printed = json::serialize(ours);
  boost::system::error_code again_ec;
  json::value again = gatehouse::parse_json(printed, again_ec);
  CHECK(!again_ec);
  CHECK(again == ours);
  return 0;
}
