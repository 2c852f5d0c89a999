// libFuzzer target: request-target normalisation. The canonical path must be a fixed point
// (normalising it again changes nothing) and free of anything a later component could
// re-interpret: empty or dot segments, raw bytes outside pchar, lower-case or unreserved %XX.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http1/path.hpp"

using namespace gatehouse::http1;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

bool is_unreserved(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

int hex(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

void check_canonical(const std::string& p) {
  CHECK(!p.empty() && p[0] == '/');
  CHECK(p.find("//") == std::string::npos);
  CHECK(p.find("/./") == std::string::npos);
  CHECK(p.find("/../") == std::string::npos);
  const auto ends_with = [&](std::string_view s) {
    return p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0;
  };
  CHECK(!ends_with("/.") && !ends_with("/.."));
  for (size_t i = 0; i < p.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '%') {
      CHECK(i + 2 < p.size() && is_upper_hex(p[i + 1]) && is_upper_hex(p[i + 2]));
      const int v = hex(p[i + 1]) * 16 + hex(p[i + 2]);
      CHECK(v != 0 && v != '/' && v != '\\' && !is_unreserved(static_cast<unsigned char>(v)));
      i += 2;
      continue;
    }
    const bool ok = is_unreserved(c) || c == '/' || c == ':' || c == '@' || c == '!' ||
                    c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
                    c == '+' || c == ',' || c == ';' || c == '=';
    CHECK(ok);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = normalize_target(in);
  if (!r.ok()) {
    const auto& e = r.error();
    CHECK(e.status == 400 && !e.code.empty() && !e.message.empty() && e.field == "path");
    return 0;
  }
  if (r->path == "*") {
    CHECK(in == "*" && r->query.empty() && r->authority.empty());
    return 0;
  }
  check_canonical(r->path);
  for (char c : r->query) {
    const unsigned char u = static_cast<unsigned char>(c);
    CHECK(u > 0x20 && u < 0x7f && c != '#');
  }
  if (!r->authority.empty()) CHECK(r->authority.find('@') == std::string::npos);

  auto again = normalize_target(r->path);
  CHECK(again.ok());
  CHECK(again->path == r->path && again->query.empty());

  // With its query re-attached the result is a fixed point too.
  std::string whole = r->path;
  if (in.find('?') != std::string_view::npos) whole += "?" + r->query;
  auto both = normalize_target(whole);
  CHECK(both.ok() && both->path == r->path && both->query == r->query);
  return 0;
}
