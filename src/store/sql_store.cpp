#include "store/sql_store.hpp"

#include "store/codec.hpp"

namespace gatehouse::store {

Entity entity_from_row(const sql::Row& r) {
  Entity e;
  e.id = r.text(0);
  e.kind = r.text(1);
  e.workspace = r.text(2);
  e.name = r.text(3);
  e.tags = tags_from_json(r.text(4));
  e.body = body_from_json(r.text(5));
  e.version = r.int64(6);
  e.created_at = r.int64(7);
  e.updated_at = r.int64(8);
  e.revision = r.int64(9);
  return e;
}

SqlStore::SqlStore(std::unique_ptr<sql::Conn> conn, std::unique_ptr<FeedSource> feed,
                   std::string description)
    : conn_(std::move(conn)),
      description_(std::move(description)),
      feed_(std::make_unique<ChangeFeed>(std::move(feed))) {}

SqlStore::~SqlStore() {
  feed_.reset();
}

Result<int64_t> SqlStore::revision_locked(bool for_update) {
  // FOR UPDATE is what serialises PostgreSQL writers: every commit locks this
  // one row first, so the entity set it then reads (READ COMMITTED: each
  // statement sees everything committed before it) cannot change under it.
  // SQLite's BEGIN IMMEDIATE already holds the file's only write lock.
  auto rows = conn_->query(for_update && pg()
                               ? "SELECT revision FROM config_revision WHERE id = 1 FOR UPDATE"
                               : "SELECT revision FROM config_revision WHERE id = 1");
  if (!rows) return rows.error();
  if (rows->empty()) return store_failure("config_revision row missing in " + description_);
  return rows->front().int64(0);
}

Result<std::vector<Entity>> SqlStore::entities_locked() {
  auto rows = conn_->query(std::string("SELECT ") + kEntityColumns +
                           " FROM entities ORDER BY workspace, kind, name, id");
  if (!rows) return rows.error();
  std::vector<Entity> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(entity_from_row(r));
  return out;
}

Result<int64_t> SqlStore::current_revision() {
  std::lock_guard g(mu_);
  return revision_locked(false);
}

Result<Entity> SqlStore::get(const Ref& ref) {
  std::lock_guard g(mu_);
  Result<sql::Rows> rows = sql::Rows{};
  std::string select = std::string("SELECT ") + kEntityColumns + " FROM entities WHERE ";
  if (!ref.id.empty()) {
    auto id = normalize_uuid(ref.id);
    if (!id) return not_found(ref);
    rows = conn_->query(select + "id = ?", {*id});
  } else if (!ref.name.empty()) {
    rows = conn_->query(select + "kind = ? AND workspace = ? AND name = ?",
                        {ref.kind, ref.workspace, ref.name});
  }
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(ref);
  Entity e = entity_from_row(rows->front());
  if (e.kind != ref.kind || (ref.workspace != "*" && e.workspace != ref.workspace))
    return not_found(ref);
  return e;
}

Result<Page<Entity>> SqlStore::list(const ListQuery& q) {
  size_t limit = q.limit == 0 ? 100 : q.limit;
  if (limit > 1000)
    return make_error("invalid_query", "limit must be at most 1000", "limit", 400,
                      ErrorSide::kDownstream);
  std::string sql = std::string("SELECT ") + kEntityColumns + " FROM entities e WHERE 1 = 1";
  std::vector<sql::Param> params;
  if (q.workspace != "*") {
    sql += " AND e.workspace = ?";
    params.emplace_back(q.workspace);
  }
  if (!q.kind.empty()) {
    sql += " AND e.kind = ?";
    params.emplace_back(q.kind);
  }
  if (!q.name_prefix.empty()) {
    // substr/length count characters on both engines; LIKE would need
    // escaping and is case-insensitive in SQLite.
    sql += " AND substr(e.name, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT)";
    params.emplace_back(q.name_prefix);
    params.emplace_back(q.name_prefix);
  }
  for (const auto& tag : q.tags) {
    sql += " AND EXISTS (SELECT 1 FROM entity_tags t WHERE t.entity_id = e.id AND t.tag = ?)";
    params.emplace_back(tag);
  }
  if (!q.cursor.empty()) {
    auto key = decode_cursor(q.cursor, 4);
    if (!key) return key.error();
    // Keyset pagination: resumes after the last row seen, so inserts and
    // deletes between pages never duplicate or skip the rows that stay.
    sql += " AND (e.workspace, e.kind, e.name, e.id) > (?, ?, ?, ?)";
    for (auto& k : *key) params.emplace_back(std::move(k));
  }
  sql += " ORDER BY e.workspace, e.kind, e.name, e.id LIMIT ?";
  params.emplace_back(
      static_cast<int64_t>(limit + 1));  // one more tells whether a next page exists

  std::lock_guard g(mu_);
  auto rows = conn_->query(sql, params);
  if (!rows) return rows.error();
  Page<Entity> page;
  for (size_t i = 0; i < rows->size() && i < limit; ++i)
    page.items.push_back(entity_from_row((*rows)[i]));
  if (rows->size() > limit) {
    const Entity& last = page.items.back();
    page.next_cursor = encode_cursor({last.workspace, last.kind, last.name, last.id});
  }
  return page;
}

Result<Snapshot> SqlStore::load_all() {
  std::lock_guard g(mu_);
  sql::TxGuard tx(*conn_);
  if (auto r = tx.begin(sql::Conn::TxMode::kRead); !r) return r.error();
  Snapshot s;
  auto rev = revision_locked(false);
  if (!rev) return rev.error();
  s.revision = *rev;
  auto all = entities_locked();
  if (!all) return all.error();
  s.entities = std::move(*all);
  if (auto r = tx.commit(); !r) return r.error();
  return s;
}

Result<std::optional<std::string>> SqlStore::get_meta(const std::string& key) {
  std::lock_guard g(mu_);
  auto rows = conn_->query("SELECT value FROM meta WHERE key = ?", {key});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->front().text(0));
}

Result<void> SqlStore::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard g(mu_);
  auto rows = conn_->query(
      "INSERT INTO meta(key, value) VALUES (?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      {key, value});
  if (!rows) return rows.error();
  return Ok{};
}

Result<std::string> SqlStore::put_document(std::string_view text) {
  std::string sha = sha256_hex(text);
  std::lock_guard g(mu_);
  auto rows = conn_->query(
      "INSERT INTO api_documents(sha256, body, size, created_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(sha256) DO NOTHING",
      {sha, std::string(text), static_cast<int64_t>(text.size()), now_ms()});
  if (!rows) return rows.error();
  return sha;
}

Result<std::string> SqlStore::get_document(const std::string& sha256) {
  std::lock_guard g(mu_);
  auto rows = conn_->query("SELECT body FROM api_documents WHERE sha256 = ?", {sha256});
  if (!rows) return rows.error();
  if (rows->empty())
    return make_error("not_found", "no API document with hash " + sha256, {}, 404,
                      ErrorSide::kDownstream);
  return rows->front().text(0);
}

Subscription SqlStore::watch(WatchCallback cb) {
  auto rev = current_revision();
  // Unknown (database down): 0 means the first revision the feed learns of
  // is delivered, which errs on the side of one extra reload.
  return feed_->subscribe(std::move(cb), rev ? *rev : 0);
}

}  // namespace gatehouse::store
