// Inline JSON Web Key Sets (RFC 7517/7518/8037): RSA (n, e), EC (crv, x, y)
// and OKP (Ed25519/Ed448 x) public keys, and oct (HMAC) keys. Keys are built
// with OpenSSL 3's EVP_PKEY_fromdata, never the deprecated RSA/EC_KEY types.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policies/jwt/key.hpp"

namespace gatehouse::policy::jwt {

struct NamedKey {
  std::string kid;  // may be empty
  std::shared_ptr<const Key> key;
};

// One JWK. Without "alg", the algorithm follows from the key: EC curves and
// OKP fix it; RSA keys default to RS256 (several providers omit "alg"); oct
// keys must say. An "alg" that disagrees with the key is an error.
Result<std::shared_ptr<const Key>> key_from_jwk(const boost::json::object& jwk);

// {"keys": [...]} or a single JWK. Keys marked for encryption ("use": "enc")
// are skipped; an empty result is an error.
Result<std::vector<NamedKey>> parse_jwks(const boost::json::value& doc);
Result<std::vector<NamedKey>> parse_jwks(std::string_view json);

}  // namespace gatehouse::policy::jwt
