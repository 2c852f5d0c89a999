#include "mcp/server/audit.hpp"

#include <cctype>

namespace gatehouse::mcp::audit {

namespace {

namespace json = boost::json;

// Matched against the name lowercased with '_', '-' and '.' removed, so
// apiKey, api_key and API-Key are one word.
constexpr std::string_view kSecretWords[] = {"password", "passwd", "secret", "token", "apikey",
                                             "authorization", "credential", "privatekey",
                                             "cookie", "session", "bearer"};

void scrub(json::value& v) {
  if (auto* o = v.if_object()) {
    for (auto& kv : *o) {
      if (secret_name(kv.key()))
        kv.value() = kRedacted;
      else
        scrub(kv.value());
    }
  } else if (auto* a = v.if_array()) {
    for (auto& x : *a) scrub(x);
  }
}

}  // namespace

bool secret_name(std::string_view name) {
  std::string folded;
  folded.reserve(name.size());
  for (unsigned char c : name)
    if (c != '_' && c != '-' && c != '.') folded += static_cast<char>(std::tolower(c));
  for (auto w : kSecretWords)
    if (folded.find(w) != std::string::npos) return true;
  return false;
}

std::string redacted(const json::value& arguments) {
  json::value copy = arguments;
  scrub(copy);
  return json::serialize(copy);
}

}  // namespace gatehouse::mcp::audit
