// Where a rate-limit policy keeps its counts: `store: local` (this node) or
// `store: redis` with its `redis` block, `sync_interval` and
// `on_store_error`. Read strictly, with field paths, like the rest of the
// policy's config.
#pragma once

#include "policies/config_reader.hpp"
#include "policies/rate_limit/counter_store.hpp"
#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::rate_limit {

struct StoreConfig {
  bool redis = false;
  ClusterOptions cluster;  // store: redis only
  // What identifies the store's settings for reload survival ("" for local).
  std::string identity() const;
};

// `limit` is already read (algorithm and window constrain the store).
StoreConfig read_store_config(ConfigReader& cr, const Limit& limit);
// Just the `redis` block (host, port, password, database, timeout, prefix),
// for other policies with a Redis store (llm-token-limit, llm-budget).
void read_redis_block(ConfigReader& cr, ClusterOptions& o);

}  // namespace gatehouse::policy::rate_limit
