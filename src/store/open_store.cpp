#include <filesystem>
#include <system_error>

#include "store/migrations/migrations.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/postgres/pg_feed.hpp"
#include "store/sql_store.hpp"
#include "store/sqlite/sqlite_conn.hpp"
#include "store/sqlite/sqlite_feed.hpp"

namespace gatehouse::store {

namespace fs = std::filesystem;

namespace {

// Absolute, so a later chdir changes nothing and logs show the real file.
std::string absolute_path(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const StoreOptions& o) {
  auto conn = sqlite::SqliteConn::open(path, o.busy_timeout);
  if (!conn) return conn.error();
  if (auto r = migrations::migrate(**conn); !r) return r.error();
  auto feed = std::make_unique<sqlite::SqliteFeed>(path, o.poll_interval, o.busy_timeout);
  return std::unique_ptr<Store>(
      std::make_unique<SqlStore>(std::move(*conn), std::move(feed), "sqlite:" + path));
}

Result<std::unique_ptr<Store>> open_postgres(const std::string& url, const StoreOptions& o) {
  auto conn = postgres::PgConn::open(url);
  if (!conn) return conn.error();
  if (auto r = migrations::migrate(**conn); !r) return r.error();
  auto feed = std::make_unique<postgres::PgFeed>(url, o);
  return std::unique_ptr<Store>(
      std::make_unique<SqlStore>(std::move(*conn), std::move(feed), postgres::redact_url(url)));
}

}  // namespace

Result<std::unique_ptr<Store>> open_store(const std::string& url, const std::string& data_dir,
                                          const StoreOptions& options) {
  if (url.empty()) {
    fs::path dir = data_dir.empty() ? fs::path(".") : fs::path(data_dir);
    return open_sqlite(absolute_path(dir / "gatehouse.db"), options);
  }
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.empty())
      return make_error("invalid_store_url",
                        "sqlite: needs a file path, e.g. sqlite:/var/lib/gatehouse/gatehouse.db",
                        "--store");
    // ":memory:": a private in-memory database (file mode's read-only view
    // of the file for the admin API); nothing touches the disk.
    return open_sqlite(path == ":memory:" ? path : absolute_path(path), options);
  }
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return open_postgres(url, options);
  return make_error("invalid_store_url",
                    "--store must be empty (SQLite in the data folder), sqlite:PATH or "
                    "postgres://user@host:port/database",
                    "--store");
}

}  // namespace gatehouse::store
