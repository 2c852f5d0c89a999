#include "apim/openapi/source.hpp"

#include <yaml-cpp/depthguard.h>

#include <boost/json/parser.hpp>
#include <charconv>
#include <cmath>
#include <exception>
#include <optional>

#include "common/json.hpp"
#include "common/yaml_scalar.hpp"

namespace gatehouse::apim::openapi {

namespace json = boost::json;

namespace {

// Aliases can make a few bytes stand for billions of nodes; a real spec has
// far fewer than this (GitHub's is about 2 million JSON values).
constexpr size_t kMaxYamlNodes = 8'000'000;
constexpr size_t kMaxDepth = 256;

Error parse_error(const std::string& path, int line, int column, std::string code,
                  std::string message) {
  Error e = make_error(std::move(code), std::move(message), {}, 400, ErrorSide::kDownstream);
  e.file = path;
  e.line = line;
  e.column = column;
  return e;
}

json::value plain_scalar(const std::string& s) {
  return yaml_plain_scalar(s, BigIntegers::kDouble);
}

struct YamlConverter {
  const std::string& path;
  size_t nodes = 0;
  std::optional<Error> error;

  void fail(const YAML::Node& n, std::string code, std::string msg) {
    if (!error) error = parse_error(path, n.Mark().line + 1, n.Mark().column + 1, code, msg);
  }

  json::value convert(const YAML::Node& n, size_t depth) {
    if (error) return nullptr;
    if (++nodes > kMaxYamlNodes) {
      fail(n, "too_large", "the document expands to more than 8,000,000 values (aliases?)");
      return nullptr;
    }
    if (depth > kMaxDepth) {
      fail(n, "too_deep", "the document nests more than 256 levels");
      return nullptr;
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        // A quoted scalar (tag "!") is always a string.
        if (n.Tag() == "!") return json::string(n.Scalar());
        return plain_scalar(n.Scalar());
      case YAML::NodeType::Sequence: {
        json::array a;
        a.reserve(n.size());
        for (const auto& item : n) a.push_back(convert(item, depth + 1));
        return a;
      }
      case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            fail(kv.first, "invalid_key", "map keys must be scalars in an OpenAPI document");
            return nullptr;
          }
          const std::string& key = kv.first.Scalar();
          if (o.contains(key)) {
            fail(kv.first, "duplicate_key", "key '" + key + "' is written twice in this map");
            return nullptr;
          }
          o.emplace(key, convert(kv.second, depth + 1));
        }
        return o;
      }
    }
    return nullptr;
  }
};

std::pair<int, int> line_column(std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

Result<json::value> parse_json(std::string_view text, const std::string& path) {
  json::parse_options opt;
  opt.max_depth = kMaxDepth;
  boost::system::error_code ec;
  size_t used = 0;
  json::value v = gatehouse::parse_json(text, ec, {}, opt, &used);
  if (ec == json::error::extra_data) {
    auto [l, c] = line_column(text, used);
    return parse_error(path, l, c, "invalid_json", "unexpected content after the JSON document");
  }
  if (ec) {
    auto [l, c] = line_column(text, used);
    return parse_error(path, l, c, "invalid_json", "invalid JSON: " + ec.message());
  }
  return v;
}

bool decode_token(std::string_view raw, std::string& out) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '~') {
      out += raw[i];
      continue;
    }
    if (i + 1 >= raw.size()) return false;
    if (raw[i + 1] == '0')
      out += '~';
    else if (raw[i + 1] == '1')
      out += '/';
    else
      return false;
    ++i;
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const SourceDoc>> parse_source(std::string_view text, std::string path) {
  if (text.size() > kMaxSourceBytes)
    return parse_error(path, 0, 0, "too_large", "the document is larger than 64 MiB");
  auto doc = std::make_shared<SourceDoc>();
  doc->path = std::move(path);
  size_t i = 0;
  // A UTF-8 byte order mark is allowed by both formats' readers in practice.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
    ++i;
  if (i < text.size() && (text[i] == '{' || text[i] == '[')) {
    auto v = parse_json(text.substr(i), doc->path);
    if (!v) {
      Error e = v.error();
      // Lines before the JSON started.
      auto [l, c] = line_column(text, i);
      if (e.line == 1) e.column += c - 1;
      e.line += l - 1;
      return e;
    }
    doc->root = std::move(*v);
    return std::shared_ptr<const SourceDoc>(std::move(doc));
  }
  // yaml-cpp throws; this is the control plane, and the exception stops here.
  try {
    doc->yaml = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& ex) {
    return parse_error(doc->path, ex.mark.line + 1, ex.mark.column + 1, "too_deep",
                       "the document nests too deeply");
  } catch (const YAML::ParserException& ex) {
    return parse_error(doc->path, ex.mark.line + 1, ex.mark.column + 1, "invalid_yaml",
                       "invalid YAML: " + ex.msg);
  } catch (const std::exception& ex) {
    return parse_error(doc->path, 0, 0, "invalid_yaml", std::string("invalid YAML: ") + ex.what());
  }
  doc->is_yaml = true;
  YamlConverter conv{doc->path, 0, std::nullopt};
  try {
    doc->root = conv.convert(doc->yaml, 0);
  } catch (const std::exception& ex) {
    return parse_error(doc->path, 0, 0, "invalid_yaml", std::string("invalid YAML: ") + ex.what());
  }
  if (conv.error) return *conv.error;
  return std::shared_ptr<const SourceDoc>(std::move(doc));
}

std::pair<int, int> SourceDoc::position(std::string_view pointer) const {
  if (!is_yaml) return {0, 0};
  try {
    // YAML::Node assignment writes through to the shared tree; reset()
    // rebinds the handle instead, which is what a walk needs.
    YAML::Node n;
    n.reset(yaml);
    std::pair<int, int> best{n.Mark().line + 1, n.Mark().column + 1};
    size_t i = pointer.empty() ? pointer.size() : 1;
    std::string token;
    while (i < pointer.size() + 1 && !pointer.empty()) {
      size_t j = pointer.find('/', i);
      if (j == std::string_view::npos) j = pointer.size();
      if (!decode_token(pointer.substr(i, j - i), token)) break;
      YAML::Node next;
      bool found = false;
      bool found_in_map = n.IsMap();
      if (n.IsMap()) {
        for (const auto& kv : n)
          if (kv.first.IsScalar() && kv.first.Scalar() == token) {
            next.reset(kv.second);
            found = true;
            // A key's position names a map or list written below it (the
            // collection's own mark is its first entry) and a null value.
            best = {kv.first.Mark().line + 1, kv.first.Mark().column + 1};
            break;
          }
      } else if (n.IsSequence()) {
        size_t idx = 0;
        auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), idx);
        if (ec == std::errc() && p == token.data() + token.size() && idx < n.size()) {
          next.reset(n[idx]);
          found = true;
        }
      }
      if (!next.IsDefined() || !found) break;
      n.reset(next);
      if (n.IsScalar() || (!found_in_map && !n.IsNull()))
        best = {n.Mark().line + 1, n.Mark().column + 1};
      i = j + 1;
    }
    return best;
  } catch (const std::exception&) {
    return {0, 0};
  }
}

std::string pointer_escape(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string pointer_append(std::string_view base, std::string_view token) {
  std::string out(base);
  out += '/';
  out += pointer_escape(token);
  return out;
}

const json::value* pointer_find(const json::value& root, std::string_view pointer) {
  const json::value* v = &root;
  if (pointer.empty()) return v;
  if (pointer[0] != '/') return nullptr;
  size_t i = 1;
  std::string token;
  while (true) {
    size_t j = pointer.find('/', i);
    if (j == std::string_view::npos) j = pointer.size();
    if (!decode_token(pointer.substr(i, j - i), token)) return nullptr;
    if (v->is_object()) {
      v = v->get_object().if_contains(token);
    } else if (v->is_array()) {
      size_t idx = 0;
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), idx);
      if (ec != std::errc() || p != token.data() + token.size() || token.empty() ||
          (token.size() > 1 && token[0] == '0') || idx >= v->get_array().size())
        return nullptr;
      v = &v->get_array()[idx];
    } else {
      return nullptr;
    }
    if (!v) return nullptr;
    if (j == pointer.size()) return v;
    i = j + 1;
  }
}

Error located_error(const SourceDoc& doc, std::string_view pointer, std::string code,
                    std::string message) {
  Error e = make_error(std::move(code), std::move(message), std::string(pointer), 400,
                       ErrorSide::kDownstream);
  e.file = doc.path;
  auto [l, c] = doc.position(pointer);
  e.line = l;
  e.column = c;
  return e;
}

}  // namespace gatehouse::apim::openapi
