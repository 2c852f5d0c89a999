// How a PostgreSQL store learns of commits by any node: LISTEN on a
// dedicated connection (every commit runs pg_notify inside its transaction),
// plus a periodic re-read of the revision as a safety net, and an immediate
// one after every (re)connect, since notifications sent while the listener
// was away are gone for good.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <string>

#include "store/store.hpp"
#include "store/watch.hpp"

namespace gatehouse::store::postgres {

inline constexpr const char* kChannel = "gatehouse_changes";
inline constexpr const char* kListenerName = "gatehouse-watch";  // application_name

class PgFeed final : public FeedSource {
 public:
  PgFeed(std::string url, const StoreOptions& o)
      : url_(std::move(url)),
        resync_(o.resync_interval),
        first_delay_(o.reconnect_delay),
        delay_(o.reconnect_delay) {}
  ~PgFeed() override;
  int64_t wait(int wake_fd) override;

 private:
  bool connect_and_listen();
  void lost(const char* why);
  int64_t drain_notifications();
  int64_t read_revision();  // -1 when the connection failed

  std::string url_;
  std::chrono::milliseconds resync_, first_delay_, delay_;
  PGconn* conn_ = nullptr;
  bool need_resync_ = true;
  bool warned_ = false;
  std::chrono::steady_clock::time_point next_resync_{};
};

}  // namespace gatehouse::store::postgres
