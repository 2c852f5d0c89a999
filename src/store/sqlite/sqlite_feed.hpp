// How a SQLite store learns of commits by other processes on the same file:
// it polls the revision row on its own read connection. (In-process commits
// are delivered at once by ChangeFeed::local_commit.)
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/sqlite/sqlite_conn.hpp"
#include "store/watch.hpp"

namespace gatehouse::store::sqlite {

class SqliteFeed final : public FeedSource {
 public:
  SqliteFeed(std::string path, std::chrono::milliseconds interval,
             std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), interval_(interval), busy_timeout_(busy_timeout) {}
  int64_t wait(int wake_fd) override;

 private:
  std::string path_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds busy_timeout_;
  std::unique_ptr<SqliteConn> conn_;  // opened on the watcher thread
};

}  // namespace gatehouse::store::sqlite
