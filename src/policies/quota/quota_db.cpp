#include "policies/quota/quota_db.hpp"

#include <filesystem>
#include <system_error>

namespace gatehouse::policy::quota {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS quota_usage("
    "scope TEXT NOT NULL, key TEXT NOT NULL, period_start INTEGER NOT NULL, "
    "count INTEGER NOT NULL, PRIMARY KEY(scope, key, period_start))";

constexpr const char* kUpsert =
    "INSERT INTO quota_usage(scope, key, period_start, count) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(scope, key, period_start) DO UPDATE SET count = count + excluded.count";

// Another process on the same folder (a restart overlapping the old process)
// may hold the write lock for a moment.
constexpr int kBusyTimeoutMs = 5000;

Error db_error(sqlite3* db, const std::string& path, const std::string& what) {
  std::string msg = what + " " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  return make_error("quota_store_error", msg);
}

Result<void> exec(sqlite3* db, const std::string& path, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return Ok{};
  std::string msg = "quota database " + path + ": " + (err ? err : "error") + " (" + sql + ")";
  sqlite3_free(err);
  return make_error("quota_store_error", msg);
}

// Keeps a statement finalized on every path out of a function.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::string db_path_in(const std::string& data_dir) {
  std::error_code ec;
  fs::path dir = fs::absolute(data_dir.empty() ? fs::path(".") : fs::path(data_dir), ec);
  if (ec) dir = data_dir;
  return (dir / "quotas.db").lexically_normal().string();
}

Result<std::unique_ptr<QuotaDb>> QuotaDb::open(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    return make_error("quota_store_error",
                      "cannot create the data folder for " + path + ": " + ec.message());
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<QuotaDb> db(new QuotaDb(raw));  // closes `raw` even when opening failed
  if (rc != SQLITE_OK) return db_error(raw, path, "cannot open");
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // WAL: the writer's commits never block a reader (a starting process
  // loading its counts). synchronous=NORMAL keeps every commit across a
  // process crash; a power cut may lose the last ones, which the 1 s flush
  // interval already allows.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (auto r = exec(raw, path, sql); !r) return r.error();
  }
  if (sqlite3_prepare_v2(raw, kUpsert, -1, &db->upsert_, nullptr) != SQLITE_OK)
    return db_error(raw, path, "cannot prepare the upsert for");
  return db;
}

QuotaDb::~QuotaDb() {
  sqlite3_finalize(upsert_);
  sqlite3_close_v2(db_);
}

Result<void> QuotaDb::add(const std::vector<ScopeDeltas>& batches) {
  const char* name = sqlite3_db_filename(db_, "main");
  std::string path = name ? name : "";
  if (auto r = exec(db_, path, "BEGIN IMMEDIATE"); !r) return r;
  for (const auto& b : batches) {
    for (const auto& d : b.deltas) {
      sqlite3_reset(upsert_);
      bind_text(upsert_, 1, b.scope);
      bind_text(upsert_, 2, d.key);
      sqlite3_bind_int64(upsert_, 3, d.period_start);
      sqlite3_bind_int64(upsert_, 4, d.count);
      if (sqlite3_step(upsert_) != SQLITE_DONE) {
        Error e = db_error(db_, path, "cannot save quota counts to");
        sqlite3_reset(upsert_);
        (void)exec(db_, path, "ROLLBACK");
        return e;
      }
    }
  }
  sqlite3_reset(upsert_);
  if (auto r = exec(db_, path, "COMMIT"); !r) {
    (void)exec(db_, path, "ROLLBACK");
    return r;
  }
  return Ok{};
}

Result<std::vector<std::pair<std::string, int64_t>>> load_usage(const std::string& path,
                                                                const std::string& scope,
                                                                int64_t period_start) {
  std::vector<std::pair<std::string, int64_t>> rows;
  std::error_code ec;
  if (!fs::exists(path, ec)) return rows;
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> db(raw, &sqlite3_close_v2);
  if (rc != SQLITE_OK) return db_error(raw, path, "cannot open");
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  {
    Stmt t;
    if (sqlite3_prepare_v2(raw,
                           "SELECT 1 FROM sqlite_master WHERE type='table' AND name='quota_usage'",
                           -1, &t.s, nullptr) != SQLITE_OK)
      return db_error(raw, path, "cannot read");
    int step = sqlite3_step(t.s);
    if (step == SQLITE_DONE) return rows;  // a file without the table: nothing counted yet
    if (step != SQLITE_ROW) return db_error(raw, path, "cannot read");
  }
  Stmt q;
  if (sqlite3_prepare_v2(
          raw, "SELECT key, count FROM quota_usage WHERE scope = ?1 AND period_start = ?2", -1,
          &q.s, nullptr) != SQLITE_OK)
    return db_error(raw, path, "cannot read");
  bind_text(q.s, 1, scope);
  sqlite3_bind_int64(q.s, 2, period_start);
  int step;
  while ((step = sqlite3_step(q.s)) == SQLITE_ROW) {
    const auto* k = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
    int n = sqlite3_column_bytes(q.s, 0);
    rows.emplace_back(std::string(k ? k : "", static_cast<size_t>(n)),
                      sqlite3_column_int64(q.s, 1));
  }
  if (step != SQLITE_DONE) return db_error(raw, path, "cannot read");
  return rows;
}

}  // namespace gatehouse::policy::quota
