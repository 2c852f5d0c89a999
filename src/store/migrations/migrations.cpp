#include "store/migrations/migrations.hpp"

#include "store/codec.hpp"

namespace gatehouse::store::migrations {

namespace {

// Same tables in both dialects. Differences, each on purpose:
// - PostgreSQL text columns that are compared or sorted use COLLATE "C", so
//   list order and cursors are byte order like SQLite's BINARY collation
//   (a database created with a natural-language locale would otherwise sort
//   differently from the store's own comparisons).
// - Bodies are TEXT, not jsonb, in PostgreSQL too: they come back byte for
//   byte as written (key order, number spelling), the same on both backends.
// - The audit id never repeats (AUTOINCREMENT / identity), so audit cursors
//   stay valid.
constexpr const char* kV1Sqlite = R"sql(
CREATE TABLE config_revision(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision INTEGER NOT NULL);
INSERT INTO config_revision(id, revision) VALUES (1, 0);
CREATE TABLE entities(
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  workspace TEXT NOT NULL,
  name TEXT NOT NULL,
  tags TEXT NOT NULL,
  body TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  revision INTEGER NOT NULL);
CREATE UNIQUE INDEX entities_name ON entities(kind, workspace, name) WHERE name <> '';
CREATE INDEX entities_order ON entities(workspace, kind, name, id);
CREATE TABLE entity_tags(
  entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (entity_id, tag));
CREATE INDEX entity_tags_tag ON entity_tags(tag, entity_id);
CREATE TABLE audit_log(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  revision INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  workspace TEXT NOT NULL,
  name TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT);
CREATE INDEX audit_entity ON audit_log(entity_id, id);
CREATE TABLE admin_tokens(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  workspace TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL);
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
)sql";

constexpr const char* kV1Postgres = R"sql(
CREATE TABLE config_revision(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision BIGINT NOT NULL);
INSERT INTO config_revision(id, revision) VALUES (1, 0);
CREATE TABLE entities(
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL,
  workspace TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  tags TEXT NOT NULL,
  body TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  revision BIGINT NOT NULL);
CREATE UNIQUE INDEX entities_name ON entities(kind, workspace, name) WHERE name <> '';
CREATE INDEX entities_order ON entities(workspace, kind, name, id);
CREATE TABLE entity_tags(
  entity_id TEXT COLLATE "C" NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  tag TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (entity_id, tag));
CREATE INDEX entity_tags_tag ON entity_tags(tag, entity_id);
CREATE TABLE audit_log(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  revision BIGINT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  kind TEXT NOT NULL,
  entity_id TEXT COLLATE "C" NOT NULL,
  workspace TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT);
CREATE INDEX audit_entity ON audit_log(entity_id, id);
CREATE TABLE admin_tokens(
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  workspace TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL);
CREATE TABLE meta(
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL);
)sql";

// API documents (OpenAPI texts of API revisions) live outside the entity
// table: a commit reads the whole entity set, and a 13 MB document in it
// would make every config change pay for it. Content-addressed by SHA-256, so
// storing the same text twice is one row; revisions refer to it by hash.
constexpr const char* kV2Sqlite = R"sql(
CREATE TABLE api_documents(
  sha256 TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL);
)sql";

constexpr const char* kV2Postgres = R"sql(
CREATE TABLE api_documents(
  sha256 TEXT COLLATE "C" PRIMARY KEY,
  body TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL);
)sql";

// LLM usage records (src/ai/usage/recorder.cpp): analytics, not
// configuration, so no revision and no audit; written in batches by each node,
// deleted past the retention. `at` (unix ms) leads the only index because
// every query and the retention sweep are time ranges. Cost is in
// nano-units of llm.currency (NULL: unknown, which SUM skips), so sums are
// exact integers on both engines.
constexpr const char* kV3Sqlite = R"sql(
CREATE TABLE llm_usage(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT NOT NULL,
  consumer TEXT NOT NULL,
  credential TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_known INTEGER NOT NULL,
  cost_nanos INTEGER,
  status INTEGER NOT NULL,
  error TEXT NOT NULL,
  partial INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  ttft_us INTEGER,
  duration_us INTEGER NOT NULL,
  attempts INTEGER NOT NULL);
CREATE INDEX llm_usage_at ON llm_usage(at, id);
)sql";

constexpr const char* kV3Postgres = R"sql(
CREATE TABLE llm_usage(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  request_id TEXT NOT NULL,
  route TEXT COLLATE "C" NOT NULL,
  consumer TEXT COLLATE "C" NOT NULL,
  credential TEXT COLLATE "C" NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT NOT NULL,
  model TEXT COLLATE "C" NOT NULL,
  provider TEXT COLLATE "C" NOT NULL,
  provider_model TEXT NOT NULL,
  input_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  usage_known INTEGER NOT NULL,
  cost_nanos BIGINT,
  status INTEGER NOT NULL,
  error TEXT NOT NULL,
  partial INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  ttft_us BIGINT,
  duration_us BIGINT NOT NULL,
  attempts INTEGER NOT NULL);
CREATE INDEX llm_usage_at ON llm_usage(at, id);
)sql";

// MCP registry observations: what each upstream MCP server listed last and the
// approved (pinned) definition. Written by the gateway when a definition
// changes, not by config commits, so they live outside the entity table
// (no revision bump, no snapshot rebuild per observation).
constexpr const char* kV4Sqlite = R"sql(
CREATE TABLE mcp_definitions(
  server TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  pinned_sha256 TEXT NOT NULL,
  pinned_json TEXT NOT NULL,
  seen_sha256 TEXT NOT NULL,
  seen_json TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  changed_at INTEGER NOT NULL,
  approved_by TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  PRIMARY KEY (server, kind, name));
)sql";

constexpr const char* kV4Postgres = R"sql(
CREATE TABLE mcp_definitions(
  server TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  pinned_sha256 TEXT NOT NULL,
  pinned_json TEXT NOT NULL,
  seen_sha256 TEXT NOT NULL,
  seen_json TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  changed_at BIGINT NOT NULL,
  approved_by TEXT NOT NULL,
  approved_at BIGINT NOT NULL,
  PRIMARY KEY (server, kind, name));
)sql";

// An arbitrary constant: the advisory lock that keeps two nodes starting at
// once from migrating the same PostgreSQL database together.
constexpr int64_t kMigrationLock = 0x67617465686f7573;  // "gatehous"

}  // namespace

const std::vector<Migration>& all() {
  static const std::vector<Migration> list = {
      {1, "entities, revision, audit, tokens, meta", kV1Sqlite, kV1Postgres},
      {2, "api documents", kV2Sqlite, kV2Postgres},
      {3, "llm usage records", kV3Sqlite, kV3Postgres},
      {4, "mcp registry definitions", kV4Sqlite, kV4Postgres},
  };
  return list;
}

Result<int64_t> schema_version(sql::Conn& c) {
  auto rows = c.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows) return rows.error();
  return rows->empty() ? int64_t{0} : rows->front().int64(0);
}

Result<void> migrate(sql::Conn& c, const std::vector<Migration>& list) {
  sql::TxGuard tx(c);
  if (auto r = tx.begin(sql::Conn::TxMode::kWrite); !r) return r;
  bool pg = c.dialect() == sql::Dialect::kPostgres;
  if (pg) {
    if (auto r = c.query("SELECT pg_advisory_xact_lock(?)", {kMigrationLock}); !r) return r.error();
  }
  if (auto r =
          c.script("CREATE TABLE IF NOT EXISTS schema_migrations("
                   "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
      !r)
    return r;
  auto current = schema_version(c);
  if (!current) return current.error();
  int64_t known = list.empty() ? 0 : list.back().version;
  if (*current > known)
    return make_error("schema_too_new",
                      "the database schema is at version " + std::to_string(*current) +
                          " but this gatehouse knows versions up to " + std::to_string(known) +
                          "; run a newer gatehouse (or point this one at another database)");
  bool applied = false;
  for (const auto& m : list) {
    if (m.version <= *current) continue;
    if (auto r = c.script(pg ? m.postgres : m.sqlite); !r) {
      Error e = r.error();
      e.message = "migration " + std::to_string(m.version) + " (" + m.name + "): " + e.message;
      return e;
    }
    auto ins = c.query("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                       {m.version, std::string(m.name), now_ms()});
    if (!ins) return ins.error();
    applied = true;
  }
  if (!applied) return Ok{};  // the guard rolls back the empty transaction
  return tx.commit();
}

}  // namespace gatehouse::store::migrations
