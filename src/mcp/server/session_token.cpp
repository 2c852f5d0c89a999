#include "mcp/server/session_token.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <mutex>

#include "common/json.hpp"
#include "policies/crypto.hpp"

namespace gatehouse::mcp {

namespace json = boost::json;

namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
// Bound before any decoding: a token is small, a huge header is an attack.
constexpr size_t kMaxToken = 8192;
constexpr std::string_view kInfo = "gatehouse mcp session token v1";

const std::string& process_secret() {
  static std::once_flag once;
  static std::string secret;
  std::call_once(once, [] {
    secret.resize(32);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) std::abort();
  });
  return secret;
}

bool hkdf(std::string_view secret, unsigned char* out, size_t out_len) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (!kdf) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (!ctx) return false;
  char digest[] = "SHA256";
  std::string key(secret), info(kInfo);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key.data(), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end()};
  bool ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

}  // namespace

std::shared_ptr<const SessionKey> SessionKey::derive(std::string_view secret) {
  auto k = std::make_shared<SessionKey>();
  if (!hkdf(secret.empty() ? process_secret() : secret, k->key_.data(), k->key_.size()))
    std::abort();  // OpenSSL 3 always has HKDF; nothing sensible to do without it
  return k;
}

std::string SessionKey::seal(std::string_view plaintext) const {
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(o, kNonce) != 1) std::abort();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key_.data(), o) == 1 &&
      EVP_EncryptUpdate(ctx, o + kNonce, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, o + kNonce + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plaintext.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) std::abort();
  return policy::base64_encode(out, true);
}

std::optional<std::string> SessionKey::open(std::string_view token) const {
  if (token.empty() || token.size() > kMaxToken) return std::nullopt;
  bool ok = false;
  std::string raw = policy::base64_decode(token, true, &ok);
  if (!ok || raw.size() < kNonce + kTag) return std::nullopt;
  size_t n = raw.size() - kNonce - kTag;
  std::string plain(n, '\0');
  auto* r = reinterpret_cast<unsigned char*>(raw.data());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key_.data(), r) == 1 &&
       EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &len, r + kNonce,
                         static_cast<int>(n)) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, r + kNonce + n) == 1 &&
       EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return plain;
}

std::string SessionState::encode() const {
  json::object o;
  o["r"] = route;
  o["c"] = consumer;
  o["v"] = protocol_version;
  o["t"] = issued_s;
  json::array ups;
  for (const auto& u : upstreams) {
    json::array e{json::string(u.server), json::string(u.session_id),
                  json::string(u.protocol_version), u.failed ? 1 : 0};
    // Only a failed upstream carries a reason: a healthy session's token
    // stays as it was.
    if (u.failed && !u.error.empty()) {
      // Cut on a character boundary: the token is parsed as JSON again.
      size_t n = std::min(u.error.size(), Upstream::kMaxErrorText);
      while (n < u.error.size() && n > 0 && (static_cast<unsigned char>(u.error[n]) & 0xC0) == 0x80)
        --n;
      e.push_back(json::string(u.error.substr(0, n)));
    }
    ups.push_back(std::move(e));
  }
  o["u"] = std::move(ups);
  if (!client_capabilities.empty()) o["k"] = client_capabilities;
  return json::serialize(o);
}

std::optional<SessionState> SessionState::decode(std::string_view text) {
  // Only tokens we sealed get here, but a key shared with an older node may
  // carry another shape: check everything rather than trust it.
  boost::system::error_code ec;
  json::value v = parse_json(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto str = [&](const char* k, std::string& out) {
    const json::value* x = o.if_contains(k);
    if (!x || !x->is_string()) return false;
    out = std::string(x->as_string());
    return true;
  };
  SessionState s;
  const json::value* t = o.if_contains("t");
  const json::value* u = o.if_contains("u");
  if (!str("r", s.route) || !str("c", s.consumer) || !str("v", s.protocol_version) || !t ||
      !t->is_int64() || !u || !u->is_array())
    return std::nullopt;
  s.issued_s = t->as_int64();
  if (const json::value* k = o.if_contains("k"); k && k->is_string())
    s.client_capabilities = std::string(k->as_string());
  for (const auto& e : u->as_array()) {
    const json::array* a = e.if_array();
    if (!a || a->size() < 4 || a->size() > 5 || !(*a)[0].is_string() || !(*a)[1].is_string() ||
        !(*a)[2].is_string() || !(*a)[3].is_int64() || (a->size() == 5 && !(*a)[4].is_string()))
      return std::nullopt;
    Upstream up;
    up.server = std::string((*a)[0].as_string());
    up.session_id = std::string((*a)[1].as_string());
    up.protocol_version = std::string((*a)[2].as_string());
    up.failed = (*a)[3].as_int64() != 0;
    if (a->size() == 5) up.error = std::string((*a)[4].as_string());
    s.upstreams.push_back(std::move(up));
  }
  return s;
}

const SessionState::Upstream* SessionState::find(std::string_view server) const {
  for (const auto& u : upstreams)
    if (u.server == server) return &u;
  return nullptr;
}

}  // namespace gatehouse::mcp
