// Strict reading of a policy's `config` block: unknown keys, wrong types and
// out-of-range values are errors with a field path such as
// "routes[2].policies[0].config.window". Factories read what they need, then
// call finish() for the first error (all are kept for messages).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/entities.hpp"

namespace gatehouse::policy {

class ConfigReader {
 public:
  // `field` is the attachment's path ("routes[2].policies[0]").
  ConfigReader(const config::PolicyRef& ref, std::string field);

  // Rejects keys not in `known`.
  void allow_only(std::initializer_list<const char*> known);
  bool has(const char* key) const;

  std::string str(const char* key, std::string def = {});
  std::optional<std::string> opt_str(const char* key);
  int64_t integer(const char* key, int64_t def, int64_t min, int64_t max);
  double number(const char* key, double def, double min, double max);
  bool boolean(const char* key, bool def);
  int64_t duration_ms(const char* key, int64_t def, int64_t min_ms = 1);
  uint64_t size(const char* key, uint64_t def);
  std::vector<std::string> strings(const char* key);
  std::map<std::string, std::string> string_map(const char* key);
  // One of `choices`; `def` when absent.
  std::string choice(const char* key, std::initializer_list<const char*> choices, std::string def);
  YAML::Node node(const char* key) const;  // raw access for nested shapes

  void fail(const std::string& key, const std::string& code, const std::string& message);
  std::string path(const std::string& key) const { return field_ + ".config." + key; }
  // The first error, or Ok. Messages carry file:line:column of the policy.
  Result<void> finish() const;
  bool ok() const { return errors_.empty(); }

 private:
  YAML::Node root_;
  std::string field_;
  config::SourcePos pos_;
  std::vector<Error> errors_;
};

}  // namespace gatehouse::policy
