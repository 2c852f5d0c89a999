#include "policies/jwt/jwks.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>

#include "common/json.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::policy::jwt {

namespace {

Error bad(std::string message) {
  ERR_clear_error();
  return make_error("invalid_value", std::move(message), {}, 0, ErrorSide::kConfig);
}

// A base64url member, decoded; nullopt with `err` set when absent or invalid.
std::optional<std::string> b64_member(const boost::json::object& o, const char* name,
                                      std::string& err) {
  auto it = o.find(name);
  const boost::json::string* s = it == o.end() ? nullptr : it->value().if_string();
  if (!s || s->empty()) {
    err = std::string("\"") + name + "\" is missing";
    return std::nullopt;
  }
  bool ok = false;
  std::string out = base64_decode(std::string_view(s->data(), s->size()), true, &ok);
  if (!ok || out.empty()) {
    err = std::string("\"") + name + "\" is not base64url";
    return std::nullopt;
  }
  return out;
}

std::string str_member(const boost::json::object& o, const char* name) {
  auto it = o.find(name);
  const boost::json::string* s = it == o.end() ? nullptr : it->value().if_string();
  return s ? std::string(s->data(), s->size()) : std::string();
}

struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn to_bn(const std::string& bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

// EVP_PKEY_fromdata for a public key of `type` ("RSA", "EC", "ED25519", ...).
EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  // Rejects points off the curve (invalid-curve attacks) and degenerate RSA.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return pkey;
}

Result<std::shared_ptr<const Key>> rsa_key(const boost::json::object& jwk, std::optional<Alg> alg) {
  if (!alg) alg = Alg::kRS256;
  if (*alg < Alg::kRS256 || *alg > Alg::kPS512)
    return bad("\"alg\" " + std::string(alg_name(*alg)) + " does not fit an RSA key");
  std::string err;
  auto n = b64_member(jwk, "n", err);
  auto e = n ? b64_member(jwk, "e", err) : std::nullopt;
  if (!n || !e) return bad("RSA key: " + err);
  Bn bn_n = to_bn(*n), bn_e = to_bn(*e);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return bad("RSA key: out of memory");
  EVP_PKEY* pkey = from_params("RSA", bld.get());
  if (!pkey) return bad("RSA key: n and e do not form a valid public key");
  return Key::from_pkey(*alg, pkey);
}

Result<std::shared_ptr<const Key>> ec_key(const boost::json::object& jwk, std::optional<Alg> alg) {
  std::string crv = str_member(jwk, "crv");
  Alg want;
  size_t size;
  if (crv == "P-256")
    want = Alg::kES256, size = 32;
  else if (crv == "P-384")
    want = Alg::kES384, size = 48;
  else if (crv == "P-521")
    want = Alg::kES512, size = 66;
  else
    return bad("EC key: unsupported \"crv\" '" + crv + "' (P-256, P-384, P-521)");
  if (alg && *alg != want)
    return bad("\"alg\" " + std::string(alg_name(*alg)) + " does not fit curve " + crv);
  std::string err;
  auto x = b64_member(jwk, "x", err);
  auto y = x ? b64_member(jwk, "y", err) : std::nullopt;
  if (!x || !y) return bad("EC key: " + err);
  if (x->size() != size || y->size() != size)
    return bad("EC key: x and y must be " + std::to_string(size) + " bytes for " + crv);
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, crv.c_str(), 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size()))
    return bad("EC key: out of memory");
  EVP_PKEY* pkey = from_params("EC", bld.get());
  if (!pkey) return bad("EC key: the point is not on curve " + crv);
  return Key::from_pkey(want, pkey);
}

Result<std::shared_ptr<const Key>> okp_key(const boost::json::object& jwk, std::optional<Alg> alg) {
  if (alg && *alg != Alg::kEdDSA)
    return bad("\"alg\" " + std::string(alg_name(*alg)) + " does not fit an OKP key");
  std::string crv = str_member(jwk, "crv");
  size_t size;
  const char* type;
  if (crv == "Ed25519")
    type = "ED25519", size = 32;
  else if (crv == "Ed448")
    type = "ED448", size = 57;
  else
    return bad("OKP key: unsupported \"crv\" '" + crv + "' (Ed25519, Ed448)");
  std::string err;
  auto x = b64_member(jwk, "x", err);
  if (!x) return bad("OKP key: " + err);
  if (x->size() != size) return bad("OKP key: x must be " + std::to_string(size) + " bytes");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(), x->size()))
    return bad("OKP key: out of memory");
  EVP_PKEY* pkey = from_params(type, bld.get());
  if (!pkey) return bad("OKP key: x is not a valid " + crv + " public key");
  return Key::from_pkey(Alg::kEdDSA, pkey);
}

Result<std::shared_ptr<const Key>> oct_key(const boost::json::object& jwk, std::optional<Alg> alg) {
  if (!alg) return bad("oct key: \"alg\" is required (HS256, HS384 or HS512)");
  std::string err;
  auto k = b64_member(jwk, "k", err);
  if (!k) return bad("oct key: " + err);
  return Key::from_secret(*alg, std::move(*k));
}

}  // namespace

Result<std::shared_ptr<const Key>> key_from_jwk(const boost::json::object& jwk) {
  std::optional<Alg> alg;
  if (jwk.contains("alg")) {
    std::string name = str_member(jwk, "alg");
    alg = alg_from_name(name);
    if (!alg) return bad("unsupported \"alg\" '" + name + "'");
  }
  std::string kty = str_member(jwk, "kty");
  if (kty == "RSA") return rsa_key(jwk, alg);
  if (kty == "EC") return ec_key(jwk, alg);
  if (kty == "OKP") return okp_key(jwk, alg);
  if (kty == "oct") return oct_key(jwk, alg);
  return bad("unsupported \"kty\" '" + kty + "' (RSA, EC, OKP, oct)");
}

Result<std::vector<NamedKey>> parse_jwks(const boost::json::value& doc) {
  const boost::json::object* root = doc.if_object();
  if (!root) return bad("a JWKS must be a JSON object");
  std::vector<const boost::json::object*> jwks;
  if (auto it = root->find("keys"); it != root->end()) {
    const boost::json::array* arr = it->value().if_array();
    if (!arr) return bad("\"keys\" must be an array");
    for (size_t i = 0; i < arr->size(); ++i) {
      const boost::json::object* o = (*arr)[i].if_object();
      if (!o) return bad("keys[" + std::to_string(i) + "] is not an object");
      jwks.push_back(o);
    }
  } else {
    jwks.push_back(root);
  }
  std::vector<NamedKey> out;
  for (size_t i = 0; i < jwks.size(); ++i) {
    const auto& jwk = *jwks[i];
    if (jwk.contains("use") && str_member(jwk, "use") != "sig") continue;
    auto key = key_from_jwk(jwk);
    if (!key) return bad("keys[" + std::to_string(i) + "]: " + key.error().message);
    if (jwk.contains("kid") && !jwk.at("kid").is_string())
      return bad("keys[" + std::to_string(i) + "]: \"kid\" must be a string");
    out.push_back({str_member(jwk, "kid"), key.value()});
  }
  if (out.empty()) return bad("the JWKS has no signature keys");
  return out;
}

Result<std::vector<NamedKey>> parse_jwks(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value doc = parse_json(json, ec);
  if (ec) return bad("the JWKS is not valid JSON: " + ec.message());
  return parse_jwks(doc);
}

}  // namespace gatehouse::policy::jwt
