#include "net/websocket/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace gatehouse::net::websocket {

namespace {
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int w = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<size_t>(w));
  return out;
}
}  // namespace

std::string new_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    // Never on a seeded system. The key only proves that the upstream
    // understood the upgrade, so a predictable one weakens nothing we rely on.
    for (size_t i = 0; i < sizeof raw; ++i) raw[i] = static_cast<unsigned char>(i * 131 + 7);
  }
  return base64(raw, sizeof raw);
}

std::string accept_for(std::string_view key) {
  std::string s(key);
  s += kGuid;
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return base64(md, sizeof md);
}

std::array<uint8_t, 4> new_mask_key() {
  std::array<uint8_t, 4> k{0x5a, 0x3c, 0x96, 0xe1};
  RAND_bytes(k.data(), static_cast<int>(k.size()));
  return k;
}

}  // namespace gatehouse::net::websocket
