#include "store/codec.hpp"
#include "store/store.hpp"

namespace gatehouse::store {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
  }
  return "update";
}

std::string_view role_name(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "viewer") return Role::kViewer;
  if (s == "editor") return Role::kEditor;
  if (s == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string Transaction::create(Entity e) {
  // The id is fixed now so the caller can refer to the entity (a route to
  // its new upstream) within the same transaction. A malformed given id is
  // reported by commit().
  if (e.id.empty())
    e.id = new_uuid();
  else if (auto id = normalize_uuid(e.id))
    e.id = *id;
  std::string id = e.id;
  ops_.push_back(Op{Op::Type::kCreate, std::move(e), {}, 0, {}});
  return id;
}

void Transaction::update(Entity e, int64_t expected_version) {
  ops_.push_back(Op{Op::Type::kUpdate, std::move(e), {}, expected_version, {}});
}

void Transaction::upsert(Entity e) {
  ops_.push_back(Op{Op::Type::kUpsert, std::move(e), {}, 0, {}});
}

void Transaction::remove(Ref ref, int64_t expected_version) {
  ops_.push_back(Op{Op::Type::kRemove, {}, std::move(ref), expected_version, {}});
}

void Transaction::replace_all(ReplaceSpec spec) {
  ops_.push_back(Op{Op::Type::kReplaceAll, {}, {}, 0, std::move(spec)});
}

Result<CommitResult> Transaction::commit() {
  return store_->commit(*this, store_->validator());
}

Result<CommitResult> Transaction::commit(const Validator& validator) {
  return store_->commit(*this, validator);
}

}  // namespace gatehouse::store
