// PBKDF2-HMAC-SHA256 password records for basic-auth. The textual form is
// "pbkdf2-sha256$<iterations>$<salt_b64>$<hash_b64>" (the layout Django and
// passlib use, with standard base64), so hashes can be made with any tool
// (python3 -c 'import hashlib; hashlib.pbkdf2_hmac(...)').
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace gatehouse::policy::basic_auth {

inline constexpr int64_t kMinIterations = 1'000;
inline constexpr int64_t kMaxIterations = 10'000'000;
inline constexpr size_t kSaltBytes = 16;
inline constexpr size_t kHashBytes = 32;

struct PasswordHash {
  int64_t iterations = 0;
  std::string salt;  // raw bytes
  std::string hash;  // raw bytes
};

// Parses the textual form; errors name what is wrong (never the secret).
Result<PasswordHash> parse_password_hash(std::string_view text);
std::string format_password_hash(const PasswordHash& h);

// PBKDF2-HMAC-SHA256 of `password` with `salt`; `length` output bytes.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int64_t iterations,
                          size_t length = kHashBytes);

// A fresh record for a plaintext password (random salt).
Result<PasswordHash> hash_password(std::string_view password, int64_t iterations);

// Derives and compares in constant time.
bool verify_password(const PasswordHash& h, std::string_view password);

}  // namespace gatehouse::policy::basic_auth
