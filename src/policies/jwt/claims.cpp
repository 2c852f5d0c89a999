#include "policies/jwt/claims.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace gatehouse::policy::jwt {

namespace {

enum class Num { kAbsent, kBad, kOk };

Num numeric_date(const boost::json::object& c, const char* name, double& out) {
  auto it = c.find(name);
  if (it == c.end()) return Num::kAbsent;
  const auto& v = it->value();
  if (v.is_int64())
    out = static_cast<double>(v.get_int64());
  else if (v.is_uint64())
    out = static_cast<double>(v.get_uint64());
  else if (v.is_double() && std::isfinite(v.get_double()))
    out = v.get_double();
  else
    return Num::kBad;
  return Num::kOk;
}

bool in(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string scalar_text(const boost::json::value& v) {
  if (const auto* s = v.if_string()) return std::string(s->data(), s->size());
  if (v.is_double()) {
    double d = v.get_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
      return std::to_string(static_cast<int64_t>(d));
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), d);
    return std::string(buf, r.ptr);
  }
  return boost::json::serialize(v);  // integers, booleans, null, objects
}

}  // namespace

std::optional<ClaimFailure> check_claims(const boost::json::object& claims, const ClaimRules& rules,
                                         double now_s) {
  for (const auto& name : rules.required)
    if (!claims.contains(name))
      return ClaimFailure{"missing_claim", "the token has no \"" + name + "\" claim"};

  double exp = 0, nbf = 0, iat = 0;
  Num has_exp = numeric_date(claims, "exp", exp);
  Num has_nbf = numeric_date(claims, "nbf", nbf);
  Num has_iat = numeric_date(claims, "iat", iat);
  for (auto [state, name] : {std::pair{has_exp, "exp"}, {has_nbf, "nbf"}, {has_iat, "iat"}})
    if (state == Num::kBad)
      return ClaimFailure{"malformed", std::string("\"") + name + "\" is not a NumericDate"};
  if (has_exp == Num::kOk && now_s >= exp + rules.clock_skew_s)
    return ClaimFailure{"expired", "the token has expired"};
  if (has_nbf == Num::kOk && now_s + rules.clock_skew_s < nbf)
    return ClaimFailure{"not_yet_valid", "the token is not valid yet (nbf)"};
  if (has_iat == Num::kOk && now_s + rules.clock_skew_s < iat)
    return ClaimFailure{"not_yet_valid", "the token was issued in the future (iat)"};

  if (!rules.issuers.empty()) {
    auto it = claims.find("iss");
    const boost::json::string* iss = it == claims.end() ? nullptr : it->value().if_string();
    if (!iss || !in(rules.issuers, std::string_view(iss->data(), iss->size())))
      return ClaimFailure{"wrong_issuer", "the token issuer is not accepted"};
  }
  if (!rules.audiences.empty()) {
    bool match = false;
    if (auto it = claims.find("aud"); it != claims.end()) {
      if (const auto* s = it->value().if_string()) {
        match = in(rules.audiences, std::string_view(s->data(), s->size()));
      } else if (const auto* arr = it->value().if_array()) {
        for (const auto& a : *arr)
          if (const auto* s2 = a.if_string(); s2 && in(rules.audiences, std::string_view(*s2)))
            match = true;
      }
    }
    if (!match) return ClaimFailure{"wrong_audience", "the token is not meant for this audience"};
  }
  if (rules.max_lifetime_s > 0) {
    if (has_exp != Num::kOk)
      return ClaimFailure{"missing_claim", "the token has no \"exp\" claim (max_lifetime is set)"};
    double from = has_iat == Num::kOk ? iat : now_s;
    if (exp - from > rules.max_lifetime_s)
      return ClaimFailure{"lifetime_too_long", "the token lives longer than max_lifetime allows"};
  }
  return std::nullopt;
}

void export_claims(const boost::json::object& claims,
                   std::unordered_map<std::string, std::string>& vars) {
  for (const auto& kv : claims) {
    std::string value;
    if (const auto* arr = kv.value().if_array()) {
      bool scalars = std::all_of(arr->begin(), arr->end(), [](const boost::json::value& v) {
        return !v.is_array() && !v.is_object();
      });
      if (scalars) {
        for (const auto& v : *arr) {
          if (!value.empty()) value += ' ';
          value += scalar_text(v);
        }
      } else {
        value = boost::json::serialize(kv.value());
      }
    } else {
      value = scalar_text(kv.value());
    }
    vars["jwt." + std::string(kv.key())] = std::move(value);
  }
}

}  // namespace gatehouse::policy::jwt
