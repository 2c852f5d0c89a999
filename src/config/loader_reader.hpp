// Private to the config loader: typed, position-aware access to a yaml-cpp
// document. Every problem becomes a ConfigError at the value's position and
// reading goes on, so that one pass collects all errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/loader.hpp"

namespace gatehouse::config::detail {

// A value in the document together with where it is and what it is called.
struct Slot {
  YAML::Node node;
  SourcePos pos;      // of the value, or of its key when the value is empty
  std::string field;  // "routes[2].match.paths[0]"
};

struct Entry {
  std::string key;
  SourcePos key_pos;
  Slot value;
};

std::string join(const std::string& parent, std::string_view key);  // "a" + "b" -> "a.b"
std::string index_field(const std::string& parent, size_t i);       // "a" + 2 -> "a[2]"
std::string in_quotes(std::string_view s);                  // "\"s\"" with control bytes escaped
std::string joined(const std::vector<std::string>& names);  // "a, b, c"
// Where a field (or, failing that, its nearest recorded parent) was written:
// "routes[2].match.paths[0]" falls back to "routes[2].match", then "routes[2]".
SourcePos locate_field(const FieldPositions& positions, std::string field,
                       const SourcePos& fallback);

// ${VAR} and ${VAR:-default} (default when unset or empty, as in sh); "$${"
// is a literal "${"; any other '$' is literal. On failure sets code
// ("unset_variable" or "invalid_value") and why.
bool expand_env(std::string_view in, std::string& out, std::string& code, std::string& why);

class Reader {
 public:
  Reader(std::string file, std::string_view source, std::vector<ConfigError>& errors,
         FieldPositions& positions)
      : file_(std::move(file)), source_(source), errors_(errors), positions_(positions) {}

  SourcePos pos_of(const YAML::Node& n) const;
  // Where to report an empty value: see the definition.
  SourcePos null_pos(const YAML::Node& n, const SourcePos& fallback) const;

  void fail(const SourcePos& at, std::string field, std::string code, std::string message) {
    errors_.push_back(ConfigError{at, std::move(field), std::move(code), std::move(message)});
  }
  void fail(const Slot& s, std::string code, std::string message) {
    fail(s.pos, s.field, std::move(code), std::move(message));
  }
  void type_error(const Slot& s, const char* expected);

  // Counts visited nodes; false (reported once) when the document is too big.
  bool spend(const SourcePos& at);
  bool exhausted() const { return exhausted_; }

  // A map's entries in document order with "<<" merge keys applied.
  std::vector<Entry> entries(const Slot& s, int merge_depth = 0);
  // A list's items, each with its "[i]" field path.
  std::vector<Slot> items(const Slot& s);

  // The scalar's text with ${VAR} references expanded.
  std::optional<std::string> text(const Slot& s);

  void read(const Slot& s, std::string& out);
  void read(const Slot& s, bool& out);
  void read(const Slot& s, double& out);
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) void read(const Slot& s, T& out);
  void duration(const Slot& s, int64_t& out);
  void size(const Slot& s, uint64_t& out);
  void strings(const Slot& s, std::vector<std::string>& out);
  void ints(const Slot& s, std::vector<int>& out);
  // One of a fixed set of names, with a suggestion when it is a near miss.
  template <class E>
  void choice(const Slot& s, const std::vector<std::pair<std::string, E>>& options, E& out);

 private:
  static bool parse_int(std::string_view s, int64_t& out);

  std::string file_;
  std::string_view source_;
  std::vector<ConfigError>& errors_;
  FieldPositions& positions_;
  size_t spent_ = 0;
  bool exhausted_ = false;
};

// The keys of one map, checked against the keys it may have.
class Fields {
 public:
  // Unknown keys are reported (with a suggestion) and dropped; keys starting
  // with `ignored_prefix` are skipped silently.
  Fields(Reader& r, const Slot& s, const std::vector<std::string>& known,
         std::string_view ignored_prefix = {});

  // Present, even if written with no value.
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Present with a value; a bare "key:" keeps the default.
  const Slot* get(std::string_view key) const {
    const Entry* e = find(key);
    return e != nullptr && !e->value.node.IsNull() ? &e->value : nullptr;
  }

  template <class T>
  void read(std::string_view key, T& out) {
    if (const Slot* s = get(key)) r_.read(*s, out);
  }
  void duration(std::string_view key, int64_t& out) {
    if (const Slot* s = get(key)) r_.duration(*s, out);
  }
  void size(std::string_view key, uint64_t& out) {
    if (const Slot* s = get(key)) r_.size(*s, out);
  }
  void strings(std::string_view key, std::vector<std::string>& out) {
    if (const Slot* s = get(key)) r_.strings(*s, out);
  }
  void ints(std::string_view key, std::vector<int>& out) {
    if (const Slot* s = get(key)) r_.ints(*s, out);
  }

 private:
  const Entry* find(std::string_view key) const {
    for (const auto& e : entries_)
      if (e.key == key) return &e;
    return nullptr;
  }

  Reader& r_;
  std::vector<Entry> entries_;
};

template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) void Reader::read(const Slot& s,
                                                                              T& out) {
  auto t = text(s);
  if (!t) return;
  int64_t v = 0;
  if (!parse_int(*t, v)) {
    fail(s, "invalid_value", "expected an integer, got " + in_quotes(*t));
    return;
  }
  if constexpr (std::is_unsigned_v<T>) {
    if (v < 0) {
      fail(s, "invalid_value", "cannot be negative, got " + *t);
      return;
    }
    if (static_cast<uint64_t>(v) > std::numeric_limits<T>::max()) {
      fail(s, "invalid_value", "too large: " + *t);
      return;
    }
  } else {
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      fail(s, "invalid_value", "out of range: " + *t);
      return;
    }
  }
  out = static_cast<T>(v);
}

template <class E>
void Reader::choice(const Slot& s, const std::vector<std::pair<std::string, E>>& options, E& out) {
  auto t = text(s);
  if (!t) return;
  std::vector<std::string> names;
  for (const auto& [name, value] : options) {
    if (*t == name) {
      out = value;
      return;
    }
    names.push_back(name);
  }
  fail(s, "invalid_value",
       "unknown value " + in_quotes(*t) + did_you_mean(*t, names) +
           "; expected one of: " + joined(names));
}

}  // namespace gatehouse::config::detail
