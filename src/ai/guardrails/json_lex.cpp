#include "ai/guardrails/json_lex.hpp"

namespace gatehouse::ai::guardrails {

namespace {

// Digits and '-' start or continue a number; '+', '.', 'e', 'E' only continue
// one (so the 'e' of `true` is not a number).
bool number_byte(char c, bool in_number) {
  if ((c >= '0' && c <= '9') || c == '-') return true;
  return in_number && (c == '+' || c == '.' || c == 'e' || c == 'E');
}

}  // namespace

void json_classes(std::string_view text, JsonLex& st, std::string& cls) {
  cls.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (st.in_string) {
      if (st.hex > 0) {  // the four digits of \uXXXX
        --st.hex;
        cls[i] = 'e';
      } else if (st.escape) {
        st.escape = false;
        if (c == 'u') st.hex = 4;
        cls[i] = 'e';
      } else if (c == '\\') {
        st.escape = true;
        cls[i] = 'e';
      } else if (c == '"') {
        st.in_string = false;
        cls[i] = ' ';
      } else {
        cls[i] = 's';
      }
    } else if (c == '"') {
      st.in_string = true;
      st.in_number = false;
      cls[i] = ' ';
    } else {
      st.in_number = number_byte(c, st.in_number);
      cls[i] = st.in_number ? 'n' : ' ';
    }
  }
}

JsonFit json_fit(std::string_view cls, size_t b, size_t e) {
  if (b >= e || e > cls.size()) return JsonFit::kStructure;
  const char first = cls[b];
  for (size_t i = b; i < e; ++i)
    if (cls[i] != first) return JsonFit::kStructure;
  if (first == 's') return JsonFit::kString;
  if (first == 'n' && (b == 0 || cls[b - 1] != 'n') && (e == cls.size() || cls[e] != 'n'))
    return JsonFit::kNumber;
  return JsonFit::kStructure;
}

}  // namespace gatehouse::ai::guardrails
