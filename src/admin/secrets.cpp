#include "admin/secrets.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "policies/crypto.hpp"

namespace gatehouse::admin::secrets {

namespace {

constexpr std::string_view kPrefix = "gh1.";
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

Error fail(std::string code, std::string message, int status = 500) {
  return make_error(std::move(code), std::move(message), {}, status, ErrorSide::kInternal);
}

bool all_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::string from_hex(std::string_view s) {
  auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out += static_cast<char>((v(s[i]) << 4) | v(s[i + 1]));
  return out;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

Key Keyring::make_key(std::string bytes) {
  Key k;
  k.id = policy::hex(policy::sha256(bytes)).substr(0, 8);
  k.bytes = std::move(bytes);
  return k;
}

const Key* Keyring::find(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.id == id) return &k;
  return nullptr;
}

Result<Keyring> Keyring::parse(std::string_view text, std::string_view source) {
  Keyring ring;
  size_t line = 1, i = 0, n = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::string_view(" \t\r\n,#").find(text[j]) == std::string_view::npos)
      ++j;
    std::string_view tok = text.substr(i, j - i);
    ++n;
    std::string bytes;
    if (tok.size() == 64 && all_hex(tok)) {
      bytes = from_hex(tok);
    } else {
      bool ok = false;
      bool url = tok.find_first_of("-_") != std::string_view::npos;
      bytes = policy::base64_decode(tok, url, &ok);
      if (!ok) bytes.clear();
    }
    if (bytes.size() != 32)
      return make_error("invalid_secret_key",
                        std::string(source) + ":" + std::to_string(line) + ": key " +
                            std::to_string(n) +
                            " is not 32 bytes as 64 hex digits or base64 (make one with: "
                            "openssl rand -base64 32)",
                        {}, 500, ErrorSide::kInternal);
    Key k = make_key(std::move(bytes));
    if (!ring.find(k.id)) ring.add(std::move(k));
    i = j;
  }
  return ring;
}

Result<std::string> seal(const Keyring& ring, std::string_view plaintext, std::string_view aad) {
  const Key* key = ring.current();
  if (!key)
    return fail("secret_key_missing",
                "storing a secret needs a key-encryption key: start the gateway with "
                "--secret-key-file FILE or GATEHOUSE_SECRET_KEY (32 bytes, base64 or hex)",
                400);
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(buf, kNonce) != 1) return fail("internal", "no random bytes for a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key->bytes), buf) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), buf + kNonce, &len, u8(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), buf + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, buf + kNonce + plaintext.size()) !=
          1)
    return fail("internal", "AES-256-GCM encryption failed");
  return std::string(kPrefix) + key->id + "." + policy::base64_encode(out, true);
}

std::string key_id_of(std::string_view sealed) {
  if (sealed.substr(0, kPrefix.size()) != kPrefix) return {};
  sealed.remove_prefix(kPrefix.size());
  size_t dot = sealed.find('.');
  if (dot != 8) return {};
  return std::string(sealed.substr(0, dot));
}

Result<std::string> unseal(const Keyring& ring, std::string_view sealed, std::string_view aad) {
  std::string id = key_id_of(sealed);
  if (id.empty()) return fail("secret_corrupt", "not a sealed secret value");
  const Key* key = ring.find(id);
  if (!key)
    return fail("secret_key_missing",
                "a secret is sealed under key id " + id +
                    ", which this process does not hold; give it with --secret-key-file or "
                    "GATEHOUSE_SECRET_KEY");
  bool ok = false;
  std::string_view text = sealed.substr(kPrefix.size() + 9);
  std::string raw = policy::base64_decode(text, true, &ok);
  // Only the one encoding we write: unused trailing bits must not give a
  // second spelling of the same value.
  if (!ok || raw.size() < kNonce + kTag || policy::base64_encode(raw, true) != text)
    return fail("secret_corrupt", "a sealed secret is damaged");
  size_t n = raw.size() - kNonce - kTag;
  std::string out(n, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(raw.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool good =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key->bytes), buf) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, buf + kNonce,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, buf + kNonce + n) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!good)
    return fail("secret_corrupt", "a sealed secret does not authenticate under key id " + id +
                                      " (tampered, or moved from another field)");
  return out;
}

Keyring& process_keyring() {
  static Keyring ring;
  return ring;
}

Result<Keyring> load_keyring(const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return make_error("invalid_secret_key", "cannot read --secret-key-file " + file, {}, 500,
                        ErrorSide::kInternal);
    std::ostringstream ss;
    ss << in.rdbuf();
    return Keyring::parse(ss.str(), file);
  }
  if (const char* env = std::getenv("GATEHOUSE_SECRET_KEY"); env && *env)
    return Keyring::parse(env, "GATEHOUSE_SECRET_KEY");
  return Keyring{};
}

Result<Key> generate_key_file(const std::string& path) {
  std::string bytes(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), 32) != 1)
    return fail("internal", "no random bytes for a key");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("invalid_secret_key", "cannot create " + path);
  std::string text = policy::base64_encode(bytes) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) return fail("invalid_secret_key", "cannot write " + path);
  return Keyring::make_key(std::move(bytes));
}

Result<std::string> prepare_process_keyring(const std::string& file, const std::string& data_dir,
                                            bool may_generate,
                                            const std::vector<std::string>& needed) {
  auto ring = load_keyring(file);
  if (!ring) return ring.error();
  std::string note;
  std::string source = !file.empty() ? file : "GATEHOUSE_SECRET_KEY";
  if (ring->empty()) {
    std::string path = data_dir + "/secret.key";
    source = path;
    if (::access(path.c_str(), F_OK) == 0) {
      ring = load_keyring(path);
      if (!ring) return ring.error();
    } else if (may_generate && needed.empty()) {
      auto k = generate_key_file(path);
      if (!k) return k.error();
      ring->add(std::move(*k));
      note = "generated a key-encryption key for provider secrets in " + path +
             "; keep a copy apart from the database (or pass --secret-key-file)";
    }
  }
  for (const auto& id : needed)
    if (!ring->find(id))
      return make_error("secret_key_missing",
                        "the store holds provider secrets sealed under key id " + id +
                            (ring->empty() ? std::string(", but no key-encryption key was given")
                                           : ", which " + source + " does not hold") +
                            ": start with --secret-key-file FILE or GATEHOUSE_SECRET_KEY",
                        {}, 500, ErrorSide::kInternal);
  process_keyring() = std::move(*ring);
  return note;
}

}  // namespace gatehouse::admin::secrets
