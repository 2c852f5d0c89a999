// JWKS fetched from a URL (`jwks_uri`), refreshed in the background and on
// demand when a token names a kid the set does not have (key rotation). The
// fetch runs on a thread of its own with its own io_context, never on a
// worker; workers only load the current key map (an atomic shared_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/result.hpp"
#include "policies/jwt/key.hpp"

namespace gatehouse::policy::jwt {

using KeyMap = std::unordered_map<std::string, std::shared_ptr<const Key>>;  // kid -> key

struct RemoteJwksOptions {
  std::string url;               // http:// or https://
  int64_t refresh_ms = 300'000;  // periodic refetch
  int64_t timeout_ms = 5'000;    // one fetch, connect to last byte
  std::string ca_file;           // https: extra CA bundle (default: the system's)
};

class RemoteJwks {
 public:
  // One source per URL and options, shared by every policy and snapshot
  // that names it, so a config reload does not refetch.
  static std::shared_ptr<RemoteJwks> get(const RemoteJwksOptions& opt);
  ~RemoteJwks();

  // The keys of the last successful fetch; null before the first one.
  std::shared_ptr<const KeyMap> keys() const;
  // A token named an unknown kid: fetch again soon (at most once per
  // kMinRefetchMs, so bad tokens cannot make us hammer the issuer).
  void request_refresh();
  // Blocks up to timeout_ms for the first fetch to finish (either way);
  // true when keys are available.
  bool wait_first(int64_t timeout_ms);
  std::string last_error() const;
  uint64_t fetches() const;  // completed fetch attempts, for tests and metrics

  static constexpr int64_t kMinRefetchMs = 5'000;

  struct State;  // shared with the fetch thread (which outlives nothing it needs)

 private:
  explicit RemoteJwks(std::shared_ptr<State> s) : s_(std::move(s)) {}
  std::shared_ptr<State> s_;
};

// One fetch (exposed for tests): GET url, parse the body as a JWKS.
Result<KeyMap> fetch_jwks(const RemoteJwksOptions& opt);

}  // namespace gatehouse::policy::jwt
