// libFuzzer target: the JSON byte classes guardrails use to mask inside
// tool-call arguments (src/ai/guardrails/json_lex.cpp) read untrusted model
// output. Whatever the bytes: classes in bounds and the same however the text
// is split into pieces (the streamed case). For valid JSON: replacing any
// range json_fit calls a string with a mask, or a number with a quoted mask,
// leaves valid JSON (ranges on character boundaries). The first two bytes
// pick the range and the split.
// Seeds: fuzz/corpus/guardrails_json/.
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ai/guardrails/json_lex.hpp"

using namespace gatehouse::ai::guardrails;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

namespace {
bool valid_json(std::string_view s) {
  boost::system::error_code ec;
  (void)boost::json::parse(s, ec);
  return !ec;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string whole;
  JsonLex st;
  json_classes(text, st, whole);
  CHECK(whole.size() == text.size());
  // Split in two: the carried state gives the same classes.
  size_t split = data[0] % (text.size() + 1);
  JsonLex st2;
  std::string a, b;
  json_classes(text.substr(0, split), st2, a);
  json_classes(text.substr(split), st2, b);
  CHECK(a + b == whole);
  CHECK(st2.in_string == st.in_string && st2.escape == st.escape && st2.hex == st.hex &&
        st2.in_number == st.in_number);
  // A range: begin from data[0], length from data[1].
  size_t begin = data[0] % text.size();
  size_t end = std::min(text.size(), begin + 1 + data[1] % 24);
  JsonFit fit = json_fit(whole, begin, end);
  // Masks replace whole characters (detectors match on code points): a
  // range that starts or ends inside a UTF-8 sequence is not one we make.
  auto continuation = [&](size_t i) {
    return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
  };
  if (fit != JsonFit::kStructure && !continuation(begin) && !continuation(end) &&
      valid_json(text)) {
    std::string out(text.substr(0, begin));
    out += fit == JsonFit::kNumber ? "\"[CARD]\"" : "[CARD]";
    out += text.substr(end);
    CHECK(valid_json(out));
  }
  return 0;
}
