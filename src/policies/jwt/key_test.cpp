// Keys, JWKS, token parsing and claim rules on their own; jwt_test.cpp runs
// the whole policy.
#include "policies/jwt/key.hpp"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <boost/json/parse.hpp>

#include "policies/jwt/claims.hpp"
#include "policies/jwt/jwks.hpp"
#include "policies/jwt/test_support.hpp"
#include "policies/jwt/token.hpp"

namespace gatehouse::policy::jwt {
namespace {

using namespace testing;  // NOLINT

EVP_PKEY* shared_rsa() {
  static Pkey k = rsa_key();  // RSA generation is slow: once per binary
  return k.get();
}

const std::string kSecret64(64, 'k');

TEST(JwtKey, EveryAlgorithmVerifiesItsOwnSignatures) {
  Pkey ec256 = ec_key("P-256"), ec384 = ec_key("P-384"), ec521 = ec_key("P-521");
  Pkey ed = ed25519_key();
  struct Case {
    const char* alg;
    EVP_PKEY* key;  // nullptr: HMAC
  };
  for (const auto& c : std::vector<Case>{{"HS256", nullptr},
                                         {"HS384", nullptr},
                                         {"HS512", nullptr},
                                         {"RS256", shared_rsa()},
                                         {"RS384", shared_rsa()},
                                         {"RS512", shared_rsa()},
                                         {"PS256", shared_rsa()},
                                         {"PS384", shared_rsa()},
                                         {"PS512", shared_rsa()},
                                         {"ES256", ec256.get()},
                                         {"ES384", ec384.get()},
                                         {"ES512", ec521.get()},
                                         {"EdDSA", ed.get()}}) {
    Alg alg = *alg_from_name(c.alg);
    EXPECT_EQ(alg_name(alg), c.alg);
    auto key = c.key ? Key::from_pem(alg, public_pem(c.key)) : Key::from_secret(alg, kSecret64);
    ASSERT_TRUE(key.ok()) << c.alg << ": " << key.error().message;
    std::string input = "eyJhbGciOiJ4In0.eyJzdWIiOiJhIn0";
    std::string sig = c.key ? pkey_sign(c.alg, c.key, input) : hmac_sign(c.alg, kSecret64, input);
    EXPECT_TRUE(key.value()->verify(input, sig)) << c.alg;
    EXPECT_FALSE(key.value()->verify(input + "x", sig)) << c.alg;
    std::string flipped = sig;
    flipped[flipped.size() / 2] ^= 1;
    EXPECT_FALSE(key.value()->verify(input, flipped)) << c.alg;
    EXPECT_FALSE(key.value()->verify(input, sig.substr(0, sig.size() - 1))) << c.alg;
    EXPECT_FALSE(key.value()->verify(input, "")) << c.alg;
  }
}

TEST(JwtKey, PkcsAndPssAreNotInterchangeable) {
  auto rs = Key::from_pem(Alg::kRS256, public_pem(shared_rsa()));
  auto ps = Key::from_pem(Alg::kPS256, public_pem(shared_rsa()));
  std::string in = "a.b";
  EXPECT_FALSE(rs.value()->verify(in, pkey_sign("PS256", shared_rsa(), in)));
  EXPECT_FALSE(ps.value()->verify(in, pkey_sign("RS256", shared_rsa(), in)));
}

TEST(JwtKey, AcceptsCertificatePem) {
  Pkey k = ec_key();
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, k.get());
  X509_sign(cert, k.get(), EVP_sha256());
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(b);
  X509_free(cert);
  auto key = Key::from_pem(Alg::kES256, pem);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_TRUE(key.value()->verify("x.y", pkey_sign("ES256", k.get(), "x.y")));
}

TEST(JwtKey, RejectsKeysThatDoNotFitTheAlgorithm) {
  Pkey ec = ec_key("P-256");
  Pkey small = rsa_key(1024);
  Pkey ed = ed25519_key();
  EXPECT_FALSE(Key::from_pem(Alg::kES256, public_pem(shared_rsa())).ok());
  EXPECT_FALSE(Key::from_pem(Alg::kRS256, public_pem(ec.get())).ok());
  EXPECT_FALSE(Key::from_pem(Alg::kES384, public_pem(ec.get())).ok());  // wrong curve
  EXPECT_FALSE(Key::from_pem(Alg::kEdDSA, public_pem(ec.get())).ok());
  EXPECT_FALSE(Key::from_pem(Alg::kES256, public_pem(ed.get())).ok());
  EXPECT_FALSE(Key::from_pem(Alg::kRS256, public_pem(small.get())).ok());  // < 2048 bits
  EXPECT_FALSE(Key::from_pem(Alg::kRS256, private_pem(shared_rsa())).ok());
  EXPECT_FALSE(
      Key::from_pem(Alg::kRS256, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
          .ok());
  EXPECT_FALSE(Key::from_pem(Alg::kRS256, "not a pem").ok());
  // The classic confusion: an HMAC "secret" that is really a public key.
  EXPECT_FALSE(Key::from_pem(Alg::kHS256, public_pem(shared_rsa())).ok());
  EXPECT_FALSE(Key::from_secret(Alg::kRS256, kSecret64).ok());
  EXPECT_FALSE(Key::from_secret(Alg::kHS256, std::string(31, 'k')).ok());
  EXPECT_TRUE(Key::from_secret(Alg::kHS256, std::string(32, 'k')).ok());
  EXPECT_FALSE(Key::from_secret(Alg::kHS512, std::string(63, 'k')).ok());
  EXPECT_FALSE(alg_from_name("none"));
  EXPECT_FALSE(alg_from_name("hs256"));
  EXPECT_FALSE(alg_from_name("ES256K"));
}

TEST(JwtJwks, ParsesEveryKeyType) {
  Pkey ec = ec_key("P-256"), ec384 = ec_key("P-384"), ed = ed25519_key();
  std::string jwks =
      "{\"keys\":[" + rsa_jwk(shared_rsa(), "r1") + "," + rsa_jwk(shared_rsa(), "p1", "PS384") +
      "," + ec_jwk(ec.get(), "e1") + "," + ec_jwk(ec384.get(), "e2", "P-384", 48) + "," +
      okp_jwk(ed.get(), "o1") + ",{\"kty\":\"oct\",\"kid\":\"h1\",\"alg\":\"HS256\",\"k\":\"" +
      b64u(kSecret64) + "\"}" +
      ",{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"skip\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
  auto keys = parse_jwks(std::string_view(jwks));
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 6u);
  const char* kids[] = {"r1", "p1", "e1", "e2", "o1", "h1"};
  Alg algs[] = {Alg::kRS256, Alg::kPS384, Alg::kES256, Alg::kES384, Alg::kEdDSA, Alg::kHS256};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ((*keys)[i].kid, kids[i]);
    EXPECT_EQ((*keys)[i].key->alg(), algs[i]) << kids[i];
  }
  EXPECT_TRUE((*keys)[0].key->verify("a.b", pkey_sign("RS256", shared_rsa(), "a.b")));
  EXPECT_TRUE((*keys)[1].key->verify("a.b", pkey_sign("PS384", shared_rsa(), "a.b")));
  EXPECT_TRUE((*keys)[2].key->verify("a.b", pkey_sign("ES256", ec.get(), "a.b")));
  EXPECT_TRUE((*keys)[3].key->verify("a.b", pkey_sign("ES384", ec384.get(), "a.b")));
  EXPECT_TRUE((*keys)[4].key->verify("a.b", pkey_sign("EdDSA", ed.get(), "a.b")));
  EXPECT_TRUE((*keys)[5].key->verify("a.b", hmac_sign("HS256", kSecret64, "a.b")));
  // A lone JWK is accepted as a set of one.
  auto one = parse_jwks(std::string_view(okp_jwk(ed.get(), "solo")));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].kid, "solo");
}

TEST(JwtJwks, Errors) {
  Pkey ec = ec_key("P-256");
  std::string ecj = ec_jwk(ec.get(), "e1");
  std::string x = b64u(std::string(32, '\x01')), y = b64u(std::string(32, '\x02'));
  for (std::string bad : {
           std::string("not json"),
           std::string("[]"),
           std::string("{\"keys\":{}}"),
           std::string("{\"keys\":[1]}"),
           std::string("{\"keys\":[]}"),
           std::string("{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}"),
           std::string("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"),
           std::string("{\"kty\":\"RSA\",\"n\":\"") + b64u(std::string(128, '\xff')) +
               "\",\"e\":\"AQAB\"}",  // 1024-bit modulus
           "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" + y +
               "\"}",                                                                // off curve
           "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"AQAB\"}",  // short y
           "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"}",
           ecj.substr(0, ecj.size() - 1) + ",\"alg\":\"ES384\"}",  // alg does not fit the curve
           std::string("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"") + x + "\"}",
           std::string("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AQAB\"}"),
           "{\"kty\":\"oct\",\"k\":\"" + b64u(kSecret64) + "\"}",  // oct without alg
           "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"" + b64u("short") + "\"}",
           std::string("{\"kty\":\"DSA\"}"),
           std::string("{\"kty\":\"RSA\",\"alg\":\"none\"}"),
           std::string("{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"),
       }) {
    auto r = parse_jwks(std::string_view(bad));
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(JwtToken, ParsesAndRejectsMalformed) {
  std::string good =
      b64u("{\"alg\":\"HS256\",\"kid\":\"k\"}") + "." + b64u("{\"sub\":\"a\"}") + "." + b64u("sig");
  Token t;
  std::string why;
  ASSERT_TRUE(parse_token(good, t, why)) << why;
  EXPECT_EQ(t.alg, "HS256");
  EXPECT_EQ(t.kid, "k");
  EXPECT_EQ(t.signature, "sig");
  EXPECT_EQ(t.signing_input, good.substr(0, good.rfind('.')));
  std::string h = b64u("{\"alg\":\"HS256\"}"), p = b64u("{}");
  for (std::string bad :
       {std::string("abc"), h + "." + p, h + "." + p + ".x.y", "." + p + ".x", h + "..x",
        h + "=." + p + ".x", h + "." + p + ".a+b", b64u("[1]") + "." + p + ".x",
        h + "." + b64u("\"str\"") + ".x", b64u("{\"typ\":\"JWT\"}") + "." + p + ".x",
        b64u("{\"alg\":5}") + "." + p + ".x",
        b64u("{\"alg\":\"HS256\",\"kid\":7}") + "." + p + ".x",
        b64u("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}") + "." + p + ".x",
        h + "." + b64u("{bad json") + ".x", h + "." + p + "." + std::string(kMaxTokenBytes, 'a')}) {
    Token t2;
    EXPECT_FALSE(parse_token(bad, t2, why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

boost::json::object obj(std::string_view json) {
  return boost::json::parse(json).as_object();
}

TEST(JwtClaims, TimeRules) {
  ClaimRules r;
  r.clock_skew_s = 60;
  double now = 1'700'000'000;
  EXPECT_FALSE(check_claims(obj("{}"), r, now));
  EXPECT_FALSE(check_claims(obj("{\"exp\":1700000100}"), r, now));
  EXPECT_FALSE(check_claims(obj("{\"exp\":1699999950}"), r, now));  // within skew
  EXPECT_EQ(check_claims(obj("{\"exp\":1699999900}"), r, now)->reason, "expired");
  // Fractional NumericDates: valid while now < exp + skew (RFC 7519 4.1.4).
  EXPECT_FALSE(check_claims(obj("{\"exp\":1699999940.5}"), r, now));
  auto frac = check_claims(obj("{\"exp\":1699999939.5}"), r, now);
  ASSERT_TRUE(frac);
  EXPECT_EQ(frac->reason, "expired");
  EXPECT_FALSE(check_claims(obj("{\"nbf\":1700000050}"), r, now));
  EXPECT_EQ(check_claims(obj("{\"nbf\":1700000100}"), r, now)->reason, "not_yet_valid");
  EXPECT_EQ(check_claims(obj("{\"iat\":1700000100}"), r, now)->reason, "not_yet_valid");
  EXPECT_EQ(check_claims(obj("{\"exp\":\"soon\"}"), r, now)->reason, "malformed");
  EXPECT_EQ(check_claims(obj("{\"nbf\":null}"), r, now)->reason, "malformed");
  r.clock_skew_s = 0;
  EXPECT_EQ(check_claims(obj("{\"exp\":1700000000}"), r, now)->reason, "expired");
}

TEST(JwtClaims, IssuerAudienceRequiredLifetime) {
  ClaimRules r;
  double now = 1'700'000'000;
  r.issuers = {"https://a", "https://b"};
  EXPECT_FALSE(check_claims(obj("{\"iss\":\"https://b\"}"), r, now));
  EXPECT_EQ(check_claims(obj("{\"iss\":\"https://c\"}"), r, now)->reason, "wrong_issuer");
  EXPECT_EQ(check_claims(obj("{}"), r, now)->reason, "wrong_issuer");
  EXPECT_EQ(check_claims(obj("{\"iss\":[\"https://a\"]}"), r, now)->reason, "wrong_issuer");
  r.issuers.clear();
  r.audiences = {"api"};
  EXPECT_FALSE(check_claims(obj("{\"aud\":\"api\"}"), r, now));
  EXPECT_FALSE(check_claims(obj("{\"aud\":[\"web\",\"api\"]}"), r, now));
  EXPECT_EQ(check_claims(obj("{\"aud\":[\"web\"]}"), r, now)->reason, "wrong_audience");
  EXPECT_EQ(check_claims(obj("{\"aud\":\"API\"}"), r, now)->reason, "wrong_audience");
  EXPECT_EQ(check_claims(obj("{}"), r, now)->reason, "wrong_audience");
  r.audiences.clear();
  r.required = {"sub", "scope"};
  EXPECT_FALSE(check_claims(obj("{\"sub\":\"a\",\"scope\":\"x\"}"), r, now));
  auto f = check_claims(obj("{\"sub\":\"a\"}"), r, now);
  EXPECT_EQ(f->reason, "missing_claim");
  EXPECT_NE(f->text.find("scope"), std::string::npos);
  r.required.clear();
  r.max_lifetime_s = 3600;
  EXPECT_FALSE(check_claims(obj("{\"exp\":1700003000}"), r, now));
  EXPECT_FALSE(check_claims(obj("{\"iat\":1699999000,\"exp\":1700002600}"), r, now));
  EXPECT_EQ(check_claims(obj("{\"exp\":1700009000}"), r, now)->reason, "lifetime_too_long");
  EXPECT_EQ(check_claims(obj("{\"iat\":1699990000,\"exp\":1700000100}"), r, now)->reason,
            "lifetime_too_long");
  EXPECT_EQ(check_claims(obj("{}"), r, now)->reason, "missing_claim");
}

TEST(JwtClaims, ExportToVars) {
  std::unordered_map<std::string, std::string> vars;
  export_claims(obj("{\"sub\":\"alice\",\"scope\":\"read write\",\"scp\":[\"a\",\"b\"],"
                    "\"exp\":1700000000,\"ratio\":0.5,\"big\":1.7e9,\"admin\":true,"
                    "\"org\":{\"id\":7},\"mixed\":[1,\"x\",false],\"nested\":[[1]]}"),
                vars);
  EXPECT_EQ(vars["jwt.sub"], "alice");
  EXPECT_EQ(vars["jwt.scope"], "read write");
  EXPECT_EQ(vars["jwt.scp"], "a b");
  EXPECT_EQ(vars["jwt.exp"], "1700000000");
  EXPECT_EQ(vars["jwt.ratio"], "0.5");
  EXPECT_EQ(vars["jwt.big"], "1700000000");
  EXPECT_EQ(vars["jwt.admin"], "true");
  EXPECT_EQ(vars["jwt.org"], "{\"id\":7}");
  EXPECT_EQ(vars["jwt.mixed"], "1 x false");
  EXPECT_EQ(vars["jwt.nested"], "[[1]]");
}

}  // namespace
}  // namespace gatehouse::policy::jwt
