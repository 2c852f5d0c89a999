// SqlStore::commit: plan the transaction's operations against the state the
// database transaction sees, validate the result, write it with its audit
// rows and the new revision, all or nothing.
#include <exception>

#include "common/log.hpp"
#include "store/codec.hpp"
#include "store/plan.hpp"
#include "store/sql_store.hpp"

namespace gatehouse::store {

namespace json = boost::json;

Result<void> SqlStore::write_tags_locked(const Entity& e) {
  for (const auto& tag : e.tags) {
    auto r = conn_->query("INSERT INTO entity_tags(entity_id, tag) VALUES (?, ?)", {e.id, tag});
    if (!r) return r.error();
  }
  return Ok{};
}

Result<void> SqlStore::write_locked(const std::vector<Change>& changes, int64_t revision) {
  auto run = [&](const char* sql, std::vector<sql::Param> params) -> Result<void> {
    auto r = conn_->query(sql, params);
    if (!r) return r.error();
    return Ok{};
  };
  // Deletes first and renamed rows parked under the empty name (which the
  // unique index ignores): the unique index is checked row by row, so a swap
  // of two names inside one commit must never exist half-done.
  for (const auto& c : changes) {
    if (c.action == Action::kDelete) {
      if (auto r = run("DELETE FROM entities WHERE id = ?", {c.before->id}); !r) return r;
    } else if (c.action == Action::kUpdate && c.before->name != c.after->name) {
      if (auto r = run("UPDATE entities SET name = '' WHERE id = ?", {c.after->id}); !r) return r;
    }
  }
  for (const auto& c : changes) {
    if (c.action != Action::kUpdate) continue;
    const Entity& e = *c.after;
    if (auto r = run("UPDATE entities SET name = ?, tags = ?, body = ?, version = ?, "
                     "updated_at = ?, revision = ? WHERE id = ?",
                     {e.name, tags_to_json(e.tags), body_to_json(e.body), e.version, e.updated_at,
                      e.revision, e.id});
        !r)
      return r;
    if (c.before->tags != e.tags) {
      if (auto r = run("DELETE FROM entity_tags WHERE entity_id = ?", {e.id}); !r) return r;
      if (auto r = write_tags_locked(e); !r) return r;
    }
  }
  for (const auto& c : changes) {
    if (c.action != Action::kCreate) continue;
    const Entity& e = *c.after;
    if (auto r = run("INSERT INTO entities(id, kind, workspace, name, tags, body, version, "
                     "created_at, updated_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     {e.id, e.kind, e.workspace, e.name, tags_to_json(e.tags), body_to_json(e.body),
                      e.version, e.created_at, e.updated_at, e.revision});
        !r)
      return r;
    if (auto r = write_tags_locked(e); !r) return r;
  }
  if (auto r = run("UPDATE config_revision SET revision = ? WHERE id = 1", {revision}); !r)
    return r;
  if (pg()) {
    // Delivered by PostgreSQL only if (and when) this transaction commits.
    if (auto r = run("SELECT pg_notify('gatehouse_changes', ?)", {std::to_string(revision)}); !r)
      return r;
  }
  return Ok{};
}

Result<void> SqlStore::audit_locked(int64_t revision, int64_t at, const std::string& actor,
                                    std::string_view action, const std::string& kind,
                                    const std::string& id, const std::string& workspace,
                                    const std::string& name, const json::value& before,
                                    const json::value& after) {
  auto text = [](const json::value& v) -> sql::Param {
    if (v.is_null()) return nullptr;
    return body_to_json(v);
  };
  auto r = conn_->query(
      "INSERT INTO audit_log(revision, at, actor, action, kind, entity_id, workspace, name, "
      "before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {revision, at, actor, std::string(action), kind, id, workspace, name, text(before),
       text(after)});
  if (!r) return r.error();
  return Ok{};
}

Result<CommitResult> SqlStore::commit(const Transaction& tx, const Validator& validator) {
  int64_t revision = 0;
  CommitResult result;
  {
    std::lock_guard g(mu_);
    sql::TxGuard db(*conn_);
    if (auto r = db.begin(sql::Conn::TxMode::kWrite); !r) return r.error();
    auto base = revision_locked(true);
    if (!base) return base.error();
    auto current = entities_locked();
    if (!current) return current.error();
    int64_t now = now_ms();
    auto plan = apply_ops(std::move(*current), tx.ops(), *base, now);
    if (!plan) return plan.error();
    if (plan->changes.empty()) return CommitResult{*base, {}};  // nothing to write, no revision

    if (validator) {
      Result<void> verdict = Ok{};
      try {
        verdict = validator(ChangeSet{*base, plan->entities, plan->changes});
      } catch (const std::exception& e) {
        verdict =
            make_error("validator_failed", std::string("validation threw: ") + e.what(), {}, 500);
      }
      if (!verdict) {
        Error e = verdict.error();
        if (e.status == 0) e.status = 400;
        return e;
      }
    }

    revision = *base + 1;
    if (auto r = write_locked(plan->changes, revision); !r) {
      Error e = r.error();
      // The plan already checked uniqueness against this very transaction's
      // view; reaching the index means someone wrote around the store.
      if (e.code == "unique_violation") e.code = "conflict";
      return e;
    }
    for (const auto& c : plan->changes) {
      const Entity& e = c.after ? *c.after : *c.before;
      if (auto r = audit_locked(revision, now, tx.actor(), action_name(c.action), e.kind, e.id,
                                e.workspace, e.name,
                                c.before ? entity_to_json(*c.before) : json::value(),
                                c.after ? entity_to_json(*c.after) : json::value());
          !r)
        return r.error();
    }
    if (auto r = db.commit(); !r) return r.error();
    result.revision = revision;
    result.changes = std::move(plan->changes);
  }
  feed_->local_commit(revision);
  log::debug("config committed", {log::n("revision", revision),
                                  log::n("changes", static_cast<long long>(result.changes.size())),
                                  log::f("actor", tx.actor())});
  return result;
}

}  // namespace gatehouse::store
