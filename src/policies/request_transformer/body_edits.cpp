#include "policies/request_transformer/body_edits.hpp"

#include <charconv>

#include "common/strings.hpp"

namespace gatehouse::policy {

namespace {

constexpr int kMaxValueDepth = 32;

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// A YAML value as JSON. Plain scalars are typed the way YAML's core schema
// reads them (null, true/false, numbers); quoted scalars are strings.
bool yaml_to_json(const YAML::Node& n, JsonNode& out, std::string& problem, int depth) {
  if (depth > kMaxValueDepth) {
    problem = "the value is nested too deeply";
    return false;
  }
  if (!n || n.IsNull()) {
    out = JsonNode::null();
    return true;
  }
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (n.Tag() == "?") {  // plain, not quoted
      if (s == "null" || s == "Null" || s == "NULL" || s == "~") {
        out = JsonNode::null();
        return true;
      }
      if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" ||
          s == "FALSE") {
        out = JsonNode::from_bool(s[0] == 't' || s[0] == 'T');
        return true;
      }
      if (is_json_number(s)) {
        out = JsonNode::number(s);
        return true;
      }
    }
    out = JsonNode::string(s);
    return true;
  }
  if (n.IsSequence()) {
    out = JsonNode::array();
    for (const auto& item : n) {
      JsonNode v;
      if (!yaml_to_json(item, v, problem, depth + 1)) return false;
      out.items.push_back(std::move(v));
    }
    return true;
  }
  if (n.IsMap()) {
    out = JsonNode::object();
    for (const auto& kv : n) {
      JsonNode v;
      if (!yaml_to_json(kv.second, v, problem, depth + 1)) return false;
      out.members.push_back({kv.first.Scalar(), std::move(v)});
    }
    return true;
  }
  problem = "unsupported value";
  return false;
}

bool read_path(ConfigReader& cr, const std::string& field, std::string_view text, bool wildcard_ok,
               JsonPath& out) {
  std::string problem;
  auto p = parse_json_path(text, problem);
  if (!p) {
    cr.fail(field, "invalid_value", problem);
    return false;
  }
  if (p->has_wildcard && !wildcard_ok) {
    cr.fail(field, "invalid_value",
            "'*' is not allowed in a rename path " + quoted(text) + " (it names one field)");
    return false;
  }
  out = std::move(*p);
  return true;
}

void read_value_ops(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                    std::vector<JsonValueOp>& out) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    cr.fail(field, "invalid_type", "expected a mapping of field paths to values");
    return;
  }
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string f = field + "." + name;
    JsonValueOp op;
    if (!read_path(cr, f, name, true, op.path)) continue;
    std::string problem;
    if (!yaml_to_json(kv.second, op.literal, problem, 0)) {
      cr.fail(f, "invalid_value", problem);
      continue;
    }
    // Top-level strings may be templates; they stay strings once expanded.
    if (op.literal.kind == JsonNode::Kind::kString) {
      auto t = Template::compile(op.literal.text);
      if (!t) {
        cr.fail(f, t.error().code, t.error().message);
        continue;
      }
      if (!t->is_literal()) op.tmpl = std::move(t).value();
    }
    out.push_back(std::move(op));
  }
}

std::optional<size_t> array_index(const std::string& seg, size_t size) {
  size_t v = 0;
  auto [p, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), v);
  if (ec != std::errc() || p != seg.data() + seg.size() || v >= size) return std::nullopt;
  return v;
}

// Calls fn(container, last_segment) for every container that the path's
// last segment names a member or element of. With `create`, missing objects
// on the way are created (never arrays: an index into nothing means nothing).
template <class F>
void visit_parents(JsonNode& node, const JsonPath& p, size_t i, bool create, F&& fn) {
  if (i + 1 == p.segments.size()) {
    fn(node, p.segments[i]);
    return;
  }
  const std::string& seg = p.segments[i];
  if (node.is_object()) {
    if (seg == "*") {
      for (auto& m : node.members) visit_parents(m.value, p, i + 1, create, fn);
      return;
    }
    JsonNode* child = node.find(seg);
    if (!child) {
      if (!create) return;
      node.members.push_back({seg, JsonNode::object()});
      child = &node.members.back().value;
    }
    visit_parents(*child, p, i + 1, create, fn);
  } else if (node.is_array()) {
    if (seg == "*") {
      for (auto& item : node.items) visit_parents(item, p, i + 1, create, fn);
      return;
    }
    if (auto idx = array_index(seg, node.items.size()))
      visit_parents(node.items[*idx], p, i + 1, create, fn);
  }
}

bool remove_at(JsonNode& doc, const JsonPath& p) {
  bool changed = false;
  visit_parents(doc, p, 0, false, [&](JsonNode& parent, const std::string& last) {
    if (parent.is_object()) {
      if (last == "*") {
        changed = changed || !parent.members.empty();
        parent.members.clear();
      } else {
        changed = parent.erase(last) || changed;
      }
    } else if (parent.is_array()) {
      if (last == "*") {
        changed = changed || !parent.items.empty();
        parent.items.clear();
      } else if (auto idx = array_index(last, parent.items.size())) {
        parent.items.erase(parent.items.begin() + static_cast<std::ptrdiff_t>(*idx));
        changed = true;
      }
    }
  });
  return changed;
}

// set (overwrite) or add (only when absent). True when something was written.
bool put_at(JsonNode& doc, const JsonPath& p, const JsonNode& value, bool overwrite) {
  bool changed = false;
  visit_parents(doc, p, 0, true, [&](JsonNode& parent, const std::string& last) {
    if (parent.is_object()) {
      if (last == "*") {
        if (!overwrite) return;
        for (auto& m : parent.members) m.value = value;
        changed = changed || !parent.members.empty();
        return;
      }
      JsonNode* existing = parent.find(last);
      if (existing && !overwrite) return;
      if (existing) {
        // One member of that name remains: the config owns it.
        JsonNode v = value;
        parent.erase(last);
        parent.members.push_back({last, std::move(v)});
      } else {
        parent.members.push_back({last, value});
      }
      changed = true;
    } else if (parent.is_array()) {
      if (!overwrite) return;  // every index that exists is taken
      if (last == "*") {
        for (auto& item : parent.items) item = value;
        changed = changed || !parent.items.empty();
      } else if (auto idx = array_index(last, parent.items.size())) {
        parent.items[*idx] = value;
        changed = true;
      }
    }
  });
  return changed;
}

// Moves the one value at `p` out of the document.
std::optional<JsonNode> take_at(JsonNode& doc, const JsonPath& p) {
  std::optional<JsonNode> out;
  visit_parents(doc, p, 0, false, [&](JsonNode& parent, const std::string& last) {
    if (parent.is_object()) {
      if (JsonNode* v = parent.find(last)) {
        out = std::move(*v);
        parent.erase(last);
      }
    } else if (parent.is_array()) {
      if (auto idx = array_index(last, parent.items.size())) {
        out = std::move(parent.items[*idx]);
        parent.items.erase(parent.items.begin() + static_cast<std::ptrdiff_t>(*idx));
      }
    }
  });
  return out;
}

// The value an op writes; nullopt when its template references something
// absent.
std::optional<JsonNode> op_value(const JsonValueOp& op, const TemplateEnv& env) {
  if (!op.tmpl) return op.literal;
  std::string s;
  if (!op.tmpl->expand(env, s)) return std::nullopt;
  return JsonNode::string(std::move(s));
}

}  // namespace

std::optional<JsonPath> parse_json_path(std::string_view text, std::string& problem) {
  JsonPath p;
  p.text = std::string(text);
  if (text.empty()) {
    problem = "a field path cannot be empty";
    return std::nullopt;
  }
  size_t start = 0;
  for (;;) {
    size_t dot = text.find('.', start);
    std::string_view seg = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (seg.empty()) {
      problem = "field path " + quoted(text) + " has an empty segment (write a.b.c)";
      return std::nullopt;
    }
    if (seg == "*") p.has_wildcard = true;
    p.segments.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (p.segments.size() > 32) {
    problem = "field path " + quoted(text) + " has more than 32 segments";
    return std::nullopt;
  }
  return p;
}

void read_body_edits(ConfigReader& cr, const char* key, BodyEdits& out) {
  YAML::Node n = cr.node(key);
  if (!n || n.IsNull()) return;
  const std::string base = key;
  if (!n.IsMap()) {
    cr.fail(base, "invalid_type", "expected a mapping with add, set, remove and rename");
    return;
  }
  for (const auto& kv : n) {
    std::string op = kv.first.Scalar();
    std::string f = base + "." + op;
    const YAML::Node& v = kv.second;
    if (op == "remove") {
      if (v.IsNull()) continue;
      if (v.IsScalar()) {
        JsonPath p;
        if (read_path(cr, f, v.Scalar(), true, p)) out.remove.push_back(std::move(p));
      } else if (v.IsSequence()) {
        for (size_t i = 0; i < v.size(); ++i) {
          std::string fi = f + "[" + std::to_string(i) + "]";
          if (!v[i].IsScalar()) {
            cr.fail(fi, "invalid_type", "expected a field path");
            continue;
          }
          JsonPath p;
          if (read_path(cr, fi, v[i].Scalar(), true, p)) out.remove.push_back(std::move(p));
        }
      } else {
        cr.fail(f, "invalid_type", "expected a list of field paths");
      }
    } else if (op == "rename") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        cr.fail(f, "invalid_type", "expected a mapping of old field paths to new ones");
        continue;
      }
      for (const auto& r : v) {
        std::string from = r.first.Scalar();
        std::string fr = f + "." + from;
        if (!r.second.IsScalar()) {
          cr.fail(fr, "invalid_type", "expected the new field path");
          continue;
        }
        JsonPath a, b;
        if (read_path(cr, fr, from, false, a) && read_path(cr, fr, r.second.Scalar(), false, b))
          out.rename.emplace_back(std::move(a), std::move(b));
      }
    } else if (op == "set") {
      read_value_ops(cr, v, f, out.set);
    } else if (op == "add") {
      read_value_ops(cr, v, f, out.add);
    } else {
      cr.fail(f, "unknown_field",
              "unknown field " + quoted(op) + " (expected add, set, remove or rename)");
    }
  }
}

uint64_t read_max_body(ConfigReader& cr) {
  uint64_t v = cr.size("max_body", kDefaultMaxBody);
  constexpr uint64_t kMax = 64ull * 1024 * 1024;
  if (v < 1 || v > kMax) {
    cr.fail("max_body", "invalid_value", "max_body must be between 1 byte and 64 MiB");
    return kDefaultMaxBody;
  }
  return v;
}

bool is_json_media_type(std::string_view ct) {
  std::string_view t = trim_ows(ct.substr(0, ct.find(';')));
  size_t slash = t.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view type = t.substr(0, slash), sub = t.substr(slash + 1);
  if (iequals(sub, "json")) return iequals(type, "application") || iequals(type, "text");
  return sub.size() > 5 && iequals(sub.substr(sub.size() - 5), "+json");
}

bool apply_body_edits(const BodyEdits& e, const TemplateEnv& env, JsonNode& doc) {
  if (!doc.is_object() && !doc.is_array()) return false;
  // Values first, so every template sees the request as it arrived.
  std::vector<std::optional<JsonNode>> set_values, add_values;
  for (const auto& op : e.set) set_values.push_back(op_value(op, env));
  for (const auto& op : e.add) add_values.push_back(op_value(op, env));
  bool changed = false;
  for (const auto& p : e.remove) changed = remove_at(doc, p) || changed;
  for (const auto& [from, to] : e.rename) {
    auto v = take_at(doc, from);
    if (!v) continue;
    changed = true;
    if (!put_at(doc, to, *v, true)) put_at(doc, from, *v, true);  // nowhere to go: put it back
  }
  for (size_t i = 0; i < e.set.size(); ++i) {
    if (set_values[i])
      changed = put_at(doc, e.set[i].path, *set_values[i], true) || changed;
    else
      changed = remove_at(doc, e.set[i].path) || changed;
  }
  for (size_t i = 0; i < e.add.size(); ++i)
    if (add_values[i]) changed = put_at(doc, e.add[i].path, *add_values[i], false) || changed;
  return changed;
}

Result<bool> transform_json_body(const BodyEdits& e, const TemplateEnv& env, std::string& body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  if (!apply_body_edits(e, env, *doc)) return false;
  std::string out;
  out.reserve(body.size() + 64);
  print_json(*doc, out);
  body = std::move(out);
  return true;
}

}  // namespace gatehouse::policy
