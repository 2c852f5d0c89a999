// jwt: authenticates requests carrying a signed JSON Web Token (RFC 7519,
// JWS compact form). Keys come from consumer credentials (the token's "kid"
// header or "iss" claim names the credential, and so the consumer) or from
// the policy itself (`keys`, inline `jwks`; the consumer then comes from a
// claim). Verified claims are handed to later policies in ctx.vars.
#include <boost/url/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <unordered_map>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/jwt/claims.hpp"
#include "policies/jwt/jwks.hpp"
#include "policies/jwt/jwks_remote.hpp"
#include "policies/jwt/key.hpp"
#include "policies/jwt/token.hpp"
#include "policies/authenticator.hpp"
#include "policies/policy.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

using jwt::Alg;
using jwt::Key;

struct CredentialKey {
  size_t consumer = 0;
  std::shared_ptr<const Key> key;
};

struct JwtIndex {
  std::unordered_map<std::string, CredentialKey> by_key;  // credential "key" -> key
  std::optional<Error> problem;                           // first bad credential
};

// Loads a key from "algorithm" plus "secret" or "public_key"; `where` is the
// error prefix. Shared by consumer credentials and policy-level `keys`.
Result<std::shared_ptr<const Key>> load_key(const std::string& algorithm, const std::string* secret,
                                            const std::string* public_key, std::string& field) {
  auto alg = jwt::alg_from_name(algorithm);
  if (!alg) {
    field = "algorithm";
    return make_error("invalid_value",
                      "unsupported algorithm '" + algorithm +
                          "' (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)",
                      {}, 0, ErrorSide::kConfig);
  }
  if ((secret != nullptr) == (public_key != nullptr)) {
    field = "";
    return make_error("invalid_value", "a jwt key needs exactly one of secret and public_key", {},
                      0, ErrorSide::kConfig);
  }
  field = secret ? "secret" : "public_key";
  return secret ? Key::from_secret(*alg, *secret) : Key::from_pem(*alg, *public_key);
}

std::shared_ptr<const JwtIndex> build_index(const ConsumerSet& set) {
  auto idx = std::make_shared<JwtIndex>();
  const auto& cfgs = set.configs();
  auto fail = [&](Error e) {
    if (!idx->problem) idx->problem = std::move(e);
  };
  for (size_t i = 0; i < cfgs.size(); ++i) {
    for (size_t j = 0; j < cfgs[i].credentials.size(); ++j) {
      const auto& cred = cfgs[i].credentials[j];
      auto t = cred.find("type");
      if (t == cred.end() || t->second != "jwt") continue;
      for (const auto& [k, v] : cred) {
        if (k != "type" && k != "key" && k != "algorithm" && k != "secret" && k != "public_key")
          fail(credential_error(cfgs[i], i, j, k, "unknown_field",
                                "unknown field '" + k + "' in a jwt credential"));
      }
      auto k = cred.find("key");
      if (k == cred.end() || k->second.empty()) {
        fail(credential_error(cfgs[i], i, j, "key", "missing_field",
                              "a jwt credential needs a key (the token's kid or iss)"));
        continue;
      }
      auto a = cred.find("algorithm");
      auto s = cred.find("secret");
      auto p = cred.find("public_key");
      std::string field;
      auto key =
          load_key(a == cred.end() ? "HS256" : a->second, s == cred.end() ? nullptr : &s->second,
                   p == cred.end() ? nullptr : &p->second, field);
      if (!key) {
        fail(credential_error(cfgs[i], i, j, field, key.error().code, key.error().message));
        continue;
      }
      if (!idx->by_key.emplace(k->second, CredentialKey{i, key.value()}).second)
        fail(credential_error(cfgs[i], i, j, "key", "duplicate_credential",
                              "jwt key '" + k->second + "' is used by another credential"));
    }
  }
  return idx;
}

enum class Source { kHeader, kQuery, kCookie };

struct Found {
  std::string token;
  Source source = Source::kHeader;
  std::string name;
};

// RFC 6750 error_description: %x20-21 / %x23-5B / %x5D-7E only.
std::string description_safe(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"')
      c = '\'';
    else if (u < 0x20 || u > 0x7e || c == '\\')
      c = '?';
  }
  return out;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class JwtPolicy final : public Authenticator {
 public:
  std::vector<std::string> header_names;
  std::vector<std::string> query_names;
  std::vector<std::string> cookie_names;
  bool hide_credentials = true;
  const Consumer* anonymous = nullptr;
  const JwtIndex* index = nullptr;
  std::unordered_map<std::string, std::shared_ptr<const Key>> policy_keys;  // kid -> key
  std::shared_ptr<jwt::RemoteJwks> remote;  // jwks_uri, when configured
  std::string consumer_claim;
  jwt::ClaimRules rules;
  std::string realm_attr;  // realm="..."

  std::string_view name() const override { return "jwt"; }

 private:
  Action authenticate(RequestContext& ctx, Respond& out) const override {
    Found found;
    if (!find_token(ctx, found)) {
      if (anonymous) {
        ctx.consumer = anonymous;
        return Action::kContinue;
      }
      out.status = 401;
      out.code = "missing_token";
      out.detail = "no bearer token in the request";
      out.headers.push_back({"WWW-Authenticate", "Bearer " + realm_attr});
      return Action::kRespond;
    }

    jwt::Token token;
    std::string why;
    if (!jwt::parse_token(found.token, token, why)) return invalid(out, "malformed", why);
    auto alg = jwt::alg_from_name(token.alg);
    if (!alg)
      return invalid(out, "unsupported_alg", "algorithm '" + token.alg + "' is not accepted");

    // Which key: a consumer credential named by kid, then by iss; then a
    // policy key by kid (or the only one, for tokens without kid).
    const CredentialKey* cred = nullptr;
    const Key* key = nullptr;
    std::string key_id;
    if (!token.kid.empty()) cred = lookup_credential(token.kid, key_id);
    if (!cred) {
      if (auto iss = token.claims.find("iss"); iss != token.claims.end())
        if (const auto* s = iss->value().if_string()) cred = lookup_credential(*s, key_id);
    }
    if (cred) {
      key = cred->key.get();
    } else if (auto it = policy_keys.find(token.kid); it != policy_keys.end()) {
      key = it->second.get();
      key_id = token.kid;
    } else if (token.kid.empty() && policy_keys.size() == 1) {
      key = policy_keys.begin()->second.get();
      key_id = policy_keys.begin()->first;
    }
    // Keys from jwks_uri; held for the rest of this call, since a refresh
    // may replace the set meanwhile.
    std::shared_ptr<const jwt::KeyMap> remote_keys;
    if (!key && !cred && remote) {
      remote_keys = remote->keys();
      if (remote_keys) {
        if (auto it = remote_keys->find(token.kid); it != remote_keys->end()) {
          key = it->second.get();
          key_id = token.kid;
        } else if (token.kid.empty() && remote_keys->size() == 1) {
          key = remote_keys->begin()->second.get();
          key_id = remote_keys->begin()->first;
        }
      }
      // An unknown kid may be a key the issuer just rotated in.
      if (!key) remote->request_refresh();
    }
    if (!key) return invalid(out, "unknown_key", "no key matches the token's kid or iss");
    if (*alg != key->alg())
      return invalid(out, "unsupported_alg",
                     "algorithm " + token.alg + " is not the key's (" +
                         std::string(jwt::alg_name(key->alg())) + ")");
    if (!key->verify(token.signing_input, token.signature))
      return invalid(out, "bad_signature", "the token signature does not verify");
    if (auto failure = jwt::check_claims(token.claims, rules, wall_seconds()))
      return invalid(out, failure->reason, failure->text);

    const Consumer* consumer = nullptr;
    if (cred) {
      consumer = &ctx.consumers->all()[cred->consumer];
    } else if (!consumer_claim.empty()) {
      auto c = token.claims.find(consumer_claim);
      const boost::json::string* v = c == token.claims.end() ? nullptr : c->value().if_string();
      if (v) consumer = ctx.consumers->find(std::string_view(v->data(), v->size()));
      if (!consumer)
        return invalid(out, "unknown_consumer",
                       "the \"" + consumer_claim + "\" claim names no known consumer");
    }
    // Without a consumer mapping the request is authenticated but anonymous
    // to consumer-scoped policies; the claims still reach them through vars.
    ctx.consumer = consumer;
    ctx.credential_id = "jwt:" + key_id;
    // An identity provider's key serves many subjects: the subject is the
    // credential (per-credential rate limits must not lump them together).
    if (!cred) {
      if (auto sub = token.claims.find("sub"); sub != token.claims.end())
        if (const auto* s = sub->value().if_string())
          ctx.credential_id += "/" + std::string(s->data(), s->size());
    }
    jwt::export_claims(token.claims, ctx.vars);
    if (hide_credentials) hide(ctx, found);
    return Action::kContinue;
  }

  const CredentialKey* lookup_credential(std::string_view name, std::string& key_id) const {
    auto it = index->by_key.find(std::string(name));
    if (it == index->by_key.end()) return nullptr;
    key_id = it->first;
    return &it->second;
  }

  bool find_token(const RequestContext& ctx, Found& f) const {
    for (const auto& n : header_names) {
      for (const auto& h : ctx.head->headers) {
        if (!iequals(h.name, n)) continue;
        std::string_view v = trim_ows(h.value);
        bool bearer =
            v.size() > 7 && iequals(v.substr(0, 6), "Bearer") && (v[6] == ' ' || v[6] == '\t');
        // Authorization carries other schemes too (Basic, hmac): not ours.
        if (iequals(n, "Authorization") && !bearer) continue;
        if (bearer) v = trim_ows(v.substr(7));
        if (v.empty()) continue;
        f = {std::string(v), Source::kHeader, n};
        return true;
      }
    }
    std::string_view q = ctx.query_overridden ? std::string_view(ctx.query_override)
                                              : std::string_view(ctx.target->query);
    for (const auto& n : query_names) {
      if (auto v = query_param(q, n); v && !v->empty()) {
        f = {std::move(*v), Source::kQuery, n};
        return true;
      }
    }
    for (const auto& n : cookie_names) {
      for (const auto& h : ctx.head->headers) {
        if (!iequals(h.name, "Cookie")) continue;
        if (auto v = cookie_value(h.value, n); v && !v->empty()) {
          f = {std::string(*v), Source::kCookie, n};
          return true;
        }
      }
    }
    return false;
  }

  // Cookie: a=b; c=d (RFC 6265 section 4.2.1); names are case-sensitive.
  static std::optional<std::string_view> cookie_value(std::string_view header,
                                                      std::string_view name) {
    while (!header.empty()) {
      size_t semi = header.find(';');
      std::string_view pair = trim_ows(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trim_ows(pair.substr(0, eq)) == name) {
        std::string_view v = trim_ows(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
      }
    }
    return std::nullopt;
  }

  void hide(RequestContext& ctx, const Found& f) const {
    auto& hs = ctx.head->headers;
    if (f.source == Source::kHeader) {
      std::erase_if(hs, [&](const http1::Header& h) { return iequals(h.name, f.name); });
    } else if (f.source == Source::kQuery) {
      std::string_view q = ctx.query_overridden ? std::string_view(ctx.query_override)
                                                : std::string_view(ctx.target->query);
      ctx.query_override = remove_query_param(q, f.name);
      ctx.query_overridden = true;
    } else {
      for (auto& h : hs) {
        if (!iequals(h.name, "Cookie")) continue;
        std::string kept;
        std::string_view rest = h.value;
        while (!rest.empty()) {
          size_t semi = rest.find(';');
          std::string_view pair = trim_ows(rest.substr(0, semi));
          rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
          size_t eq = pair.find('=');
          if (pair.empty() ||
              (eq != std::string_view::npos && trim_ows(pair.substr(0, eq)) == f.name))
            continue;
          if (!kept.empty()) kept += "; ";
          kept += pair;
        }
        h.value = std::move(kept);
      }
      std::erase_if(
          hs, [](const http1::Header& h) { return iequals(h.name, "Cookie") && h.value.empty(); });
    }
  }

  Action invalid(Respond& out, std::string_view reason, std::string_view text) const {
    out.status = 401;
    out.code = "invalid_token";
    out.detail = std::string(reason) + ": " + std::string(text);
    out.headers.push_back(
        {"WWW-Authenticate", "Bearer " + realm_attr +
                                 ", error=\"invalid_token\", error_description=\"" +
                                 description_safe(out.detail) + "\""});
    return Action::kRespond;
  }
};

// YAML mapping -> JSON, so `jwks:` may be written as YAML as well as a JSON
// string. JWK members are all strings, so scalars become strings.
boost::json::value yaml_to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    boost::json::object o;
    for (const auto& kv : n) o[kv.first.as<std::string>("")] = yaml_to_json(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    boost::json::array a;
    for (const auto& x : n) a.push_back(yaml_to_json(x));
    return a;
  }
  if (n.IsScalar()) return boost::json::string(n.Scalar());
  return nullptr;
}

void read_keys(ConfigReader& cr, JwtPolicy& p) {
  YAML::Node keys = cr.node("keys");
  if (!keys) return;
  if (!keys.IsSequence()) {
    cr.fail("keys", "invalid_type", "expected a list of {kid, algorithm, public_key | secret}");
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string at = "keys[" + std::to_string(i) + "]";
    const YAML::Node& k = keys[i];
    if (!k.IsMap()) {
      cr.fail(at, "invalid_type", "expected a mapping");
      continue;
    }
    std::map<std::string, std::string> f;
    bool ok = true;
    for (const auto& kv : k) {
      std::string name = kv.first.as<std::string>("");
      if (name != "kid" && name != "algorithm" && name != "public_key" && name != "secret") {
        cr.fail(at + "." + name, "unknown_field", "unknown field '" + name + "'");
        ok = false;
      } else if (!kv.second.IsScalar()) {
        cr.fail(at + "." + name, "invalid_type", "expected a string");
        ok = false;
      } else {
        f[name] = kv.second.Scalar();
      }
    }
    if (!ok) continue;
    if (f["kid"].empty()) {
      cr.fail(at + ".kid", "missing_field", "each key needs a kid");
      continue;
    }
    if (!f.count("algorithm")) {
      cr.fail(at + ".algorithm", "missing_field", "each key needs an algorithm");
      continue;
    }
    auto s = f.find("secret");
    auto pk = f.find("public_key");
    std::string field;
    auto key = load_key(f["algorithm"], s == f.end() ? nullptr : &s->second,
                        pk == f.end() ? nullptr : &pk->second, field);
    if (!key) {
      cr.fail(field.empty() ? at : at + "." + field, key.error().code, key.error().message);
      continue;
    }
    if (!p.policy_keys.emplace(f["kid"], key.value()).second)
      cr.fail(at + ".kid", "duplicate_key", "kid '" + f["kid"] + "' is defined twice");
  }
}

void read_jwks(ConfigReader& cr, JwtPolicy& p) {
  YAML::Node n = cr.node("jwks");
  if (!n) return;
  if (!n.IsScalar() && !n.IsMap()) {
    cr.fail("jwks", "invalid_type", "expected a JWKS as a JSON string or a mapping");
    return;
  }
  auto keys = n.IsScalar() ? jwt::parse_jwks(std::string_view(n.Scalar()))
                           : jwt::parse_jwks(yaml_to_json(n));
  if (!keys) {
    cr.fail("jwks", "invalid_value", keys.error().message);
    return;
  }
  for (auto& k : keys.value()) {
    if (!p.policy_keys.emplace(k.kid, k.key).second)
      cr.fail("jwks", "duplicate_key", "kid '" + k.kid + "' is defined twice");
  }
}

void read_jwks_uri(ConfigReader& cr, JwtPolicy& p) {
  auto uri = cr.opt_str("jwks_uri");
  if (!uri) {
    for (const char* k : {"jwks_refresh", "jwks_timeout", "jwks_ca_file"})
      if (cr.has(k)) cr.fail(k, "invalid_value", std::string(k) + " needs jwks_uri");
    return;
  }
  jwt::RemoteJwksOptions opt;
  opt.url = *uri;
  auto u = boost::urls::parse_absolute_uri(opt.url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty()) {
    cr.fail("jwks_uri", "invalid_value", "jwks_uri must be an absolute http:// or https:// URL");
    return;
  }
  opt.refresh_ms = cr.duration_ms("jwks_refresh", 300'000, 1000);
  opt.timeout_ms = cr.duration_ms("jwks_timeout", 5'000, 100);
  opt.ca_file = cr.str("jwks_ca_file");
  if (!cr.ok()) return;
  p.remote = jwt::RemoteJwks::get(opt);
  // The first fetch of a new URL is awaited here, on the control thread
  // building the snapshot, so the first requests find keys. A failure is not
  // a config error (the issuer may be down); it is logged and retried.
  p.remote->wait_first(opt.timeout_ms + 500);
}

}  // namespace

void register_jwt(Registry& r) {
  r.add("jwt",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"header_names", "query_names", "cookie_names", "hide_credentials",
                         "anonymous", "realm", "keys", "jwks", "jwks_uri", "jwks_refresh",
                         "jwks_timeout", "jwks_ca_file", "consumer_claim", "clock_skew",
                         "issuers", "audiences", "required_claims", "max_lifetime"});
          auto p = std::make_shared<JwtPolicy>();
          p->header_names = cr.has("header_names") ? cr.strings("header_names")
                                                   : std::vector<std::string>{"Authorization"};
          p->query_names = cr.strings("query_names");
          p->cookie_names = cr.strings("cookie_names");
          if (p->header_names.empty() && p->query_names.empty() && p->cookie_names.empty())
            cr.fail("header_names", "invalid_value",
                    "at least one header, query or cookie name is needed");
          p->hide_credentials = cr.boolean("hide_credentials", true);
          p->realm_attr = read_realm_attr(cr);
          p->anonymous = read_anonymous(cr, ctx);
          read_keys(cr, *p);
          read_jwks(cr, *p);
          read_jwks_uri(cr, *p);
          p->consumer_claim = cr.str("consumer_claim");
          if (cr.has("consumer_claim") && p->consumer_claim.empty())
            cr.fail("consumer_claim", "invalid_value", "consumer_claim must name a claim");
          if (!p->consumer_claim.empty() && p->policy_keys.empty() && !p->remote)
            cr.fail("consumer_claim", "invalid_value",
                    "consumer_claim applies to policy keys (keys, jwks or jwks_uri); none are "
                    "configured");
          p->rules.clock_skew_s =
              static_cast<double>(cr.duration_ms("clock_skew", 60'000, 0)) / 1000.0;
          p->rules.issuers = cr.strings("issuers");
          p->rules.audiences = cr.strings("audiences");
          p->rules.required = cr.strings("required_claims");
          p->rules.max_lifetime_s =
              static_cast<double>(cr.duration_ms("max_lifetime", 0, 1000)) / 1000.0;
          if (auto r2 = cr.finish(); !r2) return r2.error();
          p->index = ctx.consumers->index<JwtIndex>("jwt", build_index);
          if (p->index->problem) return *p->index->problem;
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
