// SqlStore: the MCP registry's observations (mcp_definitions, migration 3).
#include "store/codec.hpp"
#include "store/sql_store.hpp"

namespace gatehouse::store {

namespace {

constexpr const char* kColumns =
    "server, kind, name, pinned_sha256, pinned_json, seen_sha256, seen_json, first_seen, "
    "last_seen, changed_at, approved_by, approved_at";

McpDefinition definition_from_row(const sql::Row& r) {
  McpDefinition d;
  d.server = r.text(0);
  d.kind = r.text(1);
  d.name = r.text(2);
  d.pinned_sha256 = r.text(3);
  d.pinned = body_from_json(r.text(4));
  d.seen_sha256 = r.text(5);
  d.seen = body_from_json(r.text(6));
  d.first_seen = r.int64(7);
  d.last_seen = r.int64(8);
  d.changed_at = r.int64(9);
  d.approved_by = r.text(10);
  d.approved_at = r.int64(11);
  return d;
}

}  // namespace

Result<std::vector<McpDefinition>> SqlStore::mcp_definitions(const std::string& server) {
  std::lock_guard g(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM mcp_definitions";
  std::vector<sql::Param> params;
  if (!server.empty()) {
    sql += " WHERE server = ?";
    params.emplace_back(server);
  }
  sql += " ORDER BY server, kind, name";
  auto rows = conn_->query(sql, params);
  if (!rows) return rows.error();
  std::vector<McpDefinition> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(definition_from_row(r));
  return out;
}

Result<void> SqlStore::put_mcp_definition(const McpDefinition& d) {
  std::lock_guard g(mu_);
  auto rows = conn_->query(
      std::string("INSERT INTO mcp_definitions(") + kColumns +
          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT(server, kind, name) DO UPDATE SET pinned_sha256 = excluded.pinned_sha256, "
          "pinned_json = excluded.pinned_json, seen_sha256 = excluded.seen_sha256, "
          "seen_json = excluded.seen_json, first_seen = excluded.first_seen, "
          "last_seen = excluded.last_seen, changed_at = excluded.changed_at, "
          "approved_by = excluded.approved_by, approved_at = excluded.approved_at",
      {d.server, d.kind, d.name, d.pinned_sha256, body_to_json(d.pinned), d.seen_sha256,
       body_to_json(d.seen), d.first_seen, d.last_seen, d.changed_at, d.approved_by,
       d.approved_at});
  if (!rows) return rows.error();
  return Ok{};
}

}  // namespace gatehouse::store
