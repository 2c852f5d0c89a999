// libFuzzer target: the mock's parsers and generator. The first line of the
// input is a header value, fed to the Prefer and Accept parsers and used as a
// regex for the pattern generator; the rest is an OpenAPI document whose
// every operation is answered statically and dynamically. Nothing may crash,
// hang, throw, or produce a header value with a control character.
// Seeds live in fuzz/corpus/mock/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "apim/mock/generate.hpp"
#include "apim/mock/mock.hpp"
#include "apim/mock/pattern.hpp"
#include "apim/openapi/loader.hpp"

namespace mock = gatehouse::apim::mock;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t nl = all.find('\n');
  std::string_view line = all.substr(0, nl);
  std::string_view text = nl == std::string_view::npos ? std::string_view{} : all.substr(nl + 1);
  size_t n = 0;
  mock::Rng rng(size);
  mock::Draw draw = [&](uint64_t k) { return rng.below(k); };
  if (auto s = mock::string_for_pattern(line, draw)) n += s->size();
  mock::MockRequest req;
  if (auto p = mock::parse_prefer(line)) req.prefer = *p;
  (void)mock::apply_query_preferences(line, req.prefer);
  req.accept = line;
  auto doc = gatehouse::apim::openapi::load_document(text, "fuzz.yaml");
  if (!doc) return 0;
  for (const auto& op : doc->operations) {
    for (bool dynamic : {false, true}) {
      req.dynamic = dynamic;
      req.seed = n + op.path.size();
      auto r = mock::respond(*doc, op, req);
      if (!r) {
        n += r.error().message.size();
        continue;
      }
      for (const auto& [k, v] : r->headers)
        for (char c : k + v)
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
      n += r->body.size();
    }
  }
  return n == static_cast<size_t>(-1) ? 1 : 0;
}
