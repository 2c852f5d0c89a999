// Versioned schema migrations, applied in order at open inside one
// transaction; a database newer than this binary is refused.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "store/sql/conn.hpp"

namespace gatehouse::store::migrations {

// One schema step with its text for each dialect. Never edit a released
// migration: add the next one.
struct Migration {
  int64_t version;
  const char* name;
  const char* sqlite;
  const char* postgres;
};

const std::vector<Migration>& all();

// Applies the migrations of `list` the database lacks. Errors:
// schema_too_new (the database has a version `list` does not know).
Result<void> migrate(sql::Conn& c, const std::vector<Migration>& list = all());

// The highest version applied to the database (0 for a fresh one).
Result<int64_t> schema_version(sql::Conn& c);

}  // namespace gatehouse::store::migrations
