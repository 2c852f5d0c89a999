#include "policies/jwt/key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>

#include "policies/crypto.hpp"

namespace gatehouse::policy::jwt {

namespace {

struct AlgInfo {
  Alg alg;
  const char* name;
};
constexpr std::array<AlgInfo, 13> kAlgs = {{
    {Alg::kHS256, "HS256"},
    {Alg::kHS384, "HS384"},
    {Alg::kHS512, "HS512"},
    {Alg::kRS256, "RS256"},
    {Alg::kRS384, "RS384"},
    {Alg::kRS512, "RS512"},
    {Alg::kPS256, "PS256"},
    {Alg::kPS384, "PS384"},
    {Alg::kPS512, "PS512"},
    {Alg::kES256, "ES256"},
    {Alg::kES384, "ES384"},
    {Alg::kES512, "ES512"},
    {Alg::kEdDSA, "EdDSA"},
}};

constexpr int kMinRsaBits = 2048;

const EVP_MD* digest(Alg a) {
  switch (a) {
    case Alg::kHS256:
    case Alg::kRS256:
    case Alg::kPS256:
    case Alg::kES256:
      return EVP_sha256();
    case Alg::kHS384:
    case Alg::kRS384:
    case Alg::kPS384:
    case Alg::kES384:
      return EVP_sha384();
    case Alg::kHS512:
    case Alg::kRS512:
    case Alg::kPS512:
    case Alg::kES512:
      return EVP_sha512();
    case Alg::kEdDSA:
      return nullptr;  // EdDSA hashes internally
  }
  return nullptr;
}

bool is_rsa(Alg a) {
  return a >= Alg::kRS256 && a <= Alg::kPS512;
}
bool is_pss(Alg a) {
  return a >= Alg::kPS256 && a <= Alg::kPS512;
}
bool is_ec(Alg a) {
  return a >= Alg::kES256 && a <= Alg::kES512;
}

// Curve name as OpenSSL reports it and the byte size of r and s.
std::pair<const char*, size_t> ec_curve(Alg a) {
  switch (a) {
    case Alg::kES256:
      return {"prime256v1", 32};
    case Alg::kES384:
      return {"secp384r1", 48};
    default:
      return {"secp521r1", 66};
  }
}

Error bad(std::string message) {
  ERR_clear_error();
  return make_error("invalid_value", std::move(message), {}, 0, ErrorSide::kConfig);
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// JOSE ECDSA signatures are r||s, fixed width; OpenSSL wants DER.
std::string ecdsa_raw_to_der(std::string_view raw, size_t half) {
  if (raw.size() != 2 * half) return {};
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!sig) return {};
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half),
                        nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half),
                        static_cast<int>(half), nullptr);
  if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return {};
  }
  std::string der;
  int len = i2d_ECDSA_SIG(sig, nullptr);
  if (len > 0) {
    der.resize(static_cast<size_t>(len));
    unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_ECDSA_SIG(sig, &p) != len) der.clear();
  }
  ECDSA_SIG_free(sig);
  return der;
}

}  // namespace

std::optional<Alg> alg_from_name(std::string_view name) {
  for (const auto& a : kAlgs)
    if (name == a.name) return a.alg;
  return std::nullopt;
}

std::string_view alg_name(Alg a) {
  return kAlgs[static_cast<size_t>(a)].name;
}

bool is_hmac(Alg a) {
  return a <= Alg::kHS512;
}

Key::~Key() {
  EVP_PKEY_free(pkey_);
  OPENSSL_cleanse(secret_.data(), secret_.size());
}

Result<std::shared_ptr<const Key>> Key::from_secret(Alg alg, std::string secret) {
  if (!is_hmac(alg)) return bad(std::string(alg_name(alg)) + " needs a public key, not a secret");
  size_t need = static_cast<size_t>(EVP_MD_get_size(digest(alg)));
  if (secret.size() < need)
    return bad(std::string(alg_name(alg)) + " needs a secret of at least " + std::to_string(need) +
               " bytes (RFC 7518 section 3.2)");
  return std::shared_ptr<const Key>(new Key(alg, std::move(secret), nullptr));
}

Result<std::shared_ptr<const Key>> Key::from_pem(Alg alg, std::string_view pem) {
  if (is_hmac(alg)) return bad(std::string(alg_name(alg)) + " needs a secret, not a public key");
  if (pem.find("PRIVATE KEY") != std::string_view::npos)
    return bad("a private key was given: configure the public key only");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return bad("out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!pkey) {
    // Identity providers often publish certificates rather than bare keys.
    std::unique_ptr<BIO, BioFree> again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (X509* cert = again ? PEM_read_bio_X509(again.get(), nullptr, nullptr, nullptr) : nullptr) {
      pkey = X509_get_pubkey(cert);
      X509_free(cert);
    }
  }
  if (!pkey) return bad("not a PEM public key (\"-----BEGIN PUBLIC KEY-----\") or certificate");
  return from_pkey(alg, pkey);
}

Result<std::shared_ptr<const Key>> Key::from_pkey(Alg alg, EVP_PKEY* pkey) {
  std::string name(alg_name(alg));
  auto reject = [&](std::string m) {
    EVP_PKEY_free(pkey);
    return bad(std::move(m));
  };
  if (!pkey) return bad("no key");
  if (is_hmac(alg)) return reject(name + " needs a secret, not a public key");
  if (is_rsa(alg)) {
    bool pss_only = EVP_PKEY_is_a(pkey, "RSA-PSS");
    if (!EVP_PKEY_is_a(pkey, "RSA") && !pss_only) return reject(name + " needs an RSA key");
    if (pss_only && !is_pss(alg)) return reject(name + " cannot use an RSA-PSS-only key");
    if (EVP_PKEY_get_bits(pkey) < kMinRsaBits)
      return reject("RSA keys must have at least " + std::to_string(kMinRsaBits) + " bits");
  } else if (is_ec(alg)) {
    if (!EVP_PKEY_is_a(pkey, "EC")) return reject(name + " needs an EC key");
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1 ||
        std::strcmp(group, ec_curve(alg).first) != 0)
      return reject(name + " needs a key on curve " + ec_curve(alg).first);
  } else if (!EVP_PKEY_is_a(pkey, "ED25519") && !EVP_PKEY_is_a(pkey, "ED448")) {
    return reject("EdDSA needs an Ed25519 or Ed448 key");
  }
  return std::shared_ptr<const Key>(new Key(alg, {}, pkey));
}

bool Key::verify(std::string_view input, std::string_view signature) const {
  if (is_hmac(alg_)) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(digest(alg_), secret_.data(), static_cast<int>(secret_.size()),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len))
      return false;
    return constant_time_equal(std::string_view(reinterpret_cast<char*>(mac), len), signature);
  }
  std::string der;
  if (is_ec(alg_)) {
    der = ecdsa_raw_to_der(signature, ec_curve(alg_).second);
    if (der.empty()) return false;
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, digest(alg_), nullptr, pkey_) == 1;
  if (ok && is_pss(alg_)) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  ok =
      ok && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  // A failed verify leaves entries on this thread's error queue; drop them so
  // they do not pile up or leak into unrelated TLS error reporting.
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace gatehouse::policy::jwt
