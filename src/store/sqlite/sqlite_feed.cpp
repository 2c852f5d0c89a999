#include "store/sqlite/sqlite_feed.hpp"

#include <poll.h>

#include "common/log.hpp"

namespace gatehouse::store::sqlite {

int64_t SqliteFeed::wait(int wake_fd) {
  pollfd p{wake_fd, POLLIN, 0};
  (void)poll(&p, 1, static_cast<int>(interval_.count()));
  if (!conn_) {
    auto c = SqliteConn::open(path_, busy_timeout_);
    if (!c) {
      log::warn("store watcher cannot open the database", {log::f("error", c.error().message)});
      return 0;
    }
    conn_ = std::move(*c);
  }
  // A single-statement read in WAL mode: it never waits for a writer.
  auto rows = conn_->query("SELECT revision FROM config_revision WHERE id = 1", {});
  if (!rows || rows->empty()) return 0;
  return rows->front().int64(0);
}

}  // namespace gatehouse::store::sqlite
