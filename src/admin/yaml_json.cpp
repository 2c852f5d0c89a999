#include "admin/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

#include "common/yaml_scalar.hpp"
#include "config/loader_reader.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

json::value plain_scalar(const std::string& s) {
  return yaml_plain_scalar(s, BigIntegers::kString);
}

struct Converter {
  bool expand = false;
  size_t nodes = 0;
  Error error;
  bool failed = false;

  void fail(const YAML::Node& n, std::string code, std::string msg) {
    if (failed) return;
    failed = true;
    error = make_error(std::move(code), std::move(msg), {}, 400, ErrorSide::kDownstream);
    error.line = n.Mark().line + 1;
    error.column = n.Mark().column + 1;
  }

  std::string text(const YAML::Node& n) {
    const std::string& raw = n.Scalar();
    if (!expand) {
      // Not expanded, but "$${" still means a literal "${" (as the export
      // writes it), so an exported document reads back as it was.
      std::string out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw.compare(i, 3, "$${") == 0) ++i;
        out += raw[i];
      }
      return out;
    }
    std::string out, code, why;
    if (!config::detail::expand_env(raw, out, code, why)) {
      fail(n, code, why);
      return raw;
    }
    return out;
  }

  json::value convert(const YAML::Node& n, int depth) {
    if (failed) return nullptr;
    if (depth > 64 || ++nodes > 1'000'000) {
      fail(n, "too_large", "document nested too deep or too large");
      return nullptr;
    }
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nullptr;
      case YAML::NodeType::Scalar: {
        std::string t = text(n);
        if (n.Tag() == "?") return plain_scalar(t);
        return json::string(t);
      }
      case YAML::NodeType::Sequence: {
        json::array a;
        for (const auto& item : n) a.push_back(convert(item, depth + 1));
        return a;
      }
      case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            fail(kv.first, "invalid_value", "map keys must be strings");
            return nullptr;
          }
          if (o.contains(kv.first.Scalar())) {
            // yaml-cpp keeps both; silently taking one would hide a typo.
            fail(kv.first, "duplicate_key", "key \"" + kv.first.Scalar() + "\" appears twice");
            return nullptr;
          }
          o[kv.first.Scalar()] = convert(kv.second, depth + 1);
        }
        return o;
      }
    }
    return nullptr;
  }
};

std::string escape_dollar(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') out += '$';
    out += s[i];
  }
  return out;
}

void emit_flow(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        if (!first) out += ", ";
        first = false;
        out += json::serialize(json::string(kv.key()));
        out += ": ";
        emit_flow(kv.value(), out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        emit_flow(item, out);
      }
      out += ']';
      return;
    }
    case json::kind::string:
      out += json::serialize(json::string(escape_dollar(v.get_string())));
      return;
    case json::kind::null:
      out += "null";
      return;
    default:
      out += json::serialize(v);
  }
}

void emit_block(YAML::Emitter& e, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      e << YAML::BeginMap;
      for (const auto& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        e << YAML::Key << std::string(kv.key()) << YAML::Value;
        emit_block(e, kv.value());
      }
      e << YAML::EndMap;
      return;
    case json::kind::array:
      if (v.get_array().empty()) {
        e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      e << YAML::BeginSeq;
      for (const auto& item : v.get_array()) emit_block(e, item);
      e << YAML::EndSeq;
      return;
    case json::kind::string: {
      std::string s = escape_dollar(v.get_string());
      if (!plain_scalar(s).is_string() || s != std::string_view(v.get_string()))
        e << YAML::DoubleQuoted;
      e << s;
      return;
    }
    case json::kind::bool_:
      e << (v.get_bool() ? "true" : "false");
      return;
    case json::kind::int64:
      e << v.get_int64();
      return;
    case json::kind::uint64:
      e << v.get_uint64();
      return;
    case json::kind::double_:
      e << v.get_double();
      return;
    case json::kind::null:
      e << YAML::Null;
      return;
  }
}

}  // namespace

Result<json::value> yaml_to_json(std::string_view text, bool expand_env) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& ex) {
    Error e = make_error("invalid_yaml", ex.msg, {}, 400, ErrorSide::kDownstream);
    e.line = ex.mark.line + 1;
    e.column = ex.mark.column + 1;
    return e;
  }
  Converter c;
  c.expand = expand_env;
  json::value v;
  try {
    v = c.convert(root, 0);
  } catch (const YAML::Exception& ex) {
    return make_error("invalid_yaml", ex.msg, {}, 400, ErrorSide::kDownstream);
  }
  if (c.failed) return c.error;
  return v;
}

std::string json_to_loader_yaml(const json::value& v) {
  std::string out;
  emit_flow(v, out);
  return out;
}

std::string json_to_block_yaml(const json::value& v) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetDoublePrecision(15);
  emit_block(e, v);
  std::string out = e.c_str();
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

}  // namespace gatehouse::admin
