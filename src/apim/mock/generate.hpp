// Example data from a JSON Schema (OpenAPI 3.0 schema objects, 3.1 / JSON
// Schema 2020-12, and 2.0 converted by the loader). Pure and seeded: the same
// schema, options and seed give the same value, so a static mock answers the
// same request the same way and a dynamic one varies only with its seed.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>

#include "apim/openapi/document.hpp"

namespace gatehouse::apim::mock {

struct GenerateOptions {
  // Static: schema-level example/default/examples are used, every property
  // is present, oneOf/anyOf take their first branch, enum its first value.
  // Dynamic: those are ignored and every choice is drawn from the seed
  // (optional properties, branches, nulls for nullable schemas).
  bool dynamic = false;
  uint64_t seed = 0;
  // How many times one $ref may be entered on the current path; deeper,
  // optional properties are left out and arrays end (recursive schemas).
  int max_ref_depth = 2;
  // A budget on generated values: past it, arrays stop at minItems and
  // optional properties are left out, so huge schemas stay small.
  size_t max_values = 5'000;
  bool response = true;  // leave writeOnly properties out (requests: readOnly)
};

boost::json::value generate(const openapi::Document& d, const boost::json::value& schema,
                            const GenerateOptions& options);

// The schema's own sample: `example`, else the first of `examples` (3.1
// arrays), else `default` ($ref followed). nullopt when it has none.
std::optional<boost::json::value> schema_example(const openapi::Document& d,
                                                 const boost::json::value& schema);

// splitmix64: small, fast and identical everywhere (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

}  // namespace gatehouse::apim::mock
