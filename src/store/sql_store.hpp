// The one Store implementation, written against sql::Conn: the SQLite and
// PostgreSQL backends differ only in their connection, their schema text
// and their FeedSource. Threading: one mutex serialises every call on the
// connection (the control thread is the main caller; the admin API and tests
// may call from others); the watcher thread has its own connection.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/sql/conn.hpp"
#include "store/store.hpp"
#include "store/watch.hpp"

namespace gatehouse::store {

class SqlStore final : public Store {
 public:
  // `conn` must be migrated already.
  SqlStore(std::unique_ptr<sql::Conn> conn, std::unique_ptr<FeedSource> feed,
           std::string description);
  ~SqlStore() override;

  std::string describe() const override { return description_; }
  Result<CommitResult> commit(const Transaction& tx, const Validator& validator) override;
  Result<int64_t> current_revision() override;
  Result<Entity> get(const Ref& ref) override;
  Result<Page<Entity>> list(const ListQuery& q) override;
  Result<Snapshot> load_all() override;
  Result<Page<AuditEntry>> audit(const AuditQuery& q) override;
  Result<NewToken> create_token(const std::string& actor, const std::string& name, Role role,
                                const std::string& workspace, int64_t expires_at = 0,
                                std::string_view secret = {}) override;
  Result<AdminToken> authenticate(std::string_view presented) override;
  Result<void> revoke_token(const std::string& actor, const std::string& id) override;
  Result<std::vector<AdminToken>> list_tokens() override;
  Result<std::string> put_document(std::string_view text) override;
  Result<std::string> get_document(const std::string& sha256) override;
  Result<std::vector<McpDefinition>> mcp_definitions(const std::string& server) override;
  Result<void> put_mcp_definition(const McpDefinition& d) override;
  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Result<void> set_meta(const std::string& key, const std::string& value) override;
  Subscription watch(WatchCallback cb) override;

 private:
  bool pg() const { return conn_->dialect() == sql::Dialect::kPostgres; }
  // The *_locked helpers expect mu_ held.
  Result<int64_t> revision_locked(bool for_update);
  Result<std::vector<Entity>> entities_locked();
  Result<void> write_locked(const std::vector<Change>& changes, int64_t revision);
  Result<void> write_tags_locked(const Entity& e);
  Result<void> audit_locked(int64_t revision, int64_t at, const std::string& actor,
                            std::string_view action, const std::string& kind, const std::string& id,
                            const std::string& workspace, const std::string& name,
                            const boost::json::value& before, const boost::json::value& after);

  // Recursive: the commit validator reads API documents (get_document)
  // while the commit holds the lock.
  std::recursive_mutex mu_;
  std::unique_ptr<sql::Conn> conn_;
  std::string description_;
  std::unique_ptr<ChangeFeed> feed_;  // last: stopped before the connection goes
};

// SELECT list and row decoding shared by the store's files.
inline constexpr const char* kEntityColumns =
    "id, kind, workspace, name, tags, body, version, created_at, updated_at, revision";
Entity entity_from_row(const sql::Row& r);

}  // namespace gatehouse::store
