// Typed, position-aware access to a yaml-cpp document (see loader_reader.hpp),
// and the file:line:column form of a config error.
#include "config/loader_reader.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "common/strings.hpp"

namespace gatehouse::config::detail {

namespace {

// Aliases let a few bytes reference one big node many times; this caps the
// work a document can cause, whatever its size on disk.
constexpr size_t kMaxNodes = 1'000'000;
constexpr int kMaxMergeDepth = 16;

const char* kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::string join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

SourcePos locate_field(const FieldPositions& positions, std::string field,
                       const SourcePos& fallback) {
  while (!field.empty()) {
    auto it = positions.find(field);
    if (it != positions.end()) return it->second;
    size_t cut = field.find_last_of(".[");
    if (cut == std::string::npos) break;
    field.resize(cut);
  }
  return fallback;
}

std::string index_field(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

// Control bytes are escaped so a hostile value cannot forge terminal output.
std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// ${VAR} and ${VAR:-default} (default when unset or empty, as in sh); "$${"
// is a literal "${". Any other '$' is literal, so regexes ending in '$' work.
bool expand_env(std::string_view in, std::string& out, std::string& code, std::string& why) {
  out.clear();
  size_t i = 0;
  while (i < in.size()) {
    size_t dollar = in.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(in.substr(i));
      break;
    }
    out.append(in.substr(i, dollar - i));
    if (in.substr(dollar, 3) == "$${") {
      out += "${";
      i = dollar + 3;
      continue;
    }
    if (dollar + 1 >= in.size() || in[dollar + 1] != '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    size_t close = in.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      code = "invalid_value";
      why = "unterminated \"${\" (write \"$${\" for a literal \"${\")";
      return false;
    }
    std::string_view body = in.substr(dollar + 2, close - dollar - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    if (!is_env_name(name)) {
      code = "invalid_value";
      why = "invalid variable reference \"${" + std::string(body) + "}\"";
      return false;
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (fallback) {
      out.append(value != nullptr && *value != '\0' ? std::string_view(value) : *fallback);
    } else if (value == nullptr) {
      code = "unset_variable";
      why = "environment variable " + std::string(name) + " is not set (use ${" +
            std::string(name) + ":-default} to give a default)";
      return false;
    } else {
      out.append(value);
    }
    i = close + 1;
  }
  return true;
}

SourcePos Reader::pos_of(const YAML::Node& n) const {
  YAML::Mark m = n.Mark();
  return SourcePos{file_, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

// yaml-cpp marks an empty value ("key:" at the end of a line) at the next
// token, often on a later line; only a written "~" or "null" has a mark
// worth reporting. Otherwise point at `fallback` (its key or its list).
SourcePos Reader::null_pos(const YAML::Node& n, const SourcePos& fallback) const {
  YAML::Mark m = n.Mark();
  if (m.pos < 0 || static_cast<size_t>(m.pos) >= source_.size()) return fallback;
  std::string_view at = source_.substr(static_cast<size_t>(m.pos));
  if (at.starts_with("~") || at.starts_with("null") || at.starts_with("Null") ||
      at.starts_with("NULL"))
    return pos_of(n);
  return fallback;
}

void Reader::type_error(const Slot& s, const char* expected) {
  fail(s, "invalid_type", std::string("expected ") + expected + ", got " + kind_name(s.node));
}

// Counts visited nodes; false (reported once) when the document is too big.
bool Reader::spend(const SourcePos& at) {
  if (++spent_ <= kMaxNodes) return true;
  if (!exhausted_) {
    exhausted_ = true;
    fail(at, "", "too_large",
         "document expands to more than " + std::to_string(kMaxNodes) + " nodes");
  }
  return false;
}

// A map's entries in document order with "<<" merge keys applied (explicit
// keys win, earlier merge sources win). Repeated keys are errors: YAML
// forbids them and yaml-cpp would silently keep both.
std::vector<Entry> Reader::entries(const Slot& s, int merge_depth) {
  std::vector<Entry> out;
  if (!s.node.IsMap()) {
    type_error(s, "a map");
    return out;
  }
  std::vector<Slot> merges;
  std::unordered_map<std::string, size_t> index;  // key -> position in out; maps can be large
  for (auto it = s.node.begin(); it != s.node.end(); ++it) {
    if (!spend(s.pos)) return out;
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    SourcePos key_pos = pos_of(key);
    if (!key.IsScalar()) {
      fail(key_pos, s.field, "invalid_type",
           std::string("map keys must be plain strings, got ") + kind_name(key));
      continue;
    }
    const std::string& k = key.Scalar();
    SourcePos value_pos = value.IsNull() ? null_pos(value, key_pos) : pos_of(value);
    if (k == "<<" && key.Tag() == "?") {
      merges.push_back(Slot{value, value_pos, s.field});
      continue;
    }
    std::string f = join(s.field, k);
    if (auto [first, inserted] = index.emplace(k, out.size()); !inserted) {
      fail(key_pos, f, "duplicate_key",
           in_quotes(k) + " is repeated (first at line " +
               std::to_string(out[first->second].key_pos.line) + ")");
      continue;
    }
    if (merge_depth == 0) positions_[f] = value_pos;
    out.push_back(Entry{k, key_pos, Slot{value, value_pos, f}});
  }
  for (const auto& m : merges) {
    if (merge_depth >= kMaxMergeDepth) {
      fail(m, "too_deep", "merge keys (<<) nested too deeply");
      break;
    }
    std::vector<Slot> sources;
    if (m.node.IsMap()) {
      sources.push_back(m);
    } else if (m.node.IsSequence()) {
      for (auto it = m.node.begin(); it != m.node.end(); ++it)
        sources.push_back(Slot{*it, pos_of(*it), m.field});
    } else {
      type_error(m, "a map or a list of maps after \"<<\"");
      continue;
    }
    for (const auto& src : sources) {
      for (auto& e : entries(src, merge_depth + 1)) {
        if (!index.emplace(e.key, out.size()).second) continue;
        if (merge_depth == 0) positions_[e.value.field] = e.value.pos;
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

std::vector<Slot> Reader::items(const Slot& s) {
  std::vector<Slot> out;
  if (!s.node.IsSequence()) {
    type_error(s, "a list");
    return out;
  }
  size_t i = 0;
  for (auto it = s.node.begin(); it != s.node.end(); ++it, ++i) {
    if (!spend(s.pos)) break;
    YAML::Node n = *it;
    std::string f = index_field(s.field, i);
    Slot item{n, n.IsNull() ? null_pos(n, s.pos) : pos_of(n), f};
    positions_[f] = item.pos;
    out.push_back(std::move(item));
  }
  return out;
}

// The scalar's text with ${VAR} references expanded.
std::optional<std::string> Reader::text(const Slot& s) {
  if (!s.node.IsScalar()) {
    type_error(s, "a scalar value");
    return std::nullopt;
  }
  std::string out, code, why;
  if (!expand_env(s.node.Scalar(), out, code, why)) {
    fail(s, code, why);
    return std::nullopt;
  }
  return out;
}

void Reader::read(const Slot& s, std::string& out) {
  if (auto t = text(s)) out = std::move(*t);
}

void Reader::read(const Slot& s, bool& out) {
  auto t = text(s);
  if (!t) return;
  // YAML 1.2 booleans only: "yes"/"on" meaning true is a classic YAML trap.
  if (iequals(*t, "true"))
    out = true;
  else if (iequals(*t, "false"))
    out = false;
  else
    fail(s, "invalid_value", "expected true or false, got " + in_quotes(*t));
}

void Reader::read(const Slot& s, double& out) {
  auto t = text(s);
  if (!t) return;
  double v = 0;
  auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
  if (t->empty() || ec != std::errc() || ptr != t->data() + t->size() || !std::isfinite(v)) {
    fail(s, "invalid_value", "expected a number, got " + in_quotes(*t));
    return;
  }
  out = v;
}

void Reader::duration(const Slot& s, int64_t& out) {
  auto t = text(s);
  if (!t) return;
  if (auto ms = parse_duration_ms(*t)) {
    out = *ms;
  } else {
    fail(s, "invalid_value",
         "invalid duration " + in_quotes(*t) +
             " (expected e.g. 250ms, 5s, 2m, 1h or a non-negative number of milliseconds)");
  }
}

void Reader::size(const Slot& s, uint64_t& out) {
  auto t = text(s);
  if (!t) return;
  if (auto n = parse_size(*t)) {
    out = *n;
  } else {
    fail(s, "invalid_value",
         "invalid size " + in_quotes(*t) + " (expected e.g. 8k, 64KiB, 1m or a number of bytes)");
  }
}

void Reader::strings(const Slot& s, std::vector<std::string>& out) {
  out.clear();
  for (const auto& item : items(s)) {
    if (auto t = text(item)) out.push_back(std::move(*t));
  }
}

void Reader::ints(const Slot& s, std::vector<int>& out) {
  out.clear();
  for (const auto& item : items(s)) {
    int v = 0;
    size_t before = errors_.size();
    read(item, v);
    if (errors_.size() == before) out.push_back(v);
  }
}

bool Reader::parse_int(std::string_view s, int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

Fields::Fields(Reader& r, const Slot& s, const std::vector<std::string>& known,
               std::string_view ignored_prefix)
    : r_(r) {
  for (auto& e : r.entries(s)) {
    if (!ignored_prefix.empty() && e.key.starts_with(ignored_prefix)) continue;
    if (std::find(known.begin(), known.end(), e.key) == known.end()) {
      r.fail(e.key_pos, e.value.field, "unknown_field",
             "unknown field " + in_quotes(e.key) + did_you_mean(e.key, known));
      continue;
    }
    entries_.push_back(std::move(e));
  }
}

}  // namespace gatehouse::config::detail

namespace gatehouse::config {

std::string ConfigError::to_string() const {
  std::string out = pos.file.empty() ? "<config>" : pos.file;
  if (pos.line > 0) {
    out += ":" + std::to_string(pos.line);
    if (pos.column > 0) out += ":" + std::to_string(pos.column);
  }
  out += ": ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

}  // namespace gatehouse::config
