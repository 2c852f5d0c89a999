#include "ai/translate/json_util.hpp"

#include <cmath>

#include "common/json.hpp"

namespace gatehouse::ai::detail {

Error field_error(const std::string& field, std::string message, std::string code) {
  Error e = make_error(std::move(code), std::move(message), field, 400, ErrorSide::kDownstream);
  return e;
}

Error type_error(const std::string& field, std::string_view expected) {
  return field_error(field, "`" + field + "` must be " + std::string(expected));
}

Result<json::object> parse_object(std::string_view body, std::string_view what) {
  boost::system::error_code ec;
  json::value v = parse_json(body, ec);
  if (ec) {
    return make_error("invalid_json", std::string(what) + " is not valid JSON: " + ec.message(),
                      {}, 400, ErrorSide::kDownstream);
  }
  if (!v.is_object()) {
    return make_error("invalid_json", std::string(what) + " must be a JSON object", {}, 400,
                      ErrorSide::kDownstream);
  }
  return std::move(v.as_object());
}

const json::value* find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

Result<const json::object*> get_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) return type_error(path, "an object");
  return &v.as_object();
}

Result<const json::array*> get_array(const json::value& v, const std::string& path) {
  if (!v.is_array()) return type_error(path, "an array");
  return &v.as_array();
}

Result<std::string_view> get_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) return type_error(path, "a string");
  const auto& s = v.as_string();
  return std::string_view(s.data(), s.size());
}

Result<int64_t> get_int(const json::value& v, const std::string& path) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v.as_uint64());
  if (v.is_double()) {
    double d = v.as_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      return static_cast<int64_t>(d);
  }
  return type_error(path, "an integer");
}

Result<double> get_number(const json::value& v, const std::string& path) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return type_error(path, "a number");
}

Result<bool> get_bool(const json::value& v, const std::string& path) {
  if (!v.is_bool()) return type_error(path, "a boolean");
  return v.as_bool();
}

Result<void> opt_string(const json::object& o, std::string_view key, const std::string& base,
                        std::string& out) {
  const json::value* v = find(o, key);
  if (!v) return Ok{};
  auto s = get_string(*v, path_key(base, key));
  if (!s) return s.error();
  out.assign(*s);
  return Ok{};
}

Result<void> opt_int(const json::object& o, std::string_view key, const std::string& base,
                     std::optional<int64_t>& out) {
  const json::value* v = find(o, key);
  if (!v) return Ok{};
  auto i = get_int(*v, path_key(base, key));
  if (!i) return i.error();
  out = *i;
  return Ok{};
}

Result<void> opt_number(const json::object& o, std::string_view key, const std::string& base,
                        std::optional<double>& out) {
  const json::value* v = find(o, key);
  if (!v) return Ok{};
  auto d = get_number(*v, path_key(base, key));
  if (!d) return d.error();
  out = *d;
  return Ok{};
}

Result<void> opt_bool(const json::object& o, std::string_view key, const std::string& base,
                      std::optional<bool>& out) {
  const json::value* v = find(o, key);
  if (!v) return Ok{};
  auto b = get_bool(*v, path_key(base, key));
  if (!b) return b.error();
  out = *b;
  return Ok{};
}

Result<std::string_view> req_string(const json::object& o, std::string_view key,
                                    const std::string& base) {
  const json::value* v = find(o, key);
  std::string p = path_key(base, key);
  if (!v) return field_error(p, "`" + p + "` is required", "missing_field");
  return get_string(*v, p);
}

std::string_view str_or(const json::object& o, std::string_view key, std::string_view dflt) {
  const json::value* v = find(o, key);
  if (!v || !v->is_string()) return dflt;
  return std::string_view(v->as_string().data(), v->as_string().size());
}

int64_t int_or(const json::object& o, std::string_view key, int64_t dflt) {
  const json::value* v = find(o, key);
  if (!v) return dflt;
  auto i = get_int(*v, std::string());
  return i ? *i : dflt;
}

bool has_int(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  return v && get_int(*v, std::string()).ok();
}

const json::object* obj_or_null(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

const json::array* arr_or_null(const json::object& o, std::string_view key) {
  const json::value* v = find(o, key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

std::string dump(const json::value& v) { return json::serialize(v); }

std::string_view id_core(std::string_view id) {
  for (std::string_view p : {"chatcmpl-", "msg_", "resp_"}) {
    if (id.substr(0, p.size()) == p) return id.substr(p.size());
  }
  return id;
}

}  // namespace gatehouse::ai::detail
