#include "policies/config_reader.hpp"

#include <algorithm>
#include <set>

#include "common/strings.hpp"

namespace gatehouse::policy {

ConfigReader::ConfigReader(const config::PolicyRef& ref, std::string field)
    : field_(std::move(field)), pos_(ref.pos) {
  if (ref.config_yaml.empty()) {
    root_ = YAML::Node(YAML::NodeType::Map);
    return;
  }
  try {
    root_ = YAML::Load(ref.config_yaml);
  } catch (const YAML::Exception& e) {
    errors_.push_back(make_error("invalid_value", std::string("config is not valid YAML: ") + e.what(),
                                 field_ + ".config", 0, ErrorSide::kConfig));
    root_ = YAML::Node(YAML::NodeType::Map);
    return;
  }
  if (root_.IsNull()) root_ = YAML::Node(YAML::NodeType::Map);
  if (!root_.IsMap()) {
    errors_.push_back(make_error("invalid_type", "config must be a mapping", field_ + ".config", 0,
                                 ErrorSide::kConfig));
    root_ = YAML::Node(YAML::NodeType::Map);
  }
}

void ConfigReader::fail(const std::string& key, const std::string& code,
                        const std::string& message) {
  errors_.push_back(make_error(code, message, key.empty() ? field_ + ".config" : path(key), 0,
                               ErrorSide::kConfig));
}

void ConfigReader::allow_only(std::initializer_list<const char*> known) {
  std::set<std::string> ok(known.begin(), known.end());
  for (const auto& kv : root_) {
    std::string k = kv.first.as<std::string>("");
    if (ok.count(k)) continue;
    std::string hint;
    for (const auto& cand : ok) {
      // Cheap suggestion: same first letter and similar length.
      if (!k.empty() && cand[0] == k[0] &&
          std::abs(static_cast<int>(cand.size()) - static_cast<int>(k.size())) <= 2)
        hint = " (did you mean '" + cand + "'?)";
    }
    fail(k, "unknown_field", "unknown field '" + k + "'" + hint);
  }
}

bool ConfigReader::has(const char* key) const { return static_cast<bool>(root_[key]); }

YAML::Node ConfigReader::node(const char* key) const { return root_[key]; }

std::optional<std::string> ConfigReader::opt_str(const char* key) {
  YAML::Node n = root_[key];
  if (!n) return std::nullopt;
  if (!n.IsScalar()) {
    fail(key, "invalid_type", "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::string ConfigReader::str(const char* key, std::string def) {
  auto v = opt_str(key);
  return v ? *v : def;
}

int64_t ConfigReader::integer(const char* key, int64_t def, int64_t min, int64_t max) {
  YAML::Node n = root_[key];
  if (!n) return def;
  int64_t v = 0;
  try {
    if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "not a scalar");
    v = n.as<int64_t>();
  } catch (const YAML::Exception&) {
    fail(key, "invalid_type", "expected an integer");
    return def;
  }
  if (v < min || v > max) {
    fail(key, "invalid_value",
         "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return def;
  }
  return v;
}

double ConfigReader::number(const char* key, double def, double min, double max) {
  YAML::Node n = root_[key];
  if (!n) return def;
  double v = 0;
  try {
    if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "not a scalar");
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(key, "invalid_type", "expected a number");
    return def;
  }
  if (v < min || v > max) {
    fail(key, "invalid_value", "out of range");
    return def;
  }
  return v;
}

bool ConfigReader::boolean(const char* key, bool def) {
  YAML::Node n = root_[key];
  if (!n) return def;
  try {
    if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "not a scalar");
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    fail(key, "invalid_type", "expected true or false");
    return def;
  }
}

int64_t ConfigReader::duration_ms(const char* key, int64_t def, int64_t min_ms) {
  auto s = opt_str(key);
  if (!s) return def;
  auto v = parse_duration_ms(*s);
  if (!v) {
    fail(key, "invalid_value", "'" + *s + "' is not a duration (e.g. 500ms, 1s, 5m, 1h, 1d)");
    return def;
  }
  if (*v < min_ms) {
    fail(key, "invalid_value", "must be at least " + std::to_string(min_ms) + "ms");
    return def;
  }
  return *v;
}

uint64_t ConfigReader::size(const char* key, uint64_t def) {
  auto s = opt_str(key);
  if (!s) return def;
  auto v = parse_size(*s);
  if (!v) {
    fail(key, "invalid_value", "'" + *s + "' is not a size (e.g. 512, 8k, 1m)");
    return def;
  }
  return *v;
}

std::vector<std::string> ConfigReader::strings(const char* key) {
  std::vector<std::string> out;
  YAML::Node n = root_[key];
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    fail(key, "invalid_type", "expected a list of strings");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      fail(std::string(key) + "[" + std::to_string(i) + "]", "invalid_type", "expected a string");
      continue;
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

std::map<std::string, std::string> ConfigReader::string_map(const char* key) {
  std::map<std::string, std::string> out;
  YAML::Node n = root_[key];
  if (!n) return out;
  if (!n.IsMap()) {
    fail(key, "invalid_type", "expected a mapping of strings");
    return out;
  }
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>("");
    if (!kv.second.IsScalar()) {
      fail(std::string(key) + "." + k, "invalid_type", "expected a string");
      continue;
    }
    out[k] = kv.second.Scalar();
  }
  return out;
}

std::string ConfigReader::choice(const char* key, std::initializer_list<const char*> choices,
                                 std::string def) {
  auto v = opt_str(key);
  if (!v) return def;
  for (const char* c : choices)
    if (*v == c) return *v;
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  fail(key, "invalid_value", "'" + *v + "' is not one of: " + list);
  return def;
}

Result<void> ConfigReader::finish() const {
  if (errors_.empty()) return Ok{};
  Error e = errors_.front();
  e.file = pos_.file;
  e.line = pos_.line;
  e.column = pos_.column;
  if (errors_.size() > 1) e.message += " (and " + std::to_string(errors_.size() - 1) + " more)";
  return e;
}

}  // namespace gatehouse::policy
