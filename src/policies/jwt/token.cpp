#include "policies/jwt/token.hpp"

#include <boost/json/parse.hpp>

#include "common/json.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::policy::jwt {

namespace {

bool b64url_chars(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool decode_object(std::string_view segment, boost::json::object& out) {
  bool ok = false;
  std::string json = base64_decode(segment, true, &ok);
  if (!ok || json.empty()) return false;
  boost::system::error_code ec;
  boost::json::value v = parse_json(json, ec);
  if (ec || !v.is_object()) return false;
  out = std::move(v.get_object());
  return true;
}

}  // namespace

bool parse_token(std::string_view raw, Token& out, std::string& why) {
  if (raw.size() > kMaxTokenBytes) {
    why = "the token is longer than " + std::to_string(kMaxTokenBytes) + " bytes";
    return false;
  }
  size_t d1 = raw.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : raw.find('.', d1 + 1);
  if (d2 == std::string_view::npos || raw.find('.', d2 + 1) != std::string_view::npos) {
    why = "a JWT has three dot-separated parts";
    return false;
  }
  std::string_view h = raw.substr(0, d1), p = raw.substr(d1 + 1, d2 - d1 - 1),
                   s = raw.substr(d2 + 1);
  // Padding and the standard alphabet are not allowed in JWS (RFC 7515 section 2).
  if (h.empty() || p.empty() || !b64url_chars(h) || !b64url_chars(p) || !b64url_chars(s)) {
    why = "the token is not base64url";
    return false;
  }
  if (!decode_object(h, out.header)) {
    why = "the token header is not a JSON object";
    return false;
  }
  if (!decode_object(p, out.claims)) {
    why = "the token payload is not a JSON object";
    return false;
  }
  bool ok = false;
  out.signature = base64_decode(s, true, &ok);
  if (!ok) {
    why = "the token signature is not base64url";
    return false;
  }
  out.signing_input = raw.substr(0, d2);
  auto alg = out.header.find("alg");
  const boost::json::string* a = alg == out.header.end() ? nullptr : alg->value().if_string();
  if (!a) {
    why = "the token header has no \"alg\"";
    return false;
  }
  out.alg.assign(a->data(), a->size());
  if (auto kid = out.header.find("kid"); kid != out.header.end()) {
    const boost::json::string* k = kid->value().if_string();
    if (!k) {
      why = "the token header \"kid\" is not a string";
      return false;
    }
    out.kid.assign(k->data(), k->size());
  }
  // RFC 7515 4.1.11: extensions we do not understand must make us reject.
  if (out.header.contains("crit")) {
    why = "the token header has \"crit\" extensions, none are supported";
    return false;
  }
  return true;
}

}  // namespace gatehouse::policy::jwt
