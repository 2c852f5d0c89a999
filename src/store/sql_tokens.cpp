// SqlStore: admin tokens and the audit log reader.
#include "store/codec.hpp"
#include "store/sql_store.hpp"

namespace gatehouse::store {

namespace json = boost::json;

namespace {

// Presented form: "ght_" + 16 hex id + "_" + 43 base64url secret. The id
// finds the row; only the secret's SHA-256 is stored. A plain hash is
// enough because the secret is 256 random bits, not a password: nothing
// could be guessed faster than the secret itself.
constexpr std::string_view kPrefix = "ght_";
constexpr size_t kIdLen = 16;
constexpr size_t kSecretBytes = 32;

constexpr const char* kTokenColumns =
    "id, name, role, workspace, created_by, created_at, expires_at, revoked_at, secret_hash";

AdminToken token_from_row(const sql::Row& r) {
  AdminToken t;
  t.id = r.text(0);
  t.name = r.text(1);
  t.role = parse_role(r.text(2)).value_or(Role::kViewer);
  t.workspace = r.text(3);
  t.created_by = r.text(4);
  t.created_at = r.int64(5);
  t.expires_at = r.int64(6);
  t.revoked_at = r.int64(7);
  return t;
}

json::value token_json(const AdminToken& t) {
  return json::object{{"id", t.id},
                      {"name", t.name},
                      {"role", role_name(t.role)},
                      {"workspace", t.workspace},
                      {"expires_at", t.expires_at},
                      {"revoked_at", t.revoked_at}};
}

// Row id of a token given from outside (not "ght_<id>_<secret>").
std::string foreign_id(std::string_view presented) {
  return "x" + sha256_hex(presented).substr(0, kIdLen - 1);
}

Error unauthorized() {
  return make_error("unauthorized", "invalid, expired or revoked admin token", {}, 401,
                    ErrorSide::kDownstream);
}

}  // namespace

Result<NewToken> SqlStore::create_token(const std::string& actor, const std::string& name,
                                        Role role, const std::string& workspace,
                                        int64_t expires_at, std::string_view given) {
  if (name.empty() || name.size() > 255)
    return invalid("name", "a token needs a name (1-255 bytes)");
  if (!workspace.empty())
    if (auto r = check_workspace(workspace, "workspace"); !r) return r.error();
  NewToken out;
  AdminToken& t = out.token;
  t.id = sha256_hex(random_base64url(16)).substr(0, kIdLen);
  t.name = name;
  t.role = role;
  t.workspace = workspace;
  t.created_by = actor;
  t.created_at = now_ms();
  t.expires_at = expires_at;
  std::string secret = random_base64url(kSecretBytes);
  out.secret = std::string(kPrefix) + t.id + "_" + secret;
  if (!given.empty()) {
    if (given.size() < 16 || given.size() > 512)
      return invalid("secret", "a given token must be 16-512 bytes");
    // Not our format: the row id comes from the whole string's hash, which
    // authenticate() recomputes for any token not shaped "ght_<id>_...".
    bool ours = given.size() > kPrefix.size() + kIdLen + 1 &&
                given.substr(0, kPrefix.size()) == kPrefix && given[kPrefix.size() + kIdLen] == '_';
    t.id = ours ? std::string(given.substr(kPrefix.size(), kIdLen)) : foreign_id(given);
    secret = ours ? std::string(given.substr(kPrefix.size() + kIdLen + 1)) : std::string(given);
    out.secret = std::string(given);
  }

  std::lock_guard g(mu_);
  sql::TxGuard tx(*conn_);
  if (auto r = tx.begin(sql::Conn::TxMode::kWrite); !r) return r.error();
  auto rev = revision_locked(false);
  if (!rev) return rev.error();
  auto ins = conn_->query(std::string("INSERT INTO admin_tokens(") + kTokenColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          {t.id, t.name, std::string(role_name(role)), t.workspace, t.created_by,
                           t.created_at, t.expires_at, int64_t{0}, sha256_hex(secret)});
  if (!ins) return ins.error();
  if (auto r = audit_locked(*rev, t.created_at, actor, "create", "admin_token", t.id, workspace,
                            name, json::value(), token_json(t));
      !r)
    return r.error();
  if (auto r = tx.commit(); !r) return r.error();
  return out;
}

Result<AdminToken> SqlStore::authenticate(std::string_view presented) {
  if (presented.empty() || presented.size() > 512) return unauthorized();
  std::string id, hash;
  if (presented.size() <= kPrefix.size() + kIdLen + 1 ||
      presented.substr(0, kPrefix.size()) != kPrefix || presented[kPrefix.size() + kIdLen] != '_') {
    id = foreign_id(presented);
    hash = sha256_hex(presented);
  } else {
    id = std::string(presented.substr(kPrefix.size(), kIdLen));
    hash = sha256_hex(presented.substr(kPrefix.size() + kIdLen + 1));
  }
  Result<sql::Rows> rows = sql::Rows{};
  {
    std::lock_guard g(mu_);
    rows = conn_->query(std::string("SELECT ") + kTokenColumns + " FROM admin_tokens WHERE id = ?",
                        {id});
  }
  if (!rows) return rows.error();
  // Compare against something even for an unknown id, so both paths cost
  // the same.
  std::string stored = rows->empty() ? std::string(hash.size(), '0') : rows->front().text(8);
  bool match = constant_time_equal(hash, stored);
  if (rows->empty() || !match) return unauthorized();
  AdminToken t = token_from_row(rows->front());
  if (t.revoked_at != 0 || (t.expires_at != 0 && t.expires_at <= now_ms())) return unauthorized();
  return t;
}

Result<void> SqlStore::revoke_token(const std::string& actor, const std::string& id) {
  std::lock_guard g(mu_);
  sql::TxGuard tx(*conn_);
  if (auto r = tx.begin(sql::Conn::TxMode::kWrite); !r) return r.error();
  auto rows = conn_->query(
      std::string("SELECT ") + kTokenColumns + " FROM admin_tokens WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty())
    return make_error("not_found", "admin token " + id + " not found", "id", 404,
                      ErrorSide::kDownstream);
  AdminToken before = token_from_row(rows->front());
  if (before.revoked_at != 0) return Ok{};  // already revoked: nothing to record
  AdminToken after = before;
  after.revoked_at = now_ms();
  auto upd =
      conn_->query("UPDATE admin_tokens SET revoked_at = ? WHERE id = ?", {after.revoked_at, id});
  if (!upd) return upd.error();
  auto rev = revision_locked(false);
  if (!rev) return rev.error();
  if (auto r = audit_locked(*rev, after.revoked_at, actor, "revoke", "admin_token", id,
                            before.workspace, before.name, token_json(before), token_json(after));
      !r)
    return r;
  return tx.commit();
}

Result<std::vector<AdminToken>> SqlStore::list_tokens() {
  std::lock_guard g(mu_);
  auto rows = conn_->query(std::string("SELECT ") + kTokenColumns +
                           " FROM admin_tokens ORDER BY created_at, id");
  if (!rows) return rows.error();
  std::vector<AdminToken> out;
  for (const auto& r : *rows) out.push_back(token_from_row(r));
  return out;
}

Result<Page<AuditEntry>> SqlStore::audit(const AuditQuery& q) {
  size_t limit = q.limit == 0 ? 100 : q.limit;
  if (limit > 1000)
    return make_error("invalid_query", "limit must be at most 1000", "limit", 400,
                      ErrorSide::kDownstream);
  std::string sql =
      "SELECT id, revision, at, actor, action, kind, entity_id, workspace, name, before_json, "
      "after_json FROM audit_log WHERE 1 = 1";
  std::vector<sql::Param> params;
  auto eq = [&](const char* col, const std::string& v) {
    if (v.empty()) return;
    sql += std::string(" AND ") + col + " = ?";
    params.emplace_back(v);
  };
  eq("kind", q.kind);
  eq("entity_id", q.entity_id);
  eq("actor", q.actor);
  eq("workspace", q.workspace);
  if (q.since_revision > 0) {
    sql += " AND revision > ?";
    params.emplace_back(q.since_revision);
  }
  if (!q.cursor.empty()) {
    auto key = decode_cursor(q.cursor, 1);
    if (!key) return key.error();
    const std::string& k = key->front();
    if (k.empty() || k.find_first_not_of("0123456789") != std::string::npos || k.size() > 18)
      return make_error("invalid_cursor", "the cursor is not one this server handed out", "cursor",
                        400, ErrorSide::kDownstream);
    sql += " AND id < ?";
    params.emplace_back(static_cast<int64_t>(std::stoll(k)));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<int64_t>(limit + 1));

  std::lock_guard g(mu_);
  auto rows = conn_->query(sql, params);
  if (!rows) return rows.error();
  Page<AuditEntry> page;
  for (size_t i = 0; i < rows->size() && i < limit; ++i) {
    const auto& r = (*rows)[i];
    AuditEntry a;
    a.id = r.int64(0);
    a.revision = r.int64(1);
    a.at = r.int64(2);
    a.actor = r.text(3);
    a.action = r.text(4);
    a.kind = r.text(5);
    a.entity_id = r.text(6);
    a.workspace = r.text(7);
    a.name = r.text(8);
    if (!r.null(9)) a.before = body_from_json(r.text(9));
    if (!r.null(10)) a.after = body_from_json(r.text(10));
    page.items.push_back(std::move(a));
  }
  if (rows->size() > limit)
    page.next_cursor = encode_cursor({std::to_string(page.items.back().id)});
  return page;
}

}  // namespace gatehouse::store
