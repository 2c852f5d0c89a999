// libFuzzer target: the top-level member scan used to pass same-format LLM
// requests through. On any input it must not crash; on every JSON object a
// parser accepts it must find each member, each value span must parse on its
// own, and a rewrite must be valid JSON carrying the new model.
// Seeds live in fuzz/corpus/raw_request/.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ai/translate/raw_request.hpp"

namespace json = boost::json;
using namespace gatehouse::ai;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto members = scan_top_level(text);  // must not crash on anything
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return 0;
  CHECK(members);
  for (const auto& m : *members) {
    CHECK(m.value_begin < m.value_end && m.value_end <= text.size());
    json::value mv = json::parse(text.substr(m.value_begin, m.value_end - m.value_begin), ec);
    CHECK(!ec);
    if (m.key.find('\\') == std::string_view::npos) CHECK(v.as_object().contains(m.key));
  }
  if (members->size() == v.as_object().size()) {
    // No duplicated keys: the rewrite, when it happens, is JSON with the new model.
    auto out = rewrite_same_format(text, "fuzz-model", size % 2 == 0);
    if (out) {
      json::value r = json::parse(*out, ec);
      CHECK(!ec && r.is_object());
      CHECK(r.as_object().at("model") == json::value("fuzz-model"));
      if (size % 2 == 0) CHECK(r.at("stream_options").at("include_usage") == json::value(true));
    }
  }
  return 0;
}
