// Schema -> Program. Every keyword is checked for its shape here, once, so a
// schema that cannot work (bad regex, $ref to nothing, wrong keyword type)
// fails at config time with the schema pointer, never at request time.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "apim/schema/program.hpp"

namespace gatehouse::apim::schema {

namespace json = boost::json;
using detail::Node;
using detail::Program;

namespace {

constexpr std::string_view kComponents = "#/components/schemas/";
constexpr size_t kMaxNodes = 1 << 20;  // a schema larger than this is an attack, not an API

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out += s[i + 1] == '0' ? '~' : '/';
      ++i;
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Follows a JSON pointer ("/a/b/0") inside v; null when absent.
const json::value* follow(const json::value* v, std::string_view ptr) {
  while (v && !ptr.empty()) {
    if (ptr[0] != '/') return nullptr;
    ptr.remove_prefix(1);
    size_t end = ptr.find('/');
    std::string tok = unescape(ptr.substr(0, end));
    ptr = end == std::string_view::npos ? std::string_view{} : ptr.substr(end);
    if (v->is_object()) {
      v = v->get_object().if_contains(tok);
    } else if (v->is_array()) {
      if (tok.empty() || tok.find_first_not_of("0123456789") != std::string::npos) return nullptr;
      size_t i = std::stoul(tok);
      v = i < v->get_array().size() ? &v->get_array()[i] : nullptr;
    } else {
      return nullptr;
    }
  }
  return v;
}

detail::Format format_of(std::string_view text) {
  using F = detail::Format;
  static const std::pair<std::string_view, F> kMap[] = {
      {"date-time", F::kDateTime}, {"date", F::kDate},   {"time", F::kTime},   {"email", F::kEmail},
      {"uuid", F::kUuid},          {"uri", F::kUri},     {"ipv4", F::kIpv4},   {"ipv6", F::kIpv6},
      {"hostname", F::kHostname},  {"int32", F::kInt32}, {"int64", F::kInt64}, {"float", F::kFloat},
      {"double", F::kDouble}};
  for (const auto& [name, f] : kMap)
    if (name == text) return f;
  return F::kNone;
}

std::optional<double> as_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

struct Compiler {
  const CompileOptions& opt;
  const json::value& root;
  Program& prog;
  std::map<const json::value*, int> done;

  Error fail(const std::string& path, std::string code, std::string message) const {
    return make_error(std::move(code), std::move(message), path);
  }

  // Resolves a $ref written at `path` to the schema value it names.
  Result<std::pair<const json::value*, std::string>> resolve(const std::string& path,
                                                             std::string_view ref) {
    if (ref.starts_with(kComponents) && opt.components) {
      std::string_view rest = ref.substr(kComponents.size());
      size_t slash = rest.find('/');
      std::string name = unescape(rest.substr(0, slash));
      auto it = opt.components->find(name);
      const json::value* target = nullptr;
      if (it != opt.components->end())
        target =
            slash == std::string_view::npos ? &it->second : follow(&it->second, rest.substr(slash));
      if (target) return std::make_pair(target, std::string(ref));
    } else if (ref == "#" || ref.starts_with("#/")) {
      if (const json::value* target = follow(&root, ref.substr(1)))
        return std::make_pair(target, opt.base + std::string(ref.substr(1)));
    } else {
      return fail(path + "/$ref", "unresolved_ref",
                  "'$ref': '" + std::string(ref) +
                      "' is not supported: only local references ('#/...', "
                      "'#/components/schemas/NAME') are resolved");
    }
    return fail(path + "/$ref", "unresolved_ref",
                "'$ref': '" + std::string(ref) + "' points to nothing");
  }

  Result<size_t> count(const json::value& v, const std::string& path, const char* key) {
    const json::value* x = v.get_object().if_contains(key);
    if (!x) return size_t(0);
    if (x->is_int64() && x->get_int64() >= 0) return static_cast<size_t>(x->get_int64());
    if (x->is_uint64()) return static_cast<size_t>(x->get_uint64());
    if (x->is_double() && x->get_double() >= 0 && std::floor(x->get_double()) == x->get_double())
      return static_cast<size_t>(x->get_double());
    return fail(path + "/" + key, "invalid_schema",
                std::string("'") + key + "' must be a non-negative integer");
  }

  Result<std::optional<size_t>> opt_count(const json::value& v, const std::string& path,
                                          const char* key) {
    if (!v.get_object().contains(key)) return std::optional<size_t>{};
    auto c = count(v, path, key);
    if (!c) return c.error();
    return std::optional<size_t>(*c);
  }

  Result<detail::Pattern> pattern(const std::string& src, const std::string& at) {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(8 << 20);
    auto re = std::make_shared<RE2>(src, o);
    if (!re->ok())
      return fail(at, "invalid_schema",
                  "pattern '" + src + "' is not a regular expression RE2 accepts: " + re->error() +
                      " (lookaround and backreferences are not supported)");
    return detail::Pattern{src, std::move(re)};
  }

  Result<std::vector<int>> list(const json::value& v, const std::string& path) {
    if (!v.is_array() || v.get_array().empty())
      return fail(path, "invalid_schema", "must be a non-empty array of schemas");
    std::vector<int> out;
    for (size_t i = 0; i < v.get_array().size(); ++i) {
      auto n = node(v.get_array()[i], path + "/" + std::to_string(i));
      if (!n) return n.error();
      out.push_back(*n);
    }
    return out;
  }

  Result<int> sub(const json::object& o, const std::string& path, const char* key) {
    const json::value* x = o.if_contains(key);
    if (!x) return detail::kNone;
    return node(*x, path + "/" + key);
  }

  Result<int> node(const json::value& v, const std::string& path) {
    if (auto it = done.find(&v); it != done.end()) return it->second;
    if (prog.nodes.size() >= kMaxNodes)
      return fail(path, "invalid_schema", "the schema has too many subschemas");
    int idx = static_cast<int>(prog.nodes.size());
    prog.nodes.emplace_back();
    done[&v] = idx;
    Node n;
    n.path = path;
    if (v.is_bool()) {
      if (opt.dialect == Dialect::kOpenApi30)
        return fail(path, "invalid_schema", "a schema must be an object in OpenAPI 3.0");
      n.is_bool = true;
      n.always = v.get_bool();
    } else if (!v.is_object()) {
      return fail(path, "invalid_schema", "a schema must be an object");
    } else if (auto r = fill(n, v, path); !r) {
      return r.error();
    }
    prog.nodes[static_cast<size_t>(idx)] = std::move(n);
    return idx;
  }

  Result<void> fill(Node& n, const json::value& v, const std::string& path) {
    const json::object& o = v.get_object();
    const bool oas30 = opt.dialect == Dialect::kOpenApi30;
    auto kw = [&](const char* k) { return path + "/" + k; };
    if (const json::value* r = o.if_contains("$ref")) {
      if (!r->is_string()) return fail(kw("$ref"), "invalid_schema", "'$ref' must be a string");
      auto target = resolve(path, r->get_string());
      if (!target) return target.error();
      auto t = node(*target->first, target->second);
      if (!t) return t.error();
      n.ref = *t;
      // OpenAPI 3.0 (JSON Schema draft 5): a $ref object stands for its target.
      if (oas30) return Ok{};
    }
    if (const json::value* t = o.if_contains("type")) {
      n.has_type = true;
      n.types = 0;
      auto add = [&](const json::value& name, const std::string& at) -> Result<void> {
        static const std::pair<std::string_view, uint8_t> kTypes[] = {
            {"null", detail::kNull},      {"boolean", detail::kBoolean},
            {"object", detail::kObject},  {"array", detail::kArray},
            {"number", detail::kNumber},  {"string", detail::kString},
            {"integer", detail::kInteger}};
        if (name.is_string())
          for (const auto& [tn, bit] : kTypes)
            if (tn == name.get_string() && !(oas30 && bit == detail::kNull)) {
              n.types |= bit;
              return Ok{};
            }
        return fail(at, "invalid_schema",
                    "'type' must be one of " + std::string(oas30 ? "" : "null, ") +
                        "boolean, object, array, number, string, integer");
      };
      if (t->is_array() && !oas30) {
        for (size_t i = 0; i < t->get_array().size(); ++i)
          if (auto r = add(t->get_array()[i], kw("type") + "/" + std::to_string(i)); !r) return r;
      } else if (auto r = add(*t, kw("type")); !r) {
        return r;
      }
      if (n.types & detail::kNumber) n.types |= detail::kInteger;
    }
    if (oas30 && n.has_type && o.contains("nullable")) {
      const json::value& nl = o.at("nullable");
      if (!nl.is_bool())
        return fail(kw("nullable"), "invalid_schema", "'nullable' must be a boolean");
      if (nl.get_bool()) n.types |= detail::kNull;
    }
    auto flag = [&](const char* k, bool& out) -> Result<void> {
      if (const json::value* x = o.if_contains(k)) {
        if (!x->is_bool())
          return fail(kw(k), "invalid_schema", std::string("'") + k + "' must be a boolean");
        out = x->get_bool();
      }
      return Ok{};
    };
    if (auto r = flag("readOnly", n.read_only); !r) return r;
    if (auto r = flag("writeOnly", n.write_only); !r) return r;
    if (auto r = flag("uniqueItems", n.unique_items); !r) return r;
    if (const json::value* e = o.if_contains("enum")) {
      if (!e->is_array()) return fail(kw("enum"), "invalid_schema", "'enum' must be an array");
      n.has_enum = true;
      n.enum_values.assign(e->get_array().begin(), e->get_array().end());
      // 3.0: an enum on a nullable schema still admits null.
      if (oas30 && (n.types & detail::kNull)) n.enum_values.emplace_back(nullptr);
    }
    if (!oas30)
      if (const json::value* c = o.if_contains("const")) n.const_value = *c;

    // Numbers.
    auto num = [&](const char* k, std::optional<double>& out) -> Result<void> {
      if (const json::value* x = o.if_contains(k)) {
        auto d = as_double(*x);
        if (!d) return fail(kw(k), "invalid_schema", std::string("'") + k + "' must be a number");
        out = *d;
      }
      return Ok{};
    };
    if (auto r = num("minimum", n.minimum); !r) return r;
    if (auto r = num("maximum", n.maximum); !r) return r;
    for (const char* k : {"exclusiveMinimum", "exclusiveMaximum"}) {
      const json::value* x = o.if_contains(k);
      if (!x) continue;
      bool is_min = k[9] == 'M' && k[10] == 'i';
      if (x->is_bool()) {
        // Draft 4 / OpenAPI 3.0: a modifier of minimum/maximum.
        if (!x->get_bool()) continue;
        auto& bound = is_min ? n.minimum : n.maximum;
        if (!bound)
          return fail(
              kw(k), "invalid_schema",
              std::string("'") + k + ": true' needs '" + (is_min ? "minimum" : "maximum") + "'");
        (is_min ? n.exclusive_minimum : n.exclusive_maximum) = *bound;
        bound.reset();
      } else if (auto r = num(k, is_min ? n.exclusive_minimum : n.exclusive_maximum); !r) {
        return r;
      }
    }
    if (const json::value* m = o.if_contains("multipleOf")) {
      auto d = as_double(*m);
      if (!d || !(*d > 0))
        return fail(kw("multipleOf"), "invalid_schema", "'multipleOf' must be a number above 0");
      n.multiple_of = *d;
      if (m->is_int64()) n.multiple_of_int = m->get_int64();
      if (m->is_uint64() && m->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
        n.multiple_of_int = static_cast<int64_t>(m->get_uint64());
    }

    // Strings.
    {
      auto a = opt_count(v, path, "minLength");
      if (!a) return a.error();
      n.min_length = *a;
      auto b = opt_count(v, path, "maxLength");
      if (!b) return b.error();
      n.max_length = *b;
    }
    if (const json::value* p = o.if_contains("pattern")) {
      if (!p->is_string())
        return fail(kw("pattern"), "invalid_schema", "'pattern' must be a string");
      auto re = pattern(std::string(p->get_string()), kw("pattern"));
      if (!re) return re.error();
      n.pattern = std::move(*re);
    }
    if (const json::value* f = o.if_contains("format"); f && f->is_string() && opt.formats) {
      n.format_name = std::string(f->get_string());
      n.format = format_of(n.format_name);
    }

    // Arrays.
    if (const json::value* p = o.if_contains("prefixItems"); p && !oas30) {
      auto l = list(*p, kw("prefixItems"));
      if (!l) return l.error();
      n.prefix_items = std::move(*l);
    }
    if (const json::value* it = o.if_contains("items")) {
      if (it->is_array() && !oas30 && n.prefix_items.empty()) {
        // Draft 7's tuple form: treated as prefixItems, additionalItems as items.
        auto l = list(*it, kw("items"));
        if (!l) return l.error();
        n.prefix_items = std::move(*l);
        auto add = sub(o, path, "additionalItems");
        if (!add) return add.error();
        n.items = *add;
      } else {
        auto s = node(*it, kw("items"));
        if (!s) return s.error();
        n.items = *s;
      }
    }
    for (auto [k, out] : {std::pair{"minItems", &n.min_items},
                          {"maxItems", &n.max_items},
                          {"minProperties", &n.min_properties},
                          {"maxProperties", &n.max_properties}}) {
      auto c = opt_count(v, path, k);
      if (!c) return c.error();
      *out = *c;
    }
    if (!oas30) {
      auto c = sub(o, path, "contains");
      if (!c) return c.error();
      n.contains = *c;
      auto a = opt_count(v, path, "minContains");
      if (!a) return a.error();
      n.min_contains = *a;
      auto b = opt_count(v, path, "maxContains");
      if (!b) return b.error();
      n.max_contains = *b;
      auto u = sub(o, path, "unevaluatedItems");
      if (!u) return u.error();
      n.unevaluated_items = *u;
      auto up = sub(o, path, "unevaluatedProperties");
      if (!up) return up.error();
      n.unevaluated_properties = *up;
      n.collects =
          n.unevaluated_items != detail::kNone || n.unevaluated_properties != detail::kNone;
    }

    // Objects.
    if (const json::value* p = o.if_contains("properties")) {
      if (!p->is_object())
        return fail(kw("properties"), "invalid_schema", "'properties' must be an object");
      for (const auto& kv : p->get_object()) {
        auto s = node(kv.value(), kw("properties") + "/" + detail::pointer_escape(kv.key()));
        if (!s) return s.error();
        n.properties.emplace_back(std::string(kv.key()), *s);
      }
      std::sort(n.properties.begin(), n.properties.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    if (const json::value* p = o.if_contains("patternProperties"); p && !oas30) {
      if (!p->is_object())
        return fail(kw("patternProperties"), "invalid_schema",
                    "'patternProperties' must be an object");
      for (const auto& kv : p->get_object()) {
        std::string at = kw("patternProperties") + "/" + detail::pointer_escape(kv.key());
        auto re = pattern(std::string(kv.key()), at);
        if (!re) return re.error();
        auto s = node(kv.value(), at);
        if (!s) return s.error();
        n.pattern_properties.emplace_back(std::move(*re), *s);
      }
    }
    if (const json::value* a = o.if_contains("additionalProperties")) {
      // 3.0 allows a boolean here even though schemas are objects.
      if (a->is_bool() && oas30) {
        if (!a->get_bool()) {
          int idx = static_cast<int>(prog.nodes.size());
          Node f;
          f.path = kw("additionalProperties");
          f.is_bool = true;
          f.always = false;
          prog.nodes.push_back(std::move(f));
          n.additional_properties = idx;
        }
      } else {
        auto s = node(*a, kw("additionalProperties"));
        if (!s) return s.error();
        n.additional_properties = *s;
      }
    }
    if (const json::value* r = o.if_contains("required")) {
      if (!r->is_array())
        return fail(kw("required"), "invalid_schema", "'required' must be an array");
      for (const auto& x : r->get_array()) {
        if (!x.is_string())
          return fail(kw("required"), "invalid_schema", "'required' must list property names");
        n.required.emplace_back(x.get_string());
      }
    }
    if (!oas30) {
      auto pn = sub(o, path, "propertyNames");
      if (!pn) return pn.error();
      n.property_names = *pn;
    }
    // dependentRequired / dependentSchemas (and draft 7's `dependencies`, either kind).
    for (const char* k : {"dependentRequired", "dependentSchemas", "dependencies"}) {
      const json::value* d = o.if_contains(k);
      if (!d || oas30) continue;
      if (!d->is_object())
        return fail(kw(k), "invalid_schema", std::string("'") + k + "' must be an object");
      for (const auto& kv : d->get_object()) {
        std::string at = kw(k) + "/" + detail::pointer_escape(kv.key());
        if (kv.value().is_array() && std::string_view(k) != "dependentSchemas") {
          std::vector<std::string> names;
          for (const auto& x : kv.value().get_array()) {
            if (!x.is_string()) return fail(at, "invalid_schema", "must list property names");
            names.emplace_back(x.get_string());
          }
          n.dependent_required.emplace_back(std::string(kv.key()), std::move(names));
        } else if (std::string_view(k) != "dependentRequired") {
          auto s = node(kv.value(), at);
          if (!s) return s.error();
          n.dependent_schemas.emplace_back(std::string(kv.key()), *s);
        } else {
          return fail(at, "invalid_schema", "must be an array of property names");
        }
      }
    }

    // Applicators.
    for (auto [k, out] :
         {std::pair{"allOf", &n.all_of}, {"anyOf", &n.any_of}, {"oneOf", &n.one_of}}) {
      if (const json::value* x = o.if_contains(k)) {
        auto l = list(*x, kw(k));
        if (!l) return l.error();
        *out = std::move(*l);
      }
    }
    for (auto [k, out] :
         {std::pair{"not", &n.not_}, {"if", &n.if_}, {"then", &n.then_}, {"else", &n.else_}}) {
      if (oas30 && std::string_view(k) != "not") continue;
      auto s = sub(o, path, k);
      if (!s) return s.error();
      *out = *s;
    }
    return Ok{};
  }
};

// In-place edges (same instance): a cycle among them recurses forever.
void in_place(const Node& n, std::vector<int>& out) {
  out.clear();
  auto add = [&](int i) {
    if (i != detail::kNone) out.push_back(i);
  };
  add(n.ref);
  for (int i : n.all_of) add(i);
  for (int i : n.any_of) add(i);
  for (int i : n.one_of) add(i);
  add(n.not_);
  add(n.if_);
  add(n.then_);
  add(n.else_);
  for (const auto& d : n.dependent_schemas) add(d.second);
}

Result<void> check_cycles(const Program& p) {
  // Iterative DFS with colours: 0 new, 1 on stack, 2 done.
  std::vector<uint8_t> colour(p.nodes.size(), 0);
  std::vector<std::pair<int, size_t>> stack;
  std::vector<std::vector<int>> edges(p.nodes.size());
  for (size_t i = 0; i < p.nodes.size(); ++i) in_place(p.nodes[i], edges[i]);
  for (size_t s = 0; s < p.nodes.size(); ++s) {
    if (colour[s]) continue;
    stack.push_back({static_cast<int>(s), 0});
    colour[s] = 1;
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      const auto& e = edges[static_cast<size_t>(n)];
      if (next == e.size()) {
        colour[static_cast<size_t>(n)] = 2;
        stack.pop_back();
        continue;
      }
      int m = e[next++];
      if (colour[static_cast<size_t>(m)] == 1)
        return make_error("invalid_schema",
                          "the schema refers to itself without validating anything in between "
                          "(it would recurse forever)",
                          p.nodes[static_cast<size_t>(m)].path);
      if (colour[static_cast<size_t>(m)] == 0) {
        colour[static_cast<size_t>(m)] = 1;
        stack.push_back({m, 0});
      }
    }
  }
  return Ok{};
}

}  // namespace

namespace detail {

std::string pointer_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace detail

Result<Validator> Validator::compile(const json::value& schema, const CompileOptions& options) {
  auto prog = std::make_shared<Program>();
  prog->dialect = options.dialect;
  prog->formats = options.formats;
  Compiler c{options, schema, *prog, {}};
  auto root = c.node(schema, options.base);
  if (!root) return root.error();
  if (auto r = check_cycles(*prog); !r) return r.error();
  Validator v;
  v.program_ = std::move(prog);
  return v;
}

}  // namespace gatehouse::apim::schema
