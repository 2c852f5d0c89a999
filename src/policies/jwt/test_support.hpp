// Test-only helpers: generate keys with OpenSSL and sign JWTs, so the tests
// never depend on another JWT library agreeing with ours.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <memory>
#include <string>

#include "policies/crypto.hpp"

namespace gatehouse::policy::jwt::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey rsa_key(size_t bits = 2048) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}
inline Pkey ec_key(const char* curve = "P-256") {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
inline Pkey ed25519_key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

inline std::string public_pem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, k);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string private_pem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string bn_param(EVP_PKEY* k, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, name, &bn);
  std::string out(pad ? static_cast<size_t>(pad) : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

inline std::string b64u(std::string_view s) {
  return base64_encode(s, true);
}

// JWK JSON text for a public key.
inline std::string rsa_jwk(EVP_PKEY* k, const std::string& kid, const std::string& alg = "") {
  return "{\"kty\":\"RSA\",\"kid\":\"" + kid + "\"" +
         (alg.empty() ? "" : ",\"alg\":\"" + alg + "\"") + ",\"n\":\"" +
         b64u(bn_param(k, OSSL_PKEY_PARAM_RSA_N)) + "\",\"e\":\"" +
         b64u(bn_param(k, OSSL_PKEY_PARAM_RSA_E)) + "\"}";
}
inline std::string ec_jwk(EVP_PKEY* k, const std::string& kid, const char* crv = "P-256",
                          int size = 32) {
  return std::string("{\"kty\":\"EC\",\"crv\":\"") + crv + "\",\"kid\":\"" + kid + "\",\"x\":\"" +
         b64u(bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, size)) + "\",\"y\":\"" +
         b64u(bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, size)) + "\"}";
}
inline std::string okp_jwk(EVP_PKEY* k, const std::string& kid) {
  unsigned char raw[64];
  size_t len = sizeof(raw);
  EVP_PKEY_get_raw_public_key(k, raw, &len);
  return "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"" + kid + "\",\"x\":\"" +
         b64u(std::string_view(reinterpret_cast<char*>(raw), len)) + "\"}";
}

inline const EVP_MD* md_for(const std::string& alg) {
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  if (alg == "EdDSA") return nullptr;
  return EVP_sha256();
}

inline std::string hmac_sign(const std::string& alg, std::string_view secret, std::string_view in) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md_for(alg), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(in.data()), in.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// JOSE signature (ES*: raw r||s) of `in` with a private key.
inline std::string pkey_sign(const std::string& alg, EVP_PKEY* k, std::string_view in) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, md_for(alg), nullptr, k);
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(in.data()), in.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg[0] != 'E' || alg == "EdDSA") return sig;
  int half = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(static_cast<size_t>(2 * half), '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), half);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + half, half);
  ECDSA_SIG_free(es);
  return raw;
}

inline int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// header.payload.signature with `sign` applied to the signing input.
template <class Sign>
std::string make_token(const std::string& header_json, const std::string& payload_json, Sign sign) {
  std::string input = b64u(header_json) + "." + b64u(payload_json);
  return input + "." + b64u(sign(input));
}

}  // namespace gatehouse::policy::jwt::testing
