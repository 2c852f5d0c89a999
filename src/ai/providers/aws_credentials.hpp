// AWS credentials for the Bedrock provider: the operator's static keys, or
// the AWS SDKs' default chain found at run time (environment, shared files,
// container credentials endpoint, EC2 instance metadata v2), cached and
// refreshed ahead of expiry without holding requests back.
//
// One `CredentialSource` per credential setting is shared by every worker
// (and kept across config reloads): requests read the cached keys with one
// atomic load; when they are due for renewal the first request to notice
// starts one fetch on its own executor and goes on with the old keys; only
// when there are no valid keys at all do requests wait, all of them for
// that one fetch. A failed renewal keeps serving the old keys until they
// expire; then calls fail with `ai_provider_auth` (502).
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/providers/sigv4.hpp"
#include "common/result.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::aws {

using Clock = std::chrono::system_clock;

struct Credentials {
  sigv4::Credentials keys;
  std::optional<Clock::time_point> expires;  // none: long-term keys
  std::string source;  // for logs: "environment", "profile dev", "container", ...
};

// When cached keys are renewed (tests shorten these).
struct Timing {
  // Renew this long before `Expiration` (the SDKs' 5 minutes)...
  std::chrono::milliseconds refresh_ahead{300'000};
  // ...but not more often than this, should an endpoint keep handing out
  // keys that are already inside that window.
  std::chrono::milliseconds min_gap{5'000};
  // After a failed fetch, the next one waits this long (requests that need
  // keys meanwhile get the failure at once instead of queueing on a dead
  // metadata endpoint).
  std::chrono::milliseconds retry_after_failure{5'000};
  // Long-term keys from the environment or the shared files are read again
  // this often, so keys rotated in ~/.aws/credentials are picked up.
  std::chrono::milliseconds reread_long_term{300'000};
};

// Temporary credentials as the container endpoint and IMDS send them:
// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} (IMDS also
// "Code": "Success"). `what` names the source in errors and in `source`.
Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what);

// RFC 3339 / ISO 8601 date-time ("2026-11-29T20:15:00Z", fractional seconds
// and numeric offsets accepted); nullopt when malformed.
std::optional<Clock::time_point> parse_time(std::string_view s);

// What a request does with the cache: the refresh decision, a pure function
// of the cache state and the time (unit-tested).
struct CacheView {
  bool have = false;                           // keys cached
  std::optional<Clock::time_point> expires;    // of the cached keys
  Clock::time_point refresh_at{};              // renew from then on
  bool refreshing = false;                     // a fetch is running
  std::optional<Clock::time_point> failed_at;  // the last fetch failed then
};
struct Plan {
  bool use = false;            // sign with the cached keys
  bool start_refresh = false;  // start a fetch (this caller)
  bool wait = false;           // wait for the running (or started) fetch
  bool fail = false;           // answer with the last fetch's error
};
Plan plan(const CacheView& c, Clock::time_point now, const Timing& t = {});

// When cached keys are renewed: refresh_ahead before they expire, at least
// min_gap after they were fetched; long-term keys reread_long_term on.
Clock::time_point refresh_time(const Credentials& c, Clock::time_point fetched,
                               const Timing& t = {});

// The default chain, walked once. `profile` is the provider's aws.profile:
// when set only the shared files are read, for that profile (an operator who
// names a profile means it, not whatever else the machine has). `tls` is for
// an https container endpoint. Errors: code "ai_provider_auth", a message
// naming each source tried and why it gave nothing.
awaitable<Result<Credentials>> resolve_chain(std::string profile,
                                             std::shared_ptr<asio::ssl::context> tls);

// Where the container endpoint is, and the Authorization header for it, from
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE). An http full URI must name a
// loopback address or the ECS/EKS ones (169.254.170.2, 169.254.170.23,
// fd00:ec2::23), as the SDKs require. `url` empty: not configured.
struct ContainerEndpoint {
  std::string url;
  std::string authorization;
};
Result<ContainerEndpoint> container_endpoint();

class CredentialSource : public std::enable_shared_from_this<CredentialSource> {
 public:
  using Fetch = std::function<awaitable<Result<Credentials>>()>;

  // The operator's static keys: always there, never renewed.
  static std::shared_ptr<CredentialSource> fixed(sigv4::Credentials keys);
  // The chain for `profile` (empty: AWS_PROFILE or "default"), one per
  // profile in the process, so providers and reloads share its cache.
  static std::shared_ptr<CredentialSource> chain(const std::string& profile);
  // A source over any fetch (tests).
  static std::shared_ptr<CredentialSource> with_fetch(Fetch fetch, std::string label,
                                                      Timing timing = {});

  // The keys to sign with now, waiting only when none are valid.
  awaitable<Result<std::shared_ptr<const Credentials>>> get();

  CredentialSource(Fetch fetch, std::string label, Timing timing = {});

 private:
  struct Held {
    Credentials creds;
    Clock::time_point refresh_at;
  };
  struct Waiter {
    asio::any_io_executor ex;
    std::shared_ptr<asio::steady_timer> timer;
  };
  // `keep` holds the source for the fetch, which may outlive every provider
  // (a reload); it is taken when the coroutine is created, before it runs.
  awaitable<void> refresh(std::shared_ptr<CredentialSource> keep);
  CacheView view(const std::shared_ptr<const Held>& h) const;

  Fetch fetch_;
  std::string label_;
  Timing timing_;  // "chain (profile dev)" for logs
  std::atomic<std::shared_ptr<const Held>> held_;
  // Below: the cold path only (a renewal is due or keys are missing).
  mutable std::mutex mu_;
  bool refreshing_ = false;
  std::optional<Clock::time_point> failed_at_;
  Error last_error_;
  std::vector<Waiter> waiters_;
};

}  // namespace gatehouse::ai::aws
