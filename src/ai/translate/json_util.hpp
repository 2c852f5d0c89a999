// Field-path aware JSON readers for the wire parsers: every error names the offending
// field, e.g. `messages[2].content[0].type`.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ai/translate/ir.hpp"
#include "common/result.hpp"

namespace gatehouse::ai::detail {

namespace json = boost::json;

#define GH_AI_TRY(expr)                      \
  do {                                       \
    if (auto gh_r_ = (expr); !gh_r_) return gh_r_.error(); \
  } while (0)

inline std::string path_key(const std::string& base, std::string_view key) {
  if (base.empty()) return std::string(key);
  std::string p = base;
  p.push_back('.');
  p.append(key);
  return p;
}
inline std::string path_index(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

// A client request error (400) naming `field`.
Error field_error(const std::string& field, std::string message,
                  std::string code = "invalid_request");
Error type_error(const std::string& field, std::string_view expected);

// Parses a whole body; bad JSON or a non-object is an error naming `what`.
Result<json::object> parse_object(std::string_view body, std::string_view what);

// The member or nullptr when absent or JSON null.
const json::value* find(const json::object& o, std::string_view key);

Result<const json::object*> get_object(const json::value& v, const std::string& path);
Result<const json::array*> get_array(const json::value& v, const std::string& path);
Result<std::string_view> get_string(const json::value& v, const std::string& path);
Result<int64_t> get_int(const json::value& v, const std::string& path);
Result<double> get_number(const json::value& v, const std::string& path);
Result<bool> get_bool(const json::value& v, const std::string& path);

// Optional members: absent or null leaves `out` untouched.
Result<void> opt_string(const json::object& o, std::string_view key, const std::string& base,
                        std::string& out);
Result<void> opt_int(const json::object& o, std::string_view key, const std::string& base,
                     std::optional<int64_t>& out);
Result<void> opt_number(const json::object& o, std::string_view key, const std::string& base,
                        std::optional<double>& out);
Result<void> opt_bool(const json::object& o, std::string_view key, const std::string& base,
                      std::optional<bool>& out);
Result<std::string_view> req_string(const json::object& o, std::string_view key,
                                    const std::string& base);

// Lenient readers for provider output: wrong types read as absent (a provider's extra or
// odd field must not fail a response the client is waiting for).
std::string_view str_or(const json::object& o, std::string_view key, std::string_view dflt = {});
int64_t int_or(const json::object& o, std::string_view key, int64_t dflt = 0);
bool has_int(const json::object& o, std::string_view key);
const json::object* obj_or_null(const json::object& o, std::string_view key);
const json::array* arr_or_null(const json::object& o, std::string_view key);

// Writers.
std::string dump(const json::value& v);

// Strips a known id prefix ("chatcmpl-", "msg_", "resp_") so ids can be re-prefixed for
// another format and stay traceable to the upstream's.
std::string_view id_core(std::string_view id);

// A content field of any of the three formats: a plain string (one text part)
// or an array of objects, each read by `item(object, item_path) -> Result<Part>`.
// `expected` names the array form in the type error.
template <class F>
Result<void> parse_content_list(const json::value& v, const std::string& path,
                                std::string_view expected, std::vector<Part>& out, F&& item) {
  if (v.is_string()) {
    Part t;
    t.text.assign(v.as_string().c_str(), v.as_string().size());
    out.push_back(std::move(t));
    return Ok{};
  }
  auto arr = get_array(v, path);
  if (!arr) return type_error(path, expected);
  for (size_t i = 0; i < (*arr)->size(); ++i) {
    std::string ip = path_index(path, i);
    auto o = get_object((**arr)[i], ip);
    if (!o) return o.error();
    Result<Part> part = item(**o, ip);
    if (!part) return part.error();
    out.push_back(std::move(*part));
  }
  return Ok{};
}

}  // namespace gatehouse::ai::detail
