// Secrets at rest: AES-256-GCM under an operator-given key-encryption key.
// Provider keys (llm_provider api_key, aws secret key and session token) are
// stored sealed; the data plane gets the plaintext only when the control
// thread builds a snapshot. See README.md ("Provider keys at rest").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::admin::secrets {

struct Key {
  std::string id;     // 8 hex digits of SHA-256(key): names the key in sealed values
  std::string bytes;  // 32 raw bytes
};

// The keys this process holds. The first decrypts and encrypts; the others
// only decrypt (old keys kept during a rotation).
class Keyring {
 public:
  // Keys separated by newlines, commas or spaces ('#' starts a comment), each
  // 32 bytes as 64 hex digits or base64 (standard or url alphabet).
  // `source` names where the text came from in errors.
  static Result<Keyring> parse(std::string_view text, std::string_view source);
  static Key make_key(std::string bytes);

  bool empty() const { return keys_.empty(); }
  const Key* current() const { return keys_.empty() ? nullptr : &keys_.front(); }
  const Key* find(std::string_view id) const;
  const std::vector<Key>& keys() const { return keys_; }
  void add(Key k) { keys_.push_back(std::move(k)); }

 private:
  std::vector<Key> keys_;
};

// "gh1.<key id>.<base64url(nonce 12 | ciphertext | tag 16)>". `aad` binds the
// value to its place (e.g. "llm_provider.api_key"): moved elsewhere it fails.
Result<std::string> seal(const Keyring& ring, std::string_view plaintext, std::string_view aad);
// Errors: secret_key_missing (no key with that id), secret_corrupt (tampered,
// wrong place or not a sealed value).
Result<std::string> unseal(const Keyring& ring, std::string_view sealed, std::string_view aad);
// The key id a sealed value names ("" when it is not one).
std::string key_id_of(std::string_view sealed);

// The process's keyring, set once at start before any thread reads it.
Keyring& process_keyring();

// --secret-key-file, else GATEHOUSE_SECRET_KEY. Empty ring when neither is given.
Result<Keyring> load_keyring(const std::string& file);
// A fresh random key written to `path` (mode 0600, refusing to overwrite).
Result<Key> generate_key_file(const std::string& path);

// Start-up in store mode: loads the process keyring from `file` or the
// environment; with neither, from DATA_DIR/secret.key, which is generated
// when `may_generate` (the embedded SQLite default) and no stored secret
// needs another key. Fails when a key id in `needed` is not held. Returns a
// note for the log ("" when nothing worth saying happened).
Result<std::string> prepare_process_keyring(const std::string& file, const std::string& data_dir,
                                            bool may_generate,
                                            const std::vector<std::string>& needed);

}  // namespace gatehouse::admin::secrets
