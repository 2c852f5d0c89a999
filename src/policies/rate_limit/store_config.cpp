#include "policies/rate_limit/store_config.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "common/strings.hpp"

namespace gatehouse::policy::rate_limit {

namespace {

constexpr int64_t kMinSyncMs = 10;
constexpr int64_t kMaxSyncMs = 10'000;
constexpr int64_t kMaxTimeoutMs = 10'000;

// The `redis` block. Field paths are "config.redis.<key>".
class RedisReader {
 public:
  RedisReader(ConfigReader& cr, YAML::Node n) : cr_(cr), n_(std::move(n)) {}

  void check_keys() {
    static const std::set<std::string> kKnown = {"host",     "port",    "password",
                                                 "database", "timeout", "prefix"};
    for (const auto& kv : n_) {
      std::string k = kv.first.as<std::string>("");
      if (!kKnown.count(k))
        fail(k, "unknown_field",
             "unknown field '" + k + "' (known: host, port, password, database, timeout, prefix)");
    }
  }

  std::optional<std::string> str(const char* key) {
    YAML::Node v = n_[key];
    if (!v) return std::nullopt;
    if (!v.IsScalar()) {
      fail(key, "invalid_type", "expected a string");
      return std::nullopt;
    }
    return v.Scalar();
  }

  int64_t integer(const char* key, int64_t def, int64_t min, int64_t max) {
    YAML::Node v = n_[key];
    if (!v) return def;
    int64_t x = 0;
    try {
      if (!v.IsScalar()) throw YAML::Exception(YAML::Mark(), "not a scalar");
      x = v.as<int64_t>();
    } catch (const YAML::Exception&) {
      fail(key, "invalid_type", "expected an integer");
      return def;
    }
    if (x < min || x > max) {
      fail(key, "invalid_value",
           "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return def;
    }
    return x;
  }

  int64_t duration_ms(const char* key, int64_t def, int64_t min, int64_t max) {
    auto s = str(key);
    if (!s) return def;
    auto v = parse_duration_ms(*s);
    if (!v) {
      fail(key, "invalid_value", "'" + *s + "' is not a duration (e.g. 200ms, 1s)");
      return def;
    }
    if (*v < min || *v > max) {
      fail(key, "invalid_value",
           "must be between " + std::to_string(min) + "ms and " + std::to_string(max) + "ms");
      return def;
    }
    return *v;
  }

  void fail(const std::string& key, const std::string& code, const std::string& msg) {
    cr_.fail("redis." + key, code, msg);
  }

 private:
  ConfigReader& cr_;
  YAML::Node n_;
};

void read_redis(ConfigReader& cr, ClusterOptions& o) {
  YAML::Node n = cr.node("redis");
  if (!n) return;  // every default: 127.0.0.1:6379, database 0
  if (!n.IsMap()) {
    cr.fail("redis", "invalid_type", "expected a mapping such as {host: 10.0.0.5, port: 6379}");
    return;
  }
  RedisReader r(cr, n);
  r.check_keys();
  if (auto host = r.str("host")) {
    std::string h = std::string(trim_ows(*host));
    if (h.empty() || h.find_first_of(" \t/") != std::string::npos)
      r.fail("host", "invalid_value", "expected a host name or IP address, e.g. 10.0.0.5");
    else
      o.redis.host = h;
  }
  o.redis.port = static_cast<int>(r.integer("port", 6379, 1, 65535));
  if (auto pw = r.str("password")) o.redis.password = *pw;
  o.redis.database = r.integer("database", 0, 0, 2'147'483'647);
  o.redis.timeout_ms = r.duration_ms("timeout", 200, 1, kMaxTimeoutMs);
  if (auto prefix = r.str("prefix")) o.prefix = *prefix;
}

}  // namespace

void read_redis_block(ConfigReader& cr, ClusterOptions& o) {
  read_redis(cr, o);
}

std::string StoreConfig::identity() const {
  if (!redis) return {};
  return "redis|" + cluster.redis.id() + "|" + cluster.prefix + "|" +
         std::to_string(cluster.sync_interval_ms) + "|" + (cluster.fail_closed ? "closed" : "open");
}

StoreConfig read_store_config(ConfigReader& cr, const Limit& limit) {
  StoreConfig sc;
  sc.redis = cr.choice("store", {"local", "redis"}, "local") == "redis";
  if (!sc.redis) {
    for (const char* k : {"redis", "sync_interval", "on_store_error"})
      if (cr.has(k))
        cr.fail(k, "invalid_value", std::string(k) + " is only used with store: redis");
    return sc;
  }
  // A shared bucket needs its refill applied where the tokens are (a script
  // in Redis on every request), which is the round trip this store avoids.
  if (limit.algorithm == Algorithm::kTokenBucket)
    cr.fail("algorithm", "invalid_value",
            "store: redis counts with sliding-window only; remove algorithm: token-bucket or use "
            "store: local");
  read_redis(cr, sc.cluster);

  // At most half a window: a node must hear from the others several times
  // per window for the shared count to mean anything.
  const int64_t max_sync = std::min(kMaxSyncMs, limit.window_ms / 2);
  int64_t sync = cr.duration_ms("sync_interval", 100, kMinSyncMs);
  if (sync > max_sync) {
    cr.fail("sync_interval", "invalid_value",
            "must be at most " + std::to_string(max_sync) + "ms (10s, and half the window)");
    sync = std::min<int64_t>(100, max_sync);
  }
  sc.cluster.sync_interval_ms = sync;
  sc.cluster.fail_closed = cr.choice("on_store_error", {"open", "closed"}, "open") == "closed";
  return sc;
}

}  // namespace gatehouse::policy::rate_limit
