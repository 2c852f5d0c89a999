#include "store/sqlite/sqlite_conn.hpp"

#include <filesystem>
#include <system_error>

namespace gatehouse::store::sqlite {

namespace fs = std::filesystem;

Result<std::unique_ptr<SqliteConn>> SqliteConn::open(const std::string& path,
                                                     std::chrono::milliseconds busy_timeout) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec)
    return make_error("store_error",
                      "cannot create the data folder " + parent.string() + ": " + ec.message());
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serialises every call, SQLite's own mutex would be a
  // second lock for nothing.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteConn> c(new SqliteConn(raw, path));  // closes `raw` even on failure
  if (rc != SQLITE_OK) return c->error(rc, "cannot open");
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  sqlite3_extended_result_codes(raw, 1);
  // WAL: readers (the admin API, another process's watcher) never wait for
  // the writer. synchronous=NORMAL in WAL keeps every commit across a
  // process crash; only a power cut may lose the last ones. Foreign keys
  // are off by default in SQLite and the tag table relies on its cascade.
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto r = c->script(sql); !r) return r.error();
  }
  return c;
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, s] : stmts_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

Error SqliteConn::error(int rc, std::string_view what) const {
  std::string msg =
      std::string(what) + " " + path_ + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return make_error("store_busy", msg, {}, 503);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    return make_error("unique_violation", msg, {}, 409, ErrorSide::kDownstream);
  return make_error("store_error", msg, {}, 500);
}

Result<sql::Rows> SqliteConn::query(std::string_view sql, const std::vector<sql::Param>& params) {
  auto it = stmts_.find(sql);
  if (it == stmts_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return error(rc, "cannot prepare a statement for");
    it = stmts_.emplace(std::string(sql), s).first;
  }
  sqlite3_stmt* s = it->second;
  // Leaves the cached statement reset and unbound whatever happens below.
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{s};
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    const auto& p = params[i];
    if (std::holds_alternative<int64_t>(p)) {
      sqlite3_bind_int64(s, idx, std::get<int64_t>(p));
    } else if (std::holds_alternative<std::string>(p)) {
      const auto& v = std::get<std::string>(p);
      sqlite3_bind_text(s, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(s, idx);
    }
  }
  sql::Rows rows;
  int cols = sqlite3_column_count(s);
  for (;;) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error(rc, "query failed on");
    sql::Row row;
    row.cols.reserve(static_cast<size_t>(cols));
    for (int c = 0; c < cols; ++c) {
      if (sqlite3_column_type(s, c) == SQLITE_NULL) {
        row.cols.emplace_back(std::nullopt);
        continue;
      }
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      int n = sqlite3_column_bytes(s, c);
      row.cols.emplace_back(std::string(t ? t : "", static_cast<size_t>(n)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<void> SqliteConn::script(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Ok{};
  std::string what = err ? err : "error";
  sqlite3_free(err);
  Error e = error(rc, "statement failed on");
  e.message += " (" + what + ")";
  return e;
}

Result<void> SqliteConn::begin(TxMode mode) {
  // IMMEDIATE takes the write lock up front (waiting up to the busy
  // timeout): a deferred transaction that read first could not upgrade once
  // another process wrote, and would fail instead of waiting.
  return script(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
}

Result<void> SqliteConn::commit() {
  return script("COMMIT");
}

void SqliteConn::rollback() {
  if (!sqlite3_get_autocommit(db_)) (void)script("ROLLBACK");
}

}  // namespace gatehouse::store::sqlite
