#include "apim/schema/params.hpp"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>

#include "apim/schema/program.hpp"
#include "common/json.hpp"

namespace gatehouse::apim::schema {

namespace json = boost::json;

namespace {

uint8_t type_bits(const openapi::Document& d, const json::value& schema, int depth = 0) {
  const json::value& s = openapi::resolve_schema(d, schema);
  if (!s.is_object() || depth > 8) return 0;
  const json::object& o = s.get_object();
  uint8_t bits = 0;
  auto add = [&](std::string_view t) {
    if (t == "integer") bits |= detail::kInteger;
    if (t == "number") bits |= detail::kNumber | detail::kInteger;
    if (t == "boolean") bits |= detail::kBoolean;
    if (t == "string") bits |= detail::kString;
    if (t == "array") bits |= detail::kArray;
    if (t == "object") bits |= detail::kObject;
    if (t == "null") bits |= detail::kNull;
  };
  if (const json::value* t = o.if_contains("type")) {
    if (t->is_string()) add(t->get_string());
    if (t->is_array())
      for (const auto& x : t->get_array())
        if (x.is_string()) add(x.get_string());
    return bits;
  }
  // Untyped: what its alternatives allow together.
  for (const char* k : {"allOf", "anyOf", "oneOf"})
    if (const json::value* l = o.if_contains(k); l && l->is_array())
      for (const auto& x : l->get_array()) bits |= type_bits(d, x, depth + 1);
  return bits;
}

const json::value* child(const openapi::Document& d, const json::value& schema, const char* key) {
  const json::value& s = openapi::resolve_schema(d, schema);
  if (!s.is_object()) return nullptr;
  if (const json::value* c = s.get_object().if_contains(key)) return c;
  if (const json::value* l = s.get_object().if_contains("allOf"); l && l->is_array())
    for (const auto& x : l->get_array())
      if (const json::value* c = child(d, x, key)) return c;
  return nullptr;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(
        s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

uint8_t property_types(const ParamShape& s, std::string_view name) {
  for (const auto& [n, t] : s.properties)
    if (n == name) return t;
  return s.other_types;
}

// Decodes each element, then coerces it: delimiters are split while still
// encoded, so "%2C" is a comma inside a value, not a separator.
json::value array_of(const std::vector<std::string_view>& parts, const ParamShape& s, bool decode,
                     bool plus) {
  json::array a;
  for (auto p : parts)
    a.push_back(coerce(decode ? percent_decode(p, plus) : std::string(p), s.item_types));
  return a;
}

// ["k1", "v1", "k2", "v2"] (explode false) or ["k1=v1", "k2=v2"] (explode true).
Deserialized object_of(const std::vector<std::string_view>& parts, const ParamShape& s, bool pairs,
                       bool decode, bool plus) {
  json::object o;
  auto dec = [&](std::string_view x) { return decode ? percent_decode(x, plus) : std::string(x); };
  if (pairs) {
    for (auto p : parts) {
      if (p.empty()) continue;
      size_t eq = p.find('=');
      if (eq == std::string_view::npos)
        return {std::nullopt, "'" + std::string(p) + "' is not name=value"};
      std::string k = dec(p.substr(0, eq));
      o[k] = coerce(dec(p.substr(eq + 1)), property_types(s, k));
    }
  } else {
    if (parts.size() % 2 != 0)
      return {std::nullopt, "an object needs name,value pairs (an even number of items)"};
    for (size_t i = 0; i + 1 < parts.size(); i += 2) {
      std::string k = dec(parts[i]);
      o[k] = coerce(dec(parts[i + 1]), property_types(s, k));
    }
  }
  return {json::value(std::move(o)), {}};
}

Deserialized shaped(const std::vector<std::string_view>& parts, const ParamShape& s,
                    bool explode_pairs, bool decode, bool plus) {
  switch (s.kind) {
    case ParamShape::Kind::kArray:
      return {array_of(parts, s, decode, plus), {}};
    case ParamShape::Kind::kObject:
      return object_of(parts, s, explode_pairs, decode, plus);
    case ParamShape::Kind::kPrimitive:
      break;
  }
  return {};
}

Deserialized content_value(const openapi::Parameter& p, std::string text) {
  if (p.content_type.find("json") == std::string::npos) return {json::value(std::move(text)), {}};
  json::error_code ec;
  json::parse_options po;
  po.max_depth = 64;
  json::value v = parse_json(text, ec, {}, po);
  if (ec) return {std::nullopt, "is not valid JSON (" + p.content_type + ")"};
  return {std::move(v), {}};
}

}  // namespace

ParamShape shape_of(const openapi::Document& d, const json::value& schema) {
  ParamShape s;
  uint8_t bits = type_bits(d, schema);
  if (bits == detail::kArray) {
    s.kind = ParamShape::Kind::kArray;
    if (const json::value* items = child(d, schema, "items")) s.item_types = type_bits(d, *items);
  } else if (bits == detail::kObject) {
    s.kind = ParamShape::Kind::kObject;
    if (const json::value* props = child(d, schema, "properties"); props && props->is_object())
      for (const auto& kv : props->get_object())
        s.properties.emplace_back(std::string(kv.key()), type_bits(d, kv.value()));
    if (const json::value* ap = child(d, schema, "additionalProperties"); ap && ap->is_object())
      s.other_types = type_bits(d, *ap);
  } else {
    s.types = bits;
  }
  return s;
}

json::value coerce(std::string_view text, uint8_t types) {
  if (types & detail::kInteger) {
    int64_t i = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec == std::errc() && p == text.data() + text.size() && !text.empty()) return json::value(i);
  }
  if (types & detail::kNumber) {
    // JSON number syntax only ("1e3", "-0.5"); not "inf", "0x10" or " 1".
    json::error_code ec;
    if (!text.empty() && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
      json::value v = parse_json(text, ec);
      if (!ec && v.is_number()) return v;
    }
  }
  if (types & detail::kBoolean) {
    if (text == "true") return json::value(true);
    if (text == "false") return json::value(false);
  }
  if ((types & detail::kNull) && text == "null" && !(types & detail::kString))
    return json::value(nullptr);
  return json::value(json::string_view(text.data(), text.size()));
}

std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  if (query.empty()) return out;
  for (auto part : split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(part, std::string_view{});
    else
      out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> split_cookies(std::string_view header) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (auto part : split(header, ';')) {
    part = trim(part);
    size_t eq = part.find('=');
    if (part.empty() || eq == std::string_view::npos) continue;
    std::string_view v = part.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    out.emplace_back(trim(part.substr(0, eq)), v);
  }
  return out;
}

Deserialized deserialize_path(const openapi::Parameter& p, const ParamShape& s,
                              std::string_view raw) {
  if (!p.content_type.empty()) return content_value(p, percent_decode(raw, false));
  const std::string& style = p.style;
  std::string_view v = raw;
  if (style == "label") {
    if (v.empty() || v[0] != '.') return {std::nullopt, "a label-style value starts with '.'"};
    v.remove_prefix(1);
    if (s.kind == ParamShape::Kind::kPrimitive)
      return {coerce(percent_decode(v, false), s.types), {}};
    return shaped(split(v, p.explode ? '.' : ','), s, p.explode, true, false);
  }
  if (style == "matrix") {
    if (v.empty() || v[0] != ';') return {std::nullopt, "a matrix-style value starts with ';'"};
    v.remove_prefix(1);
    if (s.kind == ParamShape::Kind::kObject && p.explode)
      return shaped(split(v, ';'), s, true, true, false);
    std::string prefix = p.name + "=";
    if (s.kind == ParamShape::Kind::kArray && p.explode) {
      std::vector<std::string_view> items;
      for (auto part : split(v, ';')) {
        if (!part.starts_with(prefix)) return {std::nullopt, "expected ';" + prefix + "...'"};
        items.push_back(part.substr(prefix.size()));
      }
      return shaped(items, s, false, true, false);
    }
    if (!v.starts_with(prefix)) {
      if (v == p.name && s.kind == ParamShape::Kind::kPrimitive) return {json::value(""), {}};
      return {std::nullopt, "expected ';" + prefix + "...'"};
    }
    v.remove_prefix(prefix.size());
    if (s.kind == ParamShape::Kind::kPrimitive)
      return {coerce(percent_decode(v, false), s.types), {}};
    return shaped(split(v, ','), s, false, true, false);
  }
  // simple
  if (s.kind == ParamShape::Kind::kPrimitive)
    return {coerce(percent_decode(v, false), s.types), {}};
  return shaped(split(v, ','), s, p.explode, true, false);
}

Deserialized deserialize_query(
    const openapi::Parameter& p, const ParamShape& s,
    const std::vector<std::pair<std::string_view, std::string_view>>& query) {
  auto name_is = [&](std::string_view raw) {
    return raw == p.name || percent_decode(raw, true) == p.name;
  };
  if (p.style == "deepObject") {
    json::object o;
    bool any = false;
    for (const auto& [k, v] : query) {
      std::string key = percent_decode(k, true);
      if (!key.starts_with(p.name + "[") || key.back() != ']') continue;
      any = true;
      std::string prop = key.substr(p.name.size() + 1, key.size() - p.name.size() - 2);
      o[prop] = coerce(percent_decode(v, true), property_types(s, prop));
    }
    if (!any) return {};
    return {json::value(std::move(o)), {}};
  }
  if (s.kind == ParamShape::Kind::kObject && p.explode && p.content_type.empty()) {
    // form, explode: every property is its own query parameter.
    json::object o;
    for (const auto& [k, v] : query) {
      std::string key = percent_decode(k, true);
      bool known = false;
      for (const auto& prop : s.properties) known = known || prop.first == key;
      if (known) o[key] = coerce(percent_decode(v, true), property_types(s, key));
    }
    if (o.empty()) return {};
    return {json::value(std::move(o)), {}};
  }
  std::vector<std::string_view> values;
  for (const auto& [k, v] : query)
    if (name_is(k)) values.push_back(v);
  if (values.empty()) return {};
  if (!p.content_type.empty()) return content_value(p, percent_decode(values.front(), true));
  if (s.kind == ParamShape::Kind::kPrimitive)
    return {coerce(percent_decode(values.front(), true), s.types), {}};
  if (s.kind == ParamShape::Kind::kArray && p.explode) return shaped(values, s, false, true, true);
  // One value, delimited: split after decoding for space/pipe/tab (they are
  // usually sent encoded), before decoding for commas (form).
  char sep = p.style == "spaceDelimited"  ? ' '
             : p.style == "pipeDelimited" ? '|'
             : p.style == "tabDelimited"  ? '\t'
                                          : ',';
  if (sep == ',') return shaped(split(values.front(), ','), s, false, true, true);
  std::string decoded = percent_decode(values.front(), true);
  Deserialized out = shaped(split(decoded, sep), s, false, false, false);
  return out;
}

Deserialized deserialize_header(const openapi::Parameter& p, const ParamShape& s,
                                std::string_view value) {
  if (!p.content_type.empty()) return content_value(p, std::string(value));
  if (s.kind == ParamShape::Kind::kPrimitive) return {coerce(value, s.types), {}};
  std::vector<std::string_view> parts = split(value, ',');
  for (auto& x : parts) x = trim(x);
  return shaped(parts, s, p.explode, false, false);
}

Deserialized deserialize_cookie(const openapi::Parameter& p, const ParamShape& s,
                                std::string_view value) {
  if (!p.content_type.empty()) return content_value(p, percent_decode(value, false));
  if (s.kind == ParamShape::Kind::kPrimitive)
    return {coerce(percent_decode(value, false), s.types), {}};
  return shaped(split(value, ','), s, false, true, false);
}

}  // namespace gatehouse::apim::schema
