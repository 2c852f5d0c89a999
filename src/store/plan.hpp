// The heart of a commit, independent of any database: the recorded
// operations of a Transaction applied to the entity set the commit's database
// transaction sees, giving the resulting set and the net change per entity.
// Both backends run exactly this, so they cannot disagree on semantics.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace gatehouse::store {

struct Plan {
  std::vector<Entity> entities;  // the whole resulting set, sorted (workspace, kind, name, id)
  std::vector<Change> changes;   // net changes, same order; empty when nothing changed
};

// `current` is the committed set at `base_revision`. Changed entities get
// version+1 (1 when created), updated_at = `now` and revision base+1.
// Errors: 400 invalid_entity, 404 not_found, 409 name_conflict / id_conflict /
// not_owned, 412 version_conflict.
Result<Plan> apply_ops(std::vector<Entity> current, const std::vector<Transaction::Op>& ops,
                       int64_t base_revision, int64_t now);

// The list order, shared by both backends' ORDER BY and by load_all.
bool entity_less(const Entity& a, const Entity& b);

}  // namespace gatehouse::store
