#include "policies/basic_auth/password.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

#include "policies/crypto.hpp"

namespace gatehouse::policy::basic_auth {

namespace {
Error bad(std::string message) {
  return make_error("invalid_value", std::move(message), {}, 0, ErrorSide::kConfig);
}
}  // namespace

Result<PasswordHash> parse_password_hash(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t d = text.find('$', start);
    parts.push_back(text.substr(start, d == std::string_view::npos ? d : d - start));
    if (d == std::string_view::npos) break;
    start = d + 1;
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256")
    return bad("expected \"pbkdf2-sha256$<iterations>$<salt_b64>$<hash_b64>\"");
  PasswordHash h;
  auto [ptr, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), h.iterations);
  if (ec != std::errc() || ptr != parts[1].data() + parts[1].size())
    return bad("iteration count '" + std::string(parts[1]) + "' is not a number");
  if (h.iterations < kMinIterations || h.iterations > kMaxIterations)
    return bad("iteration count must be between " + std::to_string(kMinIterations) + " and " +
               std::to_string(kMaxIterations));
  bool ok = false;
  h.salt = base64_decode(parts[2], false, &ok);
  if (!ok || h.salt.size() < 8) return bad("salt must be standard base64 of at least 8 bytes");
  h.hash = base64_decode(parts[3], false, &ok);
  if (!ok || h.hash.size() < 16 || h.hash.size() > 64)
    return bad("hash must be standard base64 of 16 to 64 bytes");
  return h;
}

std::string format_password_hash(const PasswordHash& h) {
  return "pbkdf2-sha256$" + std::to_string(h.iterations) + "$" + base64_encode(h.salt) + "$" +
         base64_encode(h.hash);
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int64_t iterations,
                          size_t length) {
  std::string out(length, '\0');
  int ok =
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(length), reinterpret_cast<unsigned char*>(out.data()));
  // An empty result can never equal a stored hash (at least 16 bytes).
  return ok == 1 ? out : std::string();
}

Result<PasswordHash> hash_password(std::string_view password, int64_t iterations) {
  PasswordHash h;
  h.iterations = iterations;
  h.salt.resize(kSaltBytes);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(h.salt.data()), static_cast<int>(kSaltBytes)) !=
      1)
    return make_error("crypto_failure", "no random bytes for a password salt");
  h.hash = pbkdf2_sha256(password, h.salt, iterations);
  if (h.hash.empty()) return make_error("crypto_failure", "PBKDF2 failed");
  return h;
}

bool verify_password(const PasswordHash& h, std::string_view password) {
  return constant_time_equal(pbkdf2_sha256(password, h.salt, h.iterations, h.hash.size()), h.hash);
}

}  // namespace gatehouse::policy::basic_auth
