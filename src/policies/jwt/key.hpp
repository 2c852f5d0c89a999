// JWS verification keys. A key is bound to exactly one algorithm when it is
// loaded, and a token is only ever checked with its key's algorithm: the
// token's "alg" header selects nothing, it must merely agree. This is what
// rules out algorithm confusion (an RSA public key used as an HMAC secret,
// "none", an RS key accepting PS, ...).
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace gatehouse::policy::jwt {

enum class Alg {
  // HMAC
  kHS256,
  kHS384,
  kHS512,
  // RSASSA-PKCS1-v1_5
  kRS256,
  kRS384,
  kRS512,
  // RSASSA-PSS, salt length = hash length (RFC 7518 3.5)
  kPS256,
  kPS384,
  kPS512,
  // ECDSA P-256 / P-384 / P-521, raw r||s signatures
  kES256,
  kES384,
  kES512,
  // Ed25519 or Ed448 (RFC 8037)
  kEdDSA,
};

std::optional<Alg> alg_from_name(std::string_view name);  // exact, case-sensitive
std::string_view alg_name(Alg a);
bool is_hmac(Alg a);

class Key {
 public:
  // HMAC secret; at least as long as the hash output (RFC 7518 3.2).
  static Result<std::shared_ptr<const Key>> from_secret(Alg alg, std::string secret);
  // SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") or an X.509 certificate PEM.
  static Result<std::shared_ptr<const Key>> from_pem(Alg alg, std::string_view pem);
  // Takes ownership of `pkey` in all cases; checks it fits `alg`.
  static Result<std::shared_ptr<const Key>> from_pkey(Alg alg, EVP_PKEY* pkey);

  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key();

  Alg alg() const { return alg_; }
  // `signature` is the decoded third segment; `input` the first two segments
  // with their dot. Never throws; leaves no OpenSSL error on the thread.
  bool verify(std::string_view input, std::string_view signature) const;

 private:
  Key(Alg alg, std::string secret, EVP_PKEY* pkey)
      : alg_(alg), secret_(std::move(secret)), pkey_(pkey) {}
  Alg alg_;
  std::string secret_;
  EVP_PKEY* pkey_ = nullptr;  // read-only after load: safe to share across workers
};

}  // namespace gatehouse::policy::jwt
