// The Store: where the control plane keeps configuration (entities), the
// config revision, the audit log, admin tokens and a little metadata. Two
// backends with one behaviour: SQLite (embedded default) and PostgreSQL
// (cluster mode). See README.md for the decisions behind it.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::store {

inline constexpr const char* kDefaultWorkspace = "default";

// One configuration object. Every resource the admin API manages (upstream,
// route, consumer, credential, policy, and later api, plan, application ...)
// is an Entity of some `kind` whose resource-specific fields live in `body`:
// the store never interprets a body, so new resources need no migration.
struct Entity {
  std::string kind;  // "upstream", "route", ...: [a-z][a-z0-9_]*
  std::string id;    // UUID; generated on create when empty
  std::string name;  // unique per kind+workspace; "" = unnamed
  std::string workspace = kDefaultWorkspace;
  std::vector<std::string> tags;  // no duplicates, order kept
  boost::json::value body = boost::json::object();
  int64_t version = 0;     // 1 on create, +1 per committed change: the ETag
  int64_t created_at = 0;  // unix milliseconds
  int64_t updated_at = 0;
  int64_t revision = 0;  // the config revision that last changed it
};

// Names an existing entity by id, or by name when the id is empty. The kind
// and workspace must match too ("*" = any workspace, for lookups by id), so
// an id from another workspace is not found: workspaces scope tokens.
struct Ref {
  std::string kind;
  std::string workspace = kDefaultWorkspace;
  std::string id;
  std::string name;
  static Ref by_id(std::string kind, std::string id, std::string workspace = "*") {
    return Ref{std::move(kind), std::move(workspace), std::move(id), {}};
  }
  static Ref by_name(std::string kind, std::string name,
                     std::string workspace = kDefaultWorkspace) {
    return Ref{std::move(kind), std::move(workspace), {}, std::move(name)};
  }
};

enum class Action { kCreate, kUpdate, kDelete };
std::string_view action_name(Action a);

// The net effect of a commit on one entity.
struct Change {
  Action action = Action::kCreate;
  std::optional<Entity> before;  // empty for kCreate
  std::optional<Entity> after;   // empty for kDelete
};

// What a validator sees: the whole entity set as it would be after the
// commit, and the changes that lead there from `base_revision`.
struct ChangeSet {
  int64_t base_revision = 0;
  const std::vector<Entity>& entities;
  const std::vector<Change>& changes;
};

// Returns an error to refuse the commit; nothing is written then. Runs on the
// committing thread while the store holds its write lock, so keep it to
// validation (and compiling, if the caller wants the compiled result), and
// never call back into the store from it (that would deadlock).
using Validator = std::function<Result<void>(const ChangeSet&)>;

struct CommitResult {
  int64_t revision = 0;         // the new revision; the current one when nothing changed
  std::vector<Change> changes;  // empty when the commit changed nothing
};

// `apply`: the entities of `kinds` in `workspace` that carry `owner_tag` (all
// of them when the tag is empty) become exactly `entities`; entities without
// the tag are never touched. Entities are matched by id, else by name.
struct ReplaceSpec {
  std::string workspace = kDefaultWorkspace;
  std::vector<std::string> kinds;
  std::string owner_tag;
  std::vector<Entity> entities;
};

class Store;

// A batch of changes committed atomically. Operations are recorded and only
// run at commit(), inside one database transaction, against the state the
// transaction sees: a version checked there cannot change before the write.
class Transaction {
 public:
  Transaction(Store& store, std::string actor) : store_(&store), actor_(std::move(actor)) {}

  // Returns the entity's id (the generated one when `e.id` is empty).
  std::string create(Entity e);
  // Replaces name, tags and body of the entity named by e.id (or, when empty,
  // by kind+workspace+name). expected_version 0 = no precondition.
  void update(Entity e, int64_t expected_version = 0);
  // update() when it exists (by id, else by name), create() otherwise.
  void upsert(Entity e);
  void remove(Ref ref, int64_t expected_version = 0);
  void replace_all(ReplaceSpec spec);

  // Uses the store's validator (set_validator) when none is given.
  Result<CommitResult> commit();
  Result<CommitResult> commit(const Validator& validator);

  struct Op {
    enum class Type { kCreate, kUpdate, kUpsert, kRemove, kReplaceAll } type;
    Entity entity;
    Ref ref;
    int64_t expected_version = 0;
    ReplaceSpec replace;
  };
  const std::vector<Op>& ops() const { return ops_; }
  const std::string& actor() const { return actor_; }

 private:
  Store* store_;
  std::string actor_;
  std::vector<Op> ops_;
};

struct ListQuery {
  std::string kind;                           // "" = every kind
  std::string workspace = kDefaultWorkspace;  // "*" = every workspace
  std::string name_prefix;
  std::vector<std::string> tags;  // an entity must carry all of them
  size_t limit = 100;             // 1..1000; 0 = 100
  std::string cursor;             // from the previous page's next_cursor
};

template <class T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty on the last page
};

// Everything at one revision, read in one database snapshot.
struct Snapshot {
  int64_t revision = 0;
  std::vector<Entity> entities;  // ordered by workspace, kind, name, id
};

struct AuditEntry {
  int64_t id = 0;
  int64_t revision = 0;  // config revision the change produced (tokens: current)
  int64_t at = 0;        // unix milliseconds
  std::string actor;
  std::string action;  // create | update | delete | revoke
  std::string kind;
  std::string entity_id;
  std::string workspace;
  std::string name;
  boost::json::value before;  // null when none
  boost::json::value after;
};

struct AuditQuery {
  std::string kind;
  std::string entity_id;
  std::string actor;
  std::string workspace;       // "" = every workspace
  int64_t since_revision = 0;  // revision > since_revision
  size_t limit = 100;
  std::string cursor;  // newest first
};

enum class Role { kViewer, kEditor, kAdmin };
std::string_view role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

struct AdminToken {
  std::string id;
  std::string name;
  Role role = Role::kViewer;
  std::string workspace;  // "" = every workspace
  std::string created_by;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0 = never
  int64_t revoked_at = 0;  // 0 = active
};

struct NewToken {
  AdminToken token;
  std::string secret;  // the presented form; shown once, only its hash is stored
};

// A definition (tool, prompt, resource) an MCP server listed, as the gateway
// last saw it, and the approved ("pinned") one; equal hashes = no pending
// change. Runtime observations, not configuration: no revision, no audit.
struct McpDefinition {
  std::string server;
  std::string kind;  // tool | prompt | resource | resource_template
  std::string name;
  std::string pinned_sha256;
  boost::json::value pinned;
  std::string seen_sha256;
  boost::json::value seen;
  int64_t first_seen = 0;  // unix milliseconds
  int64_t last_seen = 0;
  int64_t changed_at = 0;  // when seen last stopped matching pinned (0 = never)
  std::string approved_by;
  int64_t approved_at = 0;
};

using WatchCallback = std::function<void(int64_t revision)>;

// Keeps a watch alive; destroying (or reset()) it unsubscribes, and once that
// returns the callback is not running and will not run again (unless called
// from inside the callback itself).
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& o) noexcept : cancel_(std::move(o.cancel_)) { o.cancel_ = nullptr; }
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      reset();
      cancel_ = std::move(o.cancel_);
      o.cancel_ = nullptr;
    }
    return *this;
  }
  ~Subscription() { reset(); }
  void reset() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

struct StoreOptions {
  // SQLite: how often the watcher looks for commits by other processes.
  std::chrono::milliseconds poll_interval{250};
  // PostgreSQL: the safety-net re-read of the revision, for a NOTIFY lost
  // while the listening connection was down.
  std::chrono::milliseconds resync_interval{5000};
  // PostgreSQL: first delay before reconnecting the listener; doubles to 5 s.
  std::chrono::milliseconds reconnect_delay{100};
  // SQLite: how long a writer waits for another process's write lock.
  std::chrono::milliseconds busy_timeout{5000};
};

// Thread-safe: every method may be called from any thread (calls are
// serialised on the store's connection; the control thread is the expected
// caller). Watch callbacks run on the store's own watcher thread.
class Store {
 public:
  virtual ~Store() = default;

  // "sqlite:/abs/path/gatehouse.db" or the PostgreSQL URL without password.
  virtual std::string describe() const = 0;

  Transaction begin(std::string actor) { return Transaction(*this, std::move(actor)); }
  // Set once before the store is shared between threads (not synchronised).
  void set_validator(Validator v) { validator_ = std::move(v); }
  const Validator& validator() const { return validator_; }
  virtual Result<CommitResult> commit(const Transaction& tx, const Validator& validator) = 0;

  virtual Result<int64_t> current_revision() = 0;
  virtual Result<Entity> get(const Ref& ref) = 0;  // not_found (404) when missing
  virtual Result<Page<Entity>> list(const ListQuery& q) = 0;
  virtual Result<Snapshot> load_all() = 0;

  virtual Result<Page<AuditEntry>> audit(const AuditQuery& q) = 0;

  // `secret` empty: a generated "ght_..." token. Otherwise that exact string
  // becomes the token (GATEHOUSE_ADMIN_TOKEN at first start); only its
  // SHA-256 is stored.
  virtual Result<NewToken> create_token(const std::string& actor, const std::string& name,
                                        Role role, const std::string& workspace,
                                        int64_t expires_at = 0, std::string_view secret = {}) = 0;
  // unauthorized (401) for a malformed, unknown, revoked or expired token.
  virtual Result<AdminToken> authenticate(std::string_view presented) = 0;
  virtual Result<void> revoke_token(const std::string& actor, const std::string& id) = 0;
  virtual Result<std::vector<AdminToken>> list_tokens() = 0;

  // API documents (OpenAPI texts), content-addressed: returns the text's
  // SHA-256 (hex); storing a text again is a no-op. Not configuration: no
  // revision, no audit (the API revision entity naming the hash is audited).
  virtual Result<std::string> put_document(std::string_view text) = 0;
  // not_found (404) when no document has that hash.
  virtual Result<std::string> get_document(const std::string& sha256) = 0;

  // MCP registry observations ("" = every server), ordered by server, kind, name.
  virtual Result<std::vector<McpDefinition>> mcp_definitions(const std::string& server) = 0;
  // Inserts or replaces the row of (server, kind, name).
  virtual Result<void> put_mcp_definition(const McpDefinition& d) = 0;

  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;
  virtual Result<void> set_meta(const std::string& key, const std::string& value) = 0;

  // `cb` gets each newer revision committed by this or any other node
  // sharing the database, in increasing order; a burst of commits may be
  // folded into its last revision. Never called twice with one revision.
  virtual Subscription watch(WatchCallback cb) = 0;

 private:
  Validator validator_;
};

// "" -> SQLite at <data_dir>/gatehouse.db; "sqlite:PATH" -> SQLite at PATH;
// "postgres://..." or "postgresql://..." -> PostgreSQL. Applies pending
// schema migrations before returning.
Result<std::unique_ptr<Store>> open_store(const std::string& url, const std::string& data_dir,
                                          const StoreOptions& options = {});

}  // namespace gatehouse::store
