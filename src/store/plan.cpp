#include "store/plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "store/codec.hpp"

namespace gatehouse::store {

namespace {

using NameKey = std::tuple<std::string, std::string, std::string>;  // kind, workspace, name

NameKey name_key(const Entity& e) {
  return {e.kind, e.workspace, e.name};
}

std::string describe(const Entity& e) {
  return e.kind + (e.name.empty() ? " " + e.id : " '" + e.name + "'");
}

Error name_conflict(const Entity& e, const std::string& field) {
  return make_error("name_conflict",
                    e.kind + " '" + e.name + "' already exists in workspace '" + e.workspace + "'",
                    field, 409, ErrorSide::kDownstream);
}

Error id_conflict(const std::string& id, const std::string& field) {
  return make_error("id_conflict", "an entity with id " + id + " already exists", field, 409,
                    ErrorSide::kDownstream);
}

bool has_tag(const Entity& e, const std::string& tag) {
  return std::find(e.tags.begin(), e.tags.end(), tag) != e.tags.end();
}

// The set being edited, with the committed state kept for the final diff.
// Name uniqueness is checked on the final set, not after each operation, so
// two renames that swap names inside one transaction are fine.
class Working {
 public:
  explicit Working(std::vector<Entity> current) {
    for (auto& e : current) {
      if (!e.name.empty()) names_[name_key(e)].push_back(e.id);
      std::string id = e.id;
      original_.emplace(id, e);
      by_id_.emplace(std::move(id), std::move(e));
    }
  }

  // The visible entity `ref` names: kind and workspace must match too, so an
  // id from another workspace (or of another kind) is simply not found.
  Entity* find(const Ref& ref) {
    if (!ref.id.empty()) {
      auto id = normalize_uuid(ref.id);
      if (!id) return nullptr;
      auto it = by_id_.find(*id);
      if (it == by_id_.end() || it->second.kind != ref.kind) return nullptr;
      if (ref.workspace != "*" && it->second.workspace != ref.workspace) return nullptr;
      return &it->second;
    }
    if (ref.name.empty()) return nullptr;
    auto it = names_.find({ref.kind, ref.workspace, ref.name});
    // Mid-transaction a name may be held twice; the newest holder is meant.
    return it == names_.end() || it->second.empty() ? nullptr : &by_id_.at(it->second.back());
  }

  Result<void> check_version(const Entity& target, int64_t expected) const {
    auto it = original_.find(target.id);
    int64_t v = it == original_.end() ? 0 : it->second.version;
    if (expected == 0 || expected == v) return Ok{};
    return make_error("version_conflict",
                      describe(target) + " is at version " + std::to_string(v) +
                          ", not the expected " + std::to_string(expected),
                      "version", 412, ErrorSide::kDownstream);
  }

  Result<void> insert(Entity e, const std::string& field) {
    if (by_id_.count(e.id)) return id_conflict(e.id, field.empty() ? "id" : field + ".id");
    touch(e.id, field);
    index_name(e);
    std::string id = e.id;
    by_id_.emplace(std::move(id), std::move(e));
    return Ok{};
  }

  // Replaces the content of `target` with `e`'s (id, kind, workspace stay).
  void overwrite(Entity& target, const Entity& e, const std::string& field) {
    unindex_name(target);
    target.name = e.name;
    target.tags = e.tags;
    target.body = e.body;
    index_name(target);
    touch(target.id, field);
  }

  Result<void> update(const Ref& ref, const Entity& e, int64_t expected, const std::string& field) {
    Entity* t = find(ref);
    if (!t) return not_found(ref);
    if (auto r = check_version(*t, expected); !r) return r;
    overwrite(*t, e, field);
    return Ok{};
  }

  void erase(const Entity& e) {
    unindex_name(e);
    std::string id = e.id;  // `e` is the element being erased
    by_id_.erase(id);
  }

  Result<void> replace_all(ReplaceSpec spec);

  Result<Plan> finish(int64_t revision, int64_t now);

 private:
  void index_name(const Entity& e) {
    if (!e.name.empty()) names_[name_key(e)].push_back(e.id);
  }
  void unindex_name(const Entity& e) {
    if (e.name.empty()) return;
    auto it = names_.find(name_key(e));
    if (it == names_.end()) return;
    auto& ids = it->second;
    ids.erase(std::remove(ids.begin(), ids.end(), e.id), ids.end());
    if (ids.empty()) names_.erase(it);
  }
  // Remembers which operation last wrote an entity, to blame it for a clash.
  void touch(const std::string& id, const std::string& field) {
    touched_[id] = {++seq_, field.empty() ? "name" : field + ".name"};
  }

  std::map<std::string, Entity> by_id_;
  std::map<std::string, Entity> original_;
  std::map<NameKey, std::vector<std::string>> names_;
  std::map<std::string, std::pair<uint64_t, std::string>> touched_;
  uint64_t seq_ = 0;
};

Result<void> Working::replace_all(ReplaceSpec spec) {
  if (auto r = check_workspace(spec.workspace, "workspace"); !r) return r;
  if (spec.kinds.empty()) return invalid("kinds", "replace_all needs at least one kind");
  for (size_t i = 0; i < spec.kinds.size(); ++i)
    if (auto r = check_kind(spec.kinds[i], "kinds[" + std::to_string(i) + "]"); !r) return r;
  auto managed_kind = [&](const std::string& k) {
    return std::find(spec.kinds.begin(), spec.kinds.end(), k) != spec.kinds.end();
  };
  auto managed = [&](const Entity& e) {
    return managed_kind(e.kind) && e.workspace == spec.workspace &&
           (spec.owner_tag.empty() || has_tag(e, spec.owner_tag));
  };

  // 1. Resolve every wanted entity to the existing one it replaces, if any.
  std::vector<std::string> target(spec.entities.size());
  std::map<std::string, size_t> claimed;
  for (size_t i = 0; i < spec.entities.size(); ++i) {
    Entity& e = spec.entities[i];
    std::string field = "entities[" + std::to_string(i) + "]";
    if (e.workspace.empty() || e.workspace == kDefaultWorkspace) e.workspace = spec.workspace;
    if (e.workspace != spec.workspace)
      return invalid(field + ".workspace", "entity is in workspace '" + e.workspace +
                                               "' but the apply targets '" + spec.workspace + "'");
    if (auto r = check_entity(e, field); !r) return r;
    if (!managed_kind(e.kind))
      return invalid(field + ".kind", "kind '" + e.kind + "' is not among the applied kinds");
    if (!spec.owner_tag.empty() && !has_tag(e, spec.owner_tag)) e.tags.push_back(spec.owner_tag);
    Entity* existing = nullptr;
    if (!e.id.empty()) {
      existing = find(Ref{e.kind, "*", e.id, {}});
      if (!existing && by_id_.count(e.id)) return id_conflict(e.id, field + ".id");
      if (existing && existing->workspace != spec.workspace)
        return id_conflict(e.id, field + ".id");
    } else if (!e.name.empty()) {
      existing = find(Ref::by_name(e.kind, e.name, spec.workspace));
    }
    if (!existing) continue;
    if (!managed(*existing))
      return make_error(
          "not_owned",
          describe(*existing) + " exists but is not managed by this apply" +
              (spec.owner_tag.empty() ? std::string()
                                      : " (it lacks the tag '" + spec.owner_tag + "')"),
          field, 409, ErrorSide::kDownstream);
    auto [it, fresh] = claimed.emplace(existing->id, i);
    if (!fresh)
      return invalid(field,
                     "describes the same entity as entities[" + std::to_string(it->second) + "]");
    target[i] = existing->id;
  }

  // 2. Managed entities nobody claimed go.
  std::vector<std::string> gone;
  for (auto& [id, e] : by_id_)
    if (managed(e) && !claimed.count(id)) gone.push_back(id);
  for (const auto& id : gone) erase(by_id_.at(id));

  // 3. Write the wanted state.
  for (size_t i = 0; i < spec.entities.size(); ++i) {
    Entity& e = spec.entities[i];
    std::string field = "entities[" + std::to_string(i) + "]";
    if (!target[i].empty()) {
      overwrite(by_id_.at(target[i]), e, field);
      continue;
    }
    if (e.id.empty()) e.id = new_uuid();
    if (auto r = insert(std::move(e), field); !r) return r;
  }
  return Ok{};
}

Result<Plan> Working::finish(int64_t revision, int64_t now) {
  for (const auto& [key, ids] : names_) {
    if (ids.size() < 2) continue;
    // Blame the holder written last; an untouched (committed) one never is.
    const std::string* blamed = &ids.front();
    for (const auto& id : ids)
      if (touched_.count(id) &&
          (!touched_.count(*blamed) || touched_[id].first > touched_[*blamed].first))
        blamed = &id;
    auto t = touched_.find(*blamed);
    return name_conflict(by_id_.at(*blamed), t == touched_.end() ? "name" : t->second.second);
  }
  Plan plan;
  plan.entities.reserve(by_id_.size());
  for (auto& [id, e] : by_id_) {
    auto it = original_.find(id);
    if (it == original_.end()) {
      e.version = 1;
      e.created_at = e.updated_at = now;
      e.revision = revision;
      plan.changes.push_back(Change{Action::kCreate, std::nullopt, e});
    } else {
      const Entity& o = it->second;
      if (o.name != e.name || o.tags != e.tags || o.body != e.body) {
        e.version = o.version + 1;
        e.created_at = o.created_at;
        e.updated_at = now;
        e.revision = revision;
        plan.changes.push_back(Change{Action::kUpdate, o, e});
      } else {
        e = o;  // untouched: exactly as committed
      }
    }
    plan.entities.push_back(e);
  }
  for (auto& [id, o] : original_)
    if (!by_id_.count(id)) plan.changes.push_back(Change{Action::kDelete, o, std::nullopt});
  std::sort(plan.entities.begin(), plan.entities.end(), entity_less);
  std::sort(plan.changes.begin(), plan.changes.end(), [](const Change& a, const Change& b) {
    return entity_less(a.after ? *a.after : *a.before, b.after ? *b.after : *b.before);
  });
  return plan;
}

}  // namespace

bool entity_less(const Entity& a, const Entity& b) {
  return std::tie(a.workspace, a.kind, a.name, a.id) < std::tie(b.workspace, b.kind, b.name, b.id);
}

Result<Plan> apply_ops(std::vector<Entity> current, const std::vector<Transaction::Op>& ops,
                       int64_t base_revision, int64_t now) {
  Working w(std::move(current));
  using T = Transaction::Op::Type;
  for (const auto& op : ops) {
    switch (op.type) {
      case T::kCreate: {
        Entity e = op.entity;
        if (auto r = check_entity(e, ""); !r) return r.error();
        if (e.id.empty()) e.id = new_uuid();
        if (auto r = w.insert(std::move(e), ""); !r) return r.error();
        break;
      }
      case T::kUpdate:
      case T::kUpsert: {
        Entity e = op.entity;
        if (auto r = check_entity(e, ""); !r) return r.error();
        Ref ref{e.kind, e.workspace, e.id, e.id.empty() ? e.name : std::string()};
        if (op.type == T::kUpsert && !w.find(ref)) {
          if (e.id.empty()) e.id = new_uuid();
          if (auto r = w.insert(std::move(e), ""); !r) return r.error();
          break;
        }
        if (auto r = w.update(ref, e, op.expected_version, ""); !r) return r.error();
        break;
      }
      case T::kRemove: {
        Entity* t = w.find(op.ref);
        if (!t) return not_found(op.ref);
        if (auto r = w.check_version(*t, op.expected_version); !r) return r.error();
        w.erase(*t);
        break;
      }
      case T::kReplaceAll:
        if (auto r = w.replace_all(op.replace); !r) return r.error();
        break;
    }
  }
  return w.finish(base_revision + 1, now);
}

}  // namespace gatehouse::store
