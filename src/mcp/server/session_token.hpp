// Mcp-Session-Id values are sealed tokens, not keys into a table: the state
// a session needs (route, consumer, negotiated version, the upstream session
// ids) is encrypted and authenticated with AES-256-GCM under a key derived
// once (HKDF-SHA256) from mcp.session_secret. Any node with the same secret
// serves any session; no shared store is needed. Without a secret the key is
// random per process: sessions then end with the process.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mcp {

class SessionKey {
 public:
  // Derives the key from `secret`; an empty secret takes the process's random
  // secret (made once, so every reload keeps the same key).
  static std::shared_ptr<const SessionKey> derive(std::string_view secret);

  // base64url(nonce[12] | ciphertext | tag[16]); a fresh random nonce each time.
  std::string seal(std::string_view plaintext) const;
  // The plaintext, or nullopt when the token is malformed, was made with
  // another key or was altered.
  std::optional<std::string> open(std::string_view token) const;

 private:
  std::array<unsigned char, 32> key_{};
};

// What a session token carries.
struct SessionState {
  struct Upstream {
    std::string server;
    std::string session_id;        // the upstream's Mcp-Session-Id, empty = none
    std::string protocol_version;  // negotiated with that upstream
    bool failed = false;           // initialize failed: skipped and reported
    // Why it failed (the transport's error, at most kMaxErrorText bytes), so
    // the lists can say why: "TLS: ... unable to get local issuer certificate".
    std::string error;
    static constexpr size_t kMaxErrorText = 240;
  };
  std::string route;
  std::string consumer;          // empty when the route has no authentication
  std::string protocol_version;  // negotiated with the client
  int64_t issued_s = 0;          // unix seconds
  // What the client can be asked (its sampling, elicitation and roots
  // capabilities as JSON, "" = none): what upstreams are told it has.
  std::string client_capabilities;
  std::vector<Upstream> upstreams;

  std::string encode() const;  // compact JSON
  static std::optional<SessionState> decode(std::string_view json);
  const Upstream* find(std::string_view server) const;
};

}  // namespace gatehouse::mcp
