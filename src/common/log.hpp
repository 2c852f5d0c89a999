// Structured JSON logging. Operational logs go to stderr, one JSON object per
// line. The access log has its own per-worker buffered writer (access_log.hpp).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace gatehouse::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void set_level(Level level);
Level level();

// A field value is written as a JSON string unless `raw` (numbers, booleans).
struct Field {
  std::string_view key;
  std::string value;
  bool raw = false;
};
inline Field f(std::string_view k, std::string v) { return {k, std::move(v), false}; }
inline Field n(std::string_view k, long long v) { return {k, std::to_string(v), true}; }

void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::kInfo, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::kWarn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  write(Level::kError, msg, fields);
}
inline void debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (level() <= Level::kDebug) write(Level::kDebug, msg, fields);
}

// Appends `s` to `out` as JSON string content (without quotes).
void json_escape(std::string& out, std::string_view s);

// RFC 3339 UTC time with milliseconds for "now".
std::string now_rfc3339();

}  // namespace gatehouse::log
