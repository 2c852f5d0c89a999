// libFuzzer target: google.api.http path templates and the query mapper
// (src/transcode/path_template.*, query.*). The input's first line is a
// template, the second a request path, the third a query string: never
// crash; a parsed template's captures lie within the path's segments; a
// literal-only template matches its own text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "transcode/path_template.hpp"
#include "transcode/query.hpp"

using namespace gatehouse::transcode;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto line = [&in]() {
    size_t nl = in.find('\n');
    std::string_view l = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return l;
  };
  std::string_view tmpl_text = line();
  std::string_view path = line();
  std::string_view query = line();

  auto t = parse_path_template(tmpl_text);
  if (t.ok()) {
    const PathTemplate& pt = t.value();
    for (const auto& v : pt.variables) {
      CHECK(v.first < v.last);
      CHECK(v.last <= pt.segments.size());
      CHECK(!v.field_path.empty());
    }
    std::vector<Capture> caps;
    if (match_path(pt, path, caps)) {
      CHECK(caps.size() == pt.variables.size());
      for (const auto& c : caps) CHECK(c.value.size() <= path.size());
    }
    bool literal = pt.variables.empty();
    for (const auto& s : pt.segments) literal = literal && s.kind == PathTemplate::Kind::kLiteral;
    if (literal && tmpl_text.find('%') == std::string_view::npos) {
      CHECK(match_path(pt, tmpl_text, caps));
    }
  }
  auto q = parse_query(query);
  if (q.ok())
    for (const auto& [name, value] : q.value()) {
      CHECK(!name.empty());
      CHECK(name.size() + value.size() <= query.size());
    }
  return 0;
}
