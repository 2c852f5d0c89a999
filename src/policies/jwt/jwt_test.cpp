#include <gtest/gtest.h>

#include "policies/jwt/test_support.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_jwt(Registry& r);
}

namespace gatehouse::policy {
namespace {

using config::ConsumerConfig;
using namespace jwt::testing;  // NOLINT

const std::string kAliceSecret = "alice-secret-that-is-32-bytes-long!";
const std::string kPolicySecret(48, 'p');

EVP_PKEY* bob_rsa() {
  static Pkey k = rsa_key();
  return k.get();
}
EVP_PKEY* idp_rsa() {
  static Pkey k = rsa_key();
  return k.get();
}
EVP_PKEY* idp_ec() {
  static Pkey k = ec_key("P-256");
  return k.get();
}
EVP_PKEY* idp_ed() {
  static Pkey k = ed25519_key();
  return k.get();
}

ConsumerConfig consumer(std::string name, std::vector<std::map<std::string, std::string>> creds) {
  ConsumerConfig c;
  c.name = std::move(name);
  c.credentials = std::move(creds);
  return c;
}

std::vector<ConsumerConfig> default_consumers() {
  return {
      consumer("alice", {{{"type", "jwt"},
                          {"key", "https://alice.example"},
                          {"algorithm", "HS256"},
                          {"secret", kAliceSecret}}}),
      consumer("bob", {{{"type", "jwt"},
                        {"key", "bob-rsa"},
                        {"algorithm", "RS256"},
                        {"public_key", public_pem(bob_rsa())}},
                       {{"type", "basic-auth"}, {"username", "bob"}, {"password", "x"}}}),
      consumer("carol", {}),
      consumer("guest", {}),
  };
}

// A YAML block scalar for multi-line values (PEM, JSON).
std::string block(const std::string& text, int indent) {
  std::string pad(static_cast<size_t>(indent), ' ');
  std::string out = "|\n";
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out += pad + text.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  return out;
}

// Policy-level keys: an RS256 PEM key, an ES256 and an Ed25519 key from a
// JWKS, and an HS384 secret.
std::string policy_keys_yaml() {
  std::string jwks =
      "{\"keys\":[" + ec_jwk(idp_ec(), "ec1") + "," + okp_jwk(idp_ed(), "ed1") + "]}";
  return "keys:\n"
         "  - kid: rsa1\n"
         "    algorithm: RS256\n"
         "    public_key: " +
         block(public_pem(idp_rsa()), 6) + "  - {kid: hs1, algorithm: HS384, secret: \"" +
         kPolicySecret +
         "\"}\n"
         "jwks: '" +
         jwks +
         "'\n"
         "consumer_claim: sub\n";
}

struct Fixture {
  std::shared_ptr<const ConsumerSet> consumers;
  std::shared_ptr<const Policy> policy;
  Error error;
};

Fixture make(const std::string& yaml, std::vector<ConsumerConfig> cs = default_consumers()) {
  register_jwt(Registry::instance());
  Fixture f;
  auto set = build_consumers(cs);
  EXPECT_TRUE(set.ok());
  f.consumers = set.value();
  BuildContext b;
  b.consumers = f.consumers.get();
  b.workers = 2;
  b.field = "routes[1].policies[0]";
  config::PolicyRef ref;
  ref.name = "jwt";
  ref.config_yaml = yaml;
  auto p = compile(ref, b);
  if (p)
    f.policy = p.value();
  else
    f.error = p.error();
  return f;
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Respond out;

  Req(const Fixture& f, std::vector<http1::Header> headers, std::string query = "") {
    head.method = "GET";
    head.target = "/orders" + (query.empty() ? "" : "?" + query);
    head.headers = std::move(headers);
    head.headers.push_back({"Host", "api.test"});
    target.path = "/orders";
    target.query = std::move(query);
    ctx.head = &head;
    ctx.target = &target;
    ctx.consumers = f.consumers.get();
  }
  Action run(const Fixture& f) { return f.policy->on_request(ctx, out); }
  const std::string* header(std::string_view n) const { return head.find(n); }
  const std::string* www() const {
    for (const auto& h : out.headers)
      if (h.name == "WWW-Authenticate") return &h.value;
    return nullptr;
  }
};

std::string claims(const std::string& extra = "") {
  std::string c = "{\"sub\":\"carol\",\"exp\":" + std::to_string(now_s() + 600) +
                  ",\"iat\":" + std::to_string(now_s());
  return c + (extra.empty() ? "" : "," + extra) + "}";
}

std::string alice_token(const std::string& payload_extra = "",
                        const std::string& header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                        const std::string& secret = kAliceSecret) {
  return make_token(header,
                    claims("\"iss\":\"https://alice.example\"" +
                           (payload_extra.empty() ? "" : "," + payload_extra)),
                    [&](const std::string& in) { return hmac_sign("HS256", secret, in); });
}

std::string signed_by(const std::string& alg, EVP_PKEY* k, const std::string& kid,
                      const std::string& payload = claims()) {
  std::string header =
      "{\"alg\":\"" + alg + "\"" + (kid.empty() ? "" : ",\"kid\":\"" + kid + "\"") + "}";
  return make_token(header, payload, [&](const std::string& in) { return pkey_sign(alg, k, in); });
}

std::string bearer(const std::string& t) {
  return "Bearer " + t;
}

void expect_invalid(Req& r, const Fixture& f, const std::string& reason) {
  ASSERT_EQ(r.run(f), Action::kRespond) << reason;
  EXPECT_EQ(r.out.status, 401);
  EXPECT_EQ(r.out.code, "invalid_token") << r.out.detail;
  EXPECT_EQ(r.out.detail.substr(0, reason.size() + 1), reason + ":") << r.out.detail;
  ASSERT_TRUE(r.www());
  EXPECT_EQ(r.www()->rfind("Bearer realm=\"gatehouse\", error=\"invalid_token\", "
                           "error_description=\"" +
                               reason + ": ",
                           0),
            0u)
      << *r.www();
  EXPECT_EQ(r.ctx.consumer, nullptr);
  EXPECT_TRUE(r.ctx.vars.empty());
}

TEST(Jwt, ConsumerSecretMatchedByIssuer) {
  auto f = make("");
  ASSERT_TRUE(f.policy) << f.error.message;
  EXPECT_EQ(f.policy->name(), "jwt");
  EXPECT_EQ(f.policy->phase(), Phase::kAuthn);
  Req r(f, {{"Authorization", bearer(alice_token("\"scope\":\"orders:read orders:write\""))}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.detail;
  ASSERT_TRUE(r.ctx.consumer);
  EXPECT_EQ(r.ctx.consumer->name, "alice");
  EXPECT_EQ(r.ctx.credential_id, "jwt:https://alice.example");
  EXPECT_EQ(r.ctx.vars["jwt.sub"], "carol");  // the credential decides, not sub
  EXPECT_EQ(r.ctx.vars["jwt.iss"], "https://alice.example");
  EXPECT_EQ(r.ctx.vars["jwt.scope"], "orders:read orders:write");
  EXPECT_FALSE(r.header("Authorization"));
  EXPECT_TRUE(r.header("Host"));
}

TEST(Jwt, ConsumerPublicKeyMatchedByKid) {
  auto f = make("");
  Req r(f, {{"authorization", "bearer   " + signed_by("RS256", bob_rsa(), "bob-rsa") + " "}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.detail;
  EXPECT_EQ(r.ctx.consumer->name, "bob");
  EXPECT_EQ(r.ctx.credential_id, "jwt:bob-rsa");
}

TEST(Jwt, PolicyKeysFindConsumerFromClaim) {
  auto f = make(policy_keys_yaml());
  ASSERT_TRUE(f.policy) << f.error.message;
  for (const auto& token :
       {signed_by("RS256", idp_rsa(), "rsa1"), signed_by("ES256", idp_ec(), "ec1"),
        signed_by("EdDSA", idp_ed(), "ed1"),
        make_token("{\"alg\":\"HS384\",\"kid\":\"hs1\"}", claims(),
                   [](const std::string& in) { return hmac_sign("HS384", kPolicySecret, in); })}) {
    Req r(f, {{"Authorization", bearer(token)}});
    ASSERT_EQ(r.run(f), Action::kContinue) << r.out.detail;
    EXPECT_EQ(r.ctx.consumer->name, "carol");
    EXPECT_EQ(r.ctx.vars["jwt.sub"], "carol");
    EXPECT_EQ(r.ctx.credential_id.rfind("jwt:", 0), 0u);
    EXPECT_EQ(r.ctx.credential_id.substr(r.ctx.credential_id.size() - 6), "/carol");
  }
}

TEST(Jwt, PssAndJwksYamlMapping) {
  std::string yaml = "jwks:\n  keys:\n    - {kty: RSA, kid: ps, alg: PS256, n: \"" +
                     b64u(bn_param(idp_rsa(), OSSL_PKEY_PARAM_RSA_N)) + "\", e: \"" +
                     b64u(bn_param(idp_rsa(), OSSL_PKEY_PARAM_RSA_E)) + "\"}\n";
  auto f = make(yaml);
  ASSERT_TRUE(f.policy) << f.error.message;
  Req r(f, {{"Authorization", bearer(signed_by("PS256", idp_rsa(), "ps"))}});
  ASSERT_EQ(r.run(f), Action::kContinue) << r.out.detail;
  // No consumer_claim: authenticated, claims exported, no consumer.
  EXPECT_EQ(r.ctx.consumer, nullptr);
  EXPECT_EQ(r.ctx.credential_id, "jwt:ps/carol");
  EXPECT_EQ(r.ctx.vars["jwt.sub"], "carol");
  // The only policy key also serves tokens without a kid.
  Req nokid(f, {{"Authorization", bearer(signed_by("PS256", idp_rsa(), ""))}});
  EXPECT_EQ(nokid.run(f), Action::kContinue) << nokid.out.detail;
}

TEST(Jwt, MissingToken) {
  auto f = make("");
  for (auto headers : std::vector<std::vector<http1::Header>>{{},
                                                              {{"Authorization", "Basic Ym9iOng="}},
                                                              {{"Authorization", "Bearer"}},
                                                              {{"Authorization", "Bearer    "}},
                                                              {{"X-Token", "abc"}}}) {
    Req r(f, headers, "jwt=abc");  // query names are off by default
    ASSERT_EQ(r.run(f), Action::kRespond);
    EXPECT_EQ(r.out.status, 401);
    EXPECT_EQ(r.out.code, "missing_token");
    ASSERT_TRUE(r.www());
    EXPECT_EQ(*r.www(), "Bearer realm=\"gatehouse\"");  // RFC 6750 3.1: no error code
  }
}

TEST(Jwt, AnonymousOnlyWithoutToken) {
  auto f = make("anonymous: guest\nrealm: shop\n");
  Req none(f, {{"Authorization", "Basic Ym9iOng="}});
  ASSERT_EQ(none.run(f), Action::kContinue);
  EXPECT_EQ(none.ctx.consumer->name, "guest");
  EXPECT_TRUE(none.header("Authorization"));  // someone else's credentials: untouched
  Req bad(
      f, {{"Authorization", bearer(alice_token("", "{\"alg\":\"HS256\"}", std::string(40, 'z')))}});
  ASSERT_EQ(bad.run(f), Action::kRespond);
  EXPECT_EQ(bad.out.code, "invalid_token");
  EXPECT_EQ(bad.www()->rfind("Bearer realm=\"shop\", error=\"invalid_token\"", 0), 0u);
}

TEST(Jwt, InvalidTokens) {
  auto f = make(policy_keys_yaml() + "issuers: [\"https://alice.example\", idp]\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  std::string h = b64u("{\"alg\":\"HS256\"}");
  struct Case {
    std::string token;
    std::string reason;
  };
  std::string rs_pem = public_pem(idp_rsa());
  for (const auto& c : std::vector<Case>{
           {"abc.def", "malformed"},
           {h + ".!!!.x", "malformed"},
           {b64u("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}") + "." + b64u("{}") + ".c2ln",
            "malformed"},
           {b64u("{\"alg\":\"none\"}") + "." + b64u(claims("\"iss\":\"idp\"")) + ".",
            "unsupported_alg"},
           {b64u("{\"alg\":\"HS1\"}") + "." + b64u(claims()) + ".c2ln", "unsupported_alg"},
           // Algorithm confusion: HS256 "signed" with the RSA public key as the secret.
           {make_token("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", claims("\"iss\":\"idp\""),
                       [&](const std::string& in) { return hmac_sign("HS256", rs_pem, in); }),
            "unsupported_alg"},
           {signed_by("PS256", idp_rsa(), "rsa1", claims("\"iss\":\"idp\"")), "unsupported_alg"},
           {signed_by("RS256", idp_rsa(), "nope", claims("\"iss\":\"idp\"")), "unknown_key"},
           {signed_by("RS256", idp_rsa(), "", claims("\"iss\":\"idp\"")), "unknown_key"},
           {signed_by("RS256", bob_rsa(), "rsa1", claims("\"iss\":\"idp\"")), "bad_signature"},
           {alice_token("", "{\"alg\":\"HS256\"}", std::string(40, 'z')), "bad_signature"},
           {signed_by("ES256", idp_ec(), "ec1",
                      "{\"sub\":\"carol\",\"iss\":\"idp\",\"exp\":" +
                          std::to_string(now_s() - 120) + "}"),
            "expired"},
           {signed_by("EdDSA", idp_ed(), "ed1",
                      claims("\"iss\":\"idp\",\"nbf\":" + std::to_string(now_s() + 300))),
            "not_yet_valid"},
           {signed_by("RS256", idp_rsa(), "rsa1", claims("\"iss\":\"evil\"")), "wrong_issuer"},
           {signed_by("RS256", idp_rsa(), "rsa1", claims()), "wrong_issuer"},
           {signed_by(
                "RS256", idp_rsa(), "rsa1",
                "{\"sub\":\"dave\",\"iss\":\"idp\",\"exp\":" + std::to_string(now_s() + 60) + "}"),
            "unknown_consumer"},
           {signed_by("RS256", idp_rsa(), "rsa1", "{\"iss\":\"idp\",\"sub\":7}"),
            "unknown_consumer"},
       }) {
    Req r(f, {{"Authorization", bearer(c.token)}});
    expect_invalid(r, f, c.reason);
    EXPECT_TRUE(r.header("Authorization"));  // untouched on failure
  }
}

TEST(Jwt, AudienceRequiredClaimsAndLifetime) {
  auto f =
      make("audiences: [orders]\nrequired_claims: [sub, exp]\nmax_lifetime: 1h\nclock_skew: 0s\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  Req ok(f, {{"Authorization", bearer(alice_token("\"aud\":[\"web\",\"orders\"]"))}});
  EXPECT_EQ(ok.run(f), Action::kContinue) << ok.out.detail;
  Req aud(f, {{"Authorization", bearer(alice_token("\"aud\":\"web\""))}});
  expect_invalid(aud, f, "wrong_audience");
  Req noaud(f, {{"Authorization", bearer(alice_token())}});
  expect_invalid(noaud, f, "wrong_audience");
  std::string no_exp = make_token(
      "{\"alg\":\"HS256\"}", "{\"iss\":\"https://alice.example\",\"aud\":\"orders\",\"sub\":\"a\"}",
      [](const std::string& in) { return hmac_sign("HS256", kAliceSecret, in); });
  Req missing(f, {{"Authorization", bearer(no_exp)}});
  expect_invalid(missing, f, "missing_claim");
  std::string long_lived =
      make_token("{\"alg\":\"HS256\"}",
                 "{\"iss\":\"https://alice.example\",\"aud\":\"orders\",\"sub\":\"a\",\"exp\":" +
                     std::to_string(now_s() + 7200) + "}",
                 [](const std::string& in) { return hmac_sign("HS256", kAliceSecret, in); });
  Req lifetime(f, {{"Authorization", bearer(long_lived)}});
  expect_invalid(lifetime, f, "lifetime_too_long");
}

TEST(Jwt, ClockSkewAllowsRecentlyExpired) {
  std::string payload =
      "{\"iss\":\"https://alice.example\",\"exp\":" + std::to_string(now_s() - 30) + "}";
  std::string t = make_token("{\"alg\":\"HS256\"}", payload, [](const std::string& in) {
    return hmac_sign("HS256", kAliceSecret, in);
  });
  auto lenient = make("");  // default skew 60s
  Req a(lenient, {{"Authorization", bearer(t)}});
  EXPECT_EQ(a.run(lenient), Action::kContinue) << a.out.detail;
  auto strict = make("clock_skew: 5s\n");
  Req b(strict, {{"Authorization", bearer(t)}});
  expect_invalid(b, strict, "expired");
}

TEST(Jwt, QueryAndCookieSourcesAreHidden) {
  auto f = make("header_names: [X-Token]\nquery_names: [jwt]\ncookie_names: [session]\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  std::string t = alice_token();
  Req q(f, {}, "a=1&jwt=" + t + "&b=2");
  ASSERT_EQ(q.run(f), Action::kContinue) << q.out.detail;
  EXPECT_EQ(q.ctx.consumer->name, "alice");
  EXPECT_TRUE(q.ctx.query_overridden);
  EXPECT_EQ(q.ctx.query_override, "a=1&b=2");

  Req c(f, {{"Cookie", "theme=dark; session=" + t + "; lang=en"}});
  ASSERT_EQ(c.run(f), Action::kContinue) << c.out.detail;
  ASSERT_TRUE(c.header("Cookie"));
  EXPECT_EQ(*c.header("Cookie"), "theme=dark; lang=en");
  Req only(f, {{"Cookie", "session=" + t}});
  ASSERT_EQ(only.run(f), Action::kContinue);
  EXPECT_FALSE(only.header("Cookie"));

  Req h(f, {{"X-Token", t}, {"Authorization", "Basic Ym9iOng="}});  // raw token, no scheme
  ASSERT_EQ(h.run(f), Action::kContinue) << h.out.detail;
  EXPECT_FALSE(h.header("X-Token"));
  EXPECT_TRUE(h.header("Authorization"));  // not a configured source
}

TEST(Jwt, KeepsTokenWhenNotHiding) {
  auto f = make("hide_credentials: false\n");
  Req r(f, {{"Authorization", bearer(alice_token())}});
  ASSERT_EQ(r.run(f), Action::kContinue);
  EXPECT_TRUE(r.header("Authorization"));
}

TEST(Jwt, EarlierAuthenticatorWins) {
  auto f = make("");
  Req r(f, {{"Authorization", "Bearer garbage"}});
  r.ctx.consumer = f.consumers->find("bob");
  r.ctx.credential_id = "basic-auth:bob";
  EXPECT_EQ(r.run(f), Action::kContinue);
  EXPECT_EQ(r.ctx.consumer->name, "bob");
  // A consumer-less JWT authentication also counts as authenticated.
  auto g = make(policy_keys_yaml() + "hide_credentials: false\n");
  Req first(g, {{"Authorization", bearer(signed_by("RS256", idp_rsa(), "rsa1"))}});
  first.ctx.consumer = f.consumers->find("guest");  // an anonymous fallback is overridden
  ASSERT_EQ(first.run(g), Action::kContinue) << first.out.detail;
  EXPECT_EQ(first.ctx.consumer->name, "carol");
  EXPECT_EQ(first.run(f), Action::kContinue);  // a second jwt policy does not run again
}

TEST(Jwt, ErrorDescriptionIsHeaderSafe) {
  auto f = make("required_claims: [\"we\\\"ird\"]\n");
  ASSERT_TRUE(f.policy) << f.error.message;
  Req r(f, {{"Authorization", bearer(alice_token())}});
  ASSERT_EQ(r.run(f), Action::kRespond);
  std::string desc = r.www()->substr(r.www()->find("error_description=\"") + 19);
  desc.pop_back();  // closing quote
  EXPECT_EQ(desc.find('"'), std::string::npos) << desc;
  EXPECT_EQ(desc.find('\\'), std::string::npos) << desc;
}

TEST(Jwt, ConfigErrors) {
  Pkey small = rsa_key(1024);
  std::string rs_pem = block(public_pem(idp_rsa()), 6);
  struct Case {
    std::string yaml;
    std::string field;
    std::string code;
  };
  const std::string base = "routes[1].policies[0].config.";
  for (const auto& c : std::vector<Case>{
           {"issuer: [a]\n", base + "issuer", "unknown_field"},
           {"header_names: []\n", base + "header_names", "invalid_value"},
           {"clock_skew: soon\n", base + "clock_skew", "invalid_value"},
           {"max_lifetime: 0s\n", base + "max_lifetime", "invalid_value"},
           {"audiences: {a: b}\n", base + "audiences", "invalid_type"},
           {"anonymous: nobody\n", base + "anonymous", "unknown_consumer"},
           {"realm: ''\n", base + "realm", "invalid_value"},
           {"consumer_claim: sub\n", base + "consumer_claim", "invalid_value"},
           {"keys: {kid: a}\n", base + "keys", "invalid_type"},
           {"keys: [{kid: a, algorithm: RS256, public_key: x, extra: 1}]\n", base + "keys[0].extra",
            "unknown_field"},
           {"keys: [{algorithm: HS256, secret: \"" + kPolicySecret + "\"}]\n", base + "keys[0].kid",
            "missing_field"},
           {"keys: [{kid: a, secret: \"" + kPolicySecret + "\"}]\n", base + "keys[0].algorithm",
            "missing_field"},
           {"keys: [{kid: a, algorithm: none, secret: \"" + kPolicySecret + "\"}]\n",
            base + "keys[0].algorithm", "invalid_value"},
           {"keys: [{kid: a, algorithm: HS256, secret: short}]\n", base + "keys[0].secret",
            "invalid_value"},
           {"keys: [{kid: a, algorithm: HS256}]\n", base + "keys[0]", "invalid_value"},
           {"keys:\n  - kid: a\n    algorithm: HS256\n    public_key: " + rs_pem,
            base + "keys[0].public_key", "invalid_value"},
           {"keys:\n  - kid: a\n    algorithm: ES256\n    public_key: " + rs_pem,
            base + "keys[0].public_key", "invalid_value"},
           {"keys:\n  - kid: a\n    algorithm: RS256\n    public_key: " +
                block(public_pem(small.get()), 6),
            base + "keys[0].public_key", "invalid_value"},
           {"keys:\n  - kid: a\n    algorithm: RS256\n    public_key: " +
                block(private_pem(idp_rsa()), 6),
            base + "keys[0].public_key", "invalid_value"},
           {"keys:\n  - {kid: a, algorithm: HS256, secret: \"" + kPolicySecret +
                "\"}\n"
                "  - {kid: a, algorithm: HS384, secret: \"" +
                kPolicySecret + "\"}\n",
            base + "keys[1].kid", "duplicate_key"},
           {"jwks: '{\"keys\": ['\n", base + "jwks", "invalid_value"},
           {"jwks: [1, 2]\n", base + "jwks", "invalid_type"},
           {"jwks: '{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"}'\n",
            base + "jwks", "invalid_value"},
       }) {
    auto f = make(c.yaml);
    ASSERT_FALSE(f.policy) << c.yaml;
    EXPECT_EQ(f.error.field, c.field) << c.yaml << f.error.message;
    EXPECT_EQ(f.error.code, c.code) << c.yaml << f.error.message;
  }
}

TEST(Jwt, CredentialErrors) {
  using Cred = std::map<std::string, std::string>;
  struct Case {
    Cred cred;
    std::string field;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {{{"type", "jwt"}, {"secret", kAliceSecret}},
            "consumers[1].credentials[0].key",
            "missing_field"},
           {{{"type", "jwt"}, {"key", "k"}, {"secret", kAliceSecret}, {"secret_base64", "true"}},
            "consumers[1].credentials[0].secret_base64",
            "unknown_field"},
           {{{"type", "jwt"}, {"key", "k"}, {"algorithm", "RS999"}, {"secret", kAliceSecret}},
            "consumers[1].credentials[0].algorithm",
            "invalid_value"},
           {{{"type", "jwt"}, {"key", "k"}, {"secret", "short"}},
            "consumers[1].credentials[0].secret",
            "invalid_value"},
           {{{"type", "jwt"}, {"key", "k"}, {"algorithm", "RS256"}, {"public_key", "garbage"}},
            "consumers[1].credentials[0].public_key",
            "invalid_value"},
           {{{"type", "jwt"}, {"key", "k"}}, "consumers[1].credentials[0]", "invalid_value"},
           {{{"type", "jwt"}, {"key", "https://alice.example"}, {"secret", kAliceSecret}},
            "consumers[1].credentials[0].key",
            "duplicate_credential"},
       }) {
    auto cs = default_consumers();
    cs[1].credentials = {c.cred};
    auto f = make("", cs);
    ASSERT_FALSE(f.policy) << c.field;
    EXPECT_EQ(f.error.field, c.field) << f.error.message;
    EXPECT_EQ(f.error.code, c.code) << f.error.message;
  }
}

}  // namespace
}  // namespace gatehouse::policy
