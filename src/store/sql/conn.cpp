#include "store/sql/conn.hpp"

#include <charconv>

namespace gatehouse::store::sql {

const std::string& Row::text(size_t i) const {
  static const std::string kEmpty;
  const auto& c = cols.at(i);
  return c ? *c : kEmpty;
}

int64_t Row::int64(size_t i) const {
  const auto& c = cols.at(i);
  if (!c) return 0;
  int64_t v = 0;
  std::from_chars(c->data(), c->data() + c->size(), v);
  return v;
}

}  // namespace gatehouse::store::sql
