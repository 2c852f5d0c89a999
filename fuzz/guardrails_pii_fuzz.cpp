// libFuzzer target: the PII detectors (src/ai/guardrails/detect.cpp) read
// untrusted prompt and completion text. Whatever the bytes: no crash, matches
// in bounds, sorted and non-overlapping, only enabled types, and every card
// match Luhn-valid. The first byte picks the enabled types. Seeds:
// fuzz/corpus/guardrails_pii/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ai/guardrails/detect.hpp"

using namespace gatehouse::ai::guardrails;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const PiiSet enabled = data[0] & 0x1f;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<PiiMatch> m;
  find_pii(text, enabled, m);
  size_t last_end = 0;
  for (const auto& x : m) {
    CHECK(x.begin < x.end && x.end <= text.size());
    CHECK(x.begin >= last_end);
    CHECK((enabled & pii_bit(x.type)) != 0);
    last_end = x.end;
    if (x.type == PiiType::kCard) {
      std::string digits;
      for (char c : text.substr(x.begin, x.end - x.begin))
        if (c >= '0' && c <= '9') digits += c;
      CHECK(luhn_valid(digits) && digits.size() >= 13 && digits.size() <= 19);
    }
  }
  return 0;
}
