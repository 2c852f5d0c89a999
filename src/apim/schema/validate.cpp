// Program + instance -> violations. Annotations (which properties and items
// were evaluated) are collected only under a schema with unevaluated*, and
// are dropped from subschemas that failed, as JSON Schema 2020-12 says.
#include <boost/json/serialize.hpp>
#include <cfloat>
#include <cmath>
#include <unordered_map>

#include "apim/schema/program.hpp"

namespace gatehouse::apim::schema {

namespace json = boost::json;
using detail::Node;
using detail::Program;

namespace {

// Nested in-place applications plus instance depth; past this the schema is
// hostile or broken (cycles are refused at compile time).
constexpr int kMaxDepth = 256;
// Node evaluations per instance: nested anyOf/oneOf over a deep instance can
// otherwise cost exponential time (a request must not buy that much CPU).
constexpr size_t kMaxSteps = 2'000'000;

struct Annot {
  std::vector<std::string_view> props;  // property names evaluated
  bool all_props = false;
  size_t items = 0;  // items [0, items) evaluated
  bool all_items = false;
  std::vector<size_t> item_list;  // contains matches
  void merge(const Annot& o) {
    props.insert(props.end(), o.props.begin(), o.props.end());
    all_props = all_props || o.all_props;
    items = std::max(items, o.items);
    all_items = all_items || o.all_items;
    item_list.insert(item_list.end(), o.item_list.begin(), o.item_list.end());
  }
  bool has_prop(std::string_view k) const {
    if (all_props) return true;
    for (auto p : props)
      if (p == k) return true;
    return false;
  }
  bool has_item(size_t i) const {
    if (all_items || i < items) return true;
    for (auto x : item_list)
      if (x == i) return true;
    return false;
  }
};

struct Ctx {
  const Program& p;
  Direction dir;
  std::vector<Violation>* out;
  size_t max;
  std::string inst;
  int depth = 0;
  size_t steps = 0;
  bool exhausted = false;
  // True when no more detail is wanted: quiet evaluation or the cap is reached.
  bool stop() const { return !out || out->size() >= max || exhausted; }
  void report(const Node& n, std::string_view keyword, std::string message) {
    if (!out || out->size() >= max) return;
    out->push_back(
        {inst, n.path + "/" + std::string(keyword), std::string(keyword), std::move(message)});
  }
};

std::string short_json(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

std::string num_text(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

double to_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

bool is_multiple(const json::value& x, const Node& n) {
  if (n.multiple_of_int) {
    int64_t m = *n.multiple_of_int;
    if (x.is_int64()) return x.get_int64() % m == 0;
    if (x.is_uint64()) return x.get_uint64() % static_cast<uint64_t>(m) == 0;
  }
  double q = to_double(x) / *n.multiple_of;
  if (!std::isfinite(q)) return false;
  // Beyond 2^53 every double is an integer: the quotient cannot say more.
  if (std::fabs(q) >= 9007199254740992.0) return true;
  // 0.3 / 0.1 is 2.9999999999999996: accept quotients within a few ulps of
  // an integer (binary doubles cannot hold most decimal multiples exactly).
  double tol = std::max(1e-9, std::fabs(q) * 8 * DBL_EPSILON);
  return std::fabs(q - std::round(q)) <= tol;
}

// Hash consistent with json_equal (1 and 1.0 hash the same; key order ignored).
size_t json_hash(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return 0x9e37;
    case json::kind::bool_:
      return v.get_bool() ? 1 : 2;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return std::hash<double>{}(to_double(v));
    case json::kind::string:
      return std::hash<std::string_view>{}(v.get_string());
    case json::kind::array: {
      size_t h = 7;
      for (const auto& x : v.get_array()) h = h * 31 + json_hash(x);
      return h;
    }
    case json::kind::object: {
      size_t h = 11;
      for (const auto& kv : v.get_object())
        h += std::hash<std::string_view>{}(kv.key()) ^ (json_hash(kv.value()) * 0x100000001b3ULL);
      return h;
    }
  }
  return 0;
}

const Node& at(const Ctx& c, int i) {
  return c.p.nodes[static_cast<size_t>(i)];
}

// readOnly / writeOnly of a property's schema, following $ref and allOf.
bool flagged(const Ctx& c, int i, bool read, int hops = 0) {
  if (i == detail::kNone || hops > 16) return false;
  const Node& n = at(c, i);
  if (read ? n.read_only : n.write_only) return true;
  if (flagged(c, n.ref, read, hops + 1)) return true;
  for (int a : n.all_of)
    if (flagged(c, a, read, hops + 1)) return true;
  return false;
}

int property(const Node& n, std::string_view name) {
  auto it = std::lower_bound(n.properties.begin(), n.properties.end(), name,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  return it != n.properties.end() && it->first == name ? it->second : detail::kNone;
}

void push(std::string& inst, std::string_view key) {
  inst += '/';
  inst += detail::pointer_escape(key);
}

bool run(int idx, const json::value& x, Ctx& c, Annot* a);

// A subschema whose failure does not fail the caller by itself (anyOf,
// oneOf, if, not, contains): evaluated quietly, annotations kept only on success.
bool trial(int idx, const json::value& x, Ctx& c, Annot* a) {
  auto* saved = c.out;
  c.out = nullptr;
  Annot mine;
  bool ok = run(idx, x, c, a ? &mine : nullptr);
  c.out = saved;
  if (ok && a) a->merge(mine);
  return ok;
}

bool run_child(int idx, const json::value& x, Ctx& c) {
  return run(idx, x, c, nullptr);
}

bool check_object(const Node& n, const json::object& o, Ctx& c, Annot* a) {
  bool ok = true;
  auto bad = [&](std::string_view kw, std::string msg) {
    ok = false;
    c.report(n, kw, std::move(msg));
    return c.stop();
  };
  if (n.min_properties && o.size() < *n.min_properties &&
      bad("minProperties", "has " + std::to_string(o.size()) + " properties, fewer than " +
                               std::to_string(*n.min_properties)))
    return false;
  if (n.max_properties && o.size() > *n.max_properties &&
      bad("maxProperties", "has " + std::to_string(o.size()) + " properties, more than " +
                               std::to_string(*n.max_properties)))
    return false;
  for (const auto& r : n.required) {
    if (o.contains(r)) continue;
    int ps = property(n, r);
    // A readOnly property is required in responses only, writeOnly in requests only.
    if (ps != detail::kNone && flagged(c, ps, c.dir == Direction::kRequest)) continue;
    if (bad("required", "required property '" + r + "' is missing")) return false;
  }
  for (const auto& [name, deps] : n.dependent_required) {
    if (!o.contains(name)) continue;
    for (const auto& d : deps)
      if (!o.contains(d) && bad("dependentRequired",
                                "property '" + d + "' is required when '" + name + "' is present"))
        return false;
  }
  if (n.property_names != detail::kNone) {
    for (const auto& kv : o) {
      json::value key(json::string_view(kv.key()));
      if (!trial(n.property_names, key, c, nullptr) &&
          bad("propertyNames", "property name '" + std::string(kv.key()) + "' is not allowed"))
        return false;
    }
  }
  const bool has_children = !n.properties.empty() || !n.pattern_properties.empty() ||
                            n.additional_properties != detail::kNone;
  if (has_children) {
    const size_t base = c.inst.size();
    for (const auto& kv : o) {
      bool matched = false;
      int ps = property(n, kv.key());
      if (ps != detail::kNone) {
        matched = true;
        if (c.dir == Direction::kRequest && flagged(c, ps, true)) {
          push(c.inst, kv.key());
          bool stop = bad("readOnly", "property '" + std::string(kv.key()) +
                                          "' is read-only and may not be sent in a request");
          c.inst.resize(base);
          if (stop) return false;
        } else if (c.dir == Direction::kResponse && flagged(c, ps, false)) {
          push(c.inst, kv.key());
          bool stop = bad("writeOnly", "property '" + std::string(kv.key()) +
                                           "' is write-only and may not be returned");
          c.inst.resize(base);
          if (stop) return false;
        }
        push(c.inst, kv.key());
        bool good = run_child(ps, kv.value(), c);
        c.inst.resize(base);
        if (!good) {
          ok = false;
          if (c.stop()) return false;
        }
      }
      for (const auto& [pat, s] : n.pattern_properties) {
        if (!RE2::PartialMatch(std::string_view(kv.key().data(), kv.key().size()), *pat.re))
          continue;
        matched = true;
        push(c.inst, kv.key());
        bool good = run_child(s, kv.value(), c);
        c.inst.resize(base);
        if (!good) {
          ok = false;
          if (c.stop()) return false;
        }
      }
      if (!matched && n.additional_properties != detail::kNone) {
        matched = true;
        const Node& ap = at(c, n.additional_properties);
        if (ap.is_bool && !ap.always) {
          push(c.inst, kv.key());
          bool stop = bad("additionalProperties",
                          "property '" + std::string(kv.key()) + "' is not allowed");
          c.inst.resize(base);
          if (stop) return false;
          continue;
        }
        push(c.inst, kv.key());
        bool good = run_child(n.additional_properties, kv.value(), c);
        c.inst.resize(base);
        if (!good) {
          ok = false;
          if (c.stop()) return false;
        }
      }
      if (matched && a) a->props.push_back(kv.key());
    }
  }
  return ok;
}

bool check_array(const Node& n, const json::array& arr, Ctx& c, Annot* a) {
  bool ok = true;
  auto bad = [&](std::string_view kw, std::string msg) {
    ok = false;
    c.report(n, kw, std::move(msg));
    return c.stop();
  };
  if (n.min_items && arr.size() < *n.min_items &&
      bad("minItems", "has " + std::to_string(arr.size()) + " items, fewer than " +
                          std::to_string(*n.min_items)))
    return false;
  if (n.max_items && arr.size() > *n.max_items &&
      bad("maxItems", "has " + std::to_string(arr.size()) + " items, more than " +
                          std::to_string(*n.max_items)))
    return false;
  if (n.unique_items && arr.size() > 1) {
    std::unordered_multimap<size_t, size_t> seen;
    seen.reserve(arr.size());
    for (size_t i = 0; i < arr.size(); ++i) {
      size_t h = json_hash(arr[i]);
      auto [b, e] = seen.equal_range(h);
      for (auto it = b; it != e; ++it)
        if (json_equal(arr[it->second], arr[i])) {
          if (bad("uniqueItems", "items " + std::to_string(it->second) + " and " +
                                     std::to_string(i) + " are equal"))
            return false;
          break;
        }
      seen.emplace(h, i);
    }
  }
  const size_t base = c.inst.size();
  size_t i = 0;
  for (; i < arr.size() && i < n.prefix_items.size(); ++i) {
    c.inst += '/';
    c.inst += std::to_string(i);
    bool good = run_child(n.prefix_items[i], arr[i], c);
    c.inst.resize(base);
    if (!good) {
      ok = false;
      if (c.stop()) return false;
    }
  }
  if (a) a->items = std::max(a->items, i);
  if (n.items != detail::kNone) {
    const Node& it = at(c, n.items);
    for (; i < arr.size(); ++i) {
      c.inst += '/';
      c.inst += std::to_string(i);
      bool good;
      if (it.is_bool && !it.always) {
        good = false;
        c.report(n, "items", "no item is allowed at index " + std::to_string(i));
      } else {
        good = run_child(n.items, arr[i], c);
      }
      c.inst.resize(base);
      if (!good) {
        ok = false;
        if (c.stop()) return false;
      }
    }
    if (a) a->all_items = true;
  }
  if (n.contains != detail::kNone) {
    size_t matches = 0;
    for (size_t j = 0; j < arr.size(); ++j) {
      if (trial(n.contains, arr[j], c, nullptr)) {
        ++matches;
        if (a) a->item_list.push_back(j);
      }
    }
    size_t min = n.min_contains.value_or(1);
    if (matches < min &&
        bad(n.min_contains ? "minContains" : "contains",
            min == 1 ? "no item matches 'contains'"
                     : std::to_string(matches) + " items match 'contains', fewer than " +
                           std::to_string(min)))
      return false;
    if (n.max_contains && matches > *n.max_contains &&
        bad("maxContains", std::to_string(matches) + " items match 'contains', more than " +
                               std::to_string(*n.max_contains)))
      return false;
  }
  return ok;
}

bool check_value(const Node& n, const json::value& x, Ctx& c) {
  bool ok = true;
  auto bad = [&](std::string_view kw, std::string msg) {
    ok = false;
    c.report(n, kw, std::move(msg));
    return c.stop();
  };
  if (n.has_type && !(n.types & detail::type_of(x))) {
    if (bad("type", "expected " + detail::types_text(n.types) + ", got " +
                        detail::type_name(detail::type_of(x))))
      return false;
  }
  if (n.has_enum) {
    bool found = false;
    for (const auto& e : n.enum_values)
      if (json_equal(e, x)) {
        found = true;
        break;
      }
    if (!found) {
      std::string list;
      for (size_t i = 0; i < n.enum_values.size() && i < 8; ++i)
        list += (i ? ", " : "") + short_json(n.enum_values[i]);
      if (n.enum_values.size() > 8) list += ", ...";
      if (bad("enum", short_json(x) + " is not one of " + list)) return false;
    }
  }
  if (n.const_value && !json_equal(*n.const_value, x) &&
      bad("const", "must be " + short_json(*n.const_value)))
    return false;
  if (x.is_number()) {
    double d = to_double(x);
    if (n.minimum && d < *n.minimum &&
        bad("minimum", num_text(d) + " is less than " + num_text(*n.minimum)))
      return false;
    if (n.maximum && d > *n.maximum &&
        bad("maximum", num_text(d) + " is greater than " + num_text(*n.maximum)))
      return false;
    if (n.exclusive_minimum && d <= *n.exclusive_minimum &&
        bad("exclusiveMinimum",
            num_text(d) + " must be greater than " + num_text(*n.exclusive_minimum)))
      return false;
    if (n.exclusive_maximum && d >= *n.exclusive_maximum &&
        bad("exclusiveMaximum",
            num_text(d) + " must be less than " + num_text(*n.exclusive_maximum)))
      return false;
    if (n.multiple_of && !is_multiple(x, n) &&
        bad("multipleOf", num_text(d) + " is not a multiple of " + num_text(*n.multiple_of)))
      return false;
  } else if (x.is_string()) {
    std::string_view s = x.get_string();
    if (n.min_length || n.max_length) {
      size_t len = code_points(s);
      if (n.min_length && len < *n.min_length &&
          bad("minLength", "is " + std::to_string(len) + " characters long, shorter than " +
                               std::to_string(*n.min_length)))
        return false;
      if (n.max_length && len > *n.max_length &&
          bad("maxLength", "is " + std::to_string(len) + " characters long, longer than " +
                               std::to_string(*n.max_length)))
        return false;
    }
    if (n.pattern && !RE2::PartialMatch(std::string_view(s.data(), s.size()), *n.pattern->re) &&
        bad("pattern", "does not match the pattern '" + n.pattern->source + "'"))
      return false;
  }
  if (n.format != detail::Format::kNone && c.p.formats && !check_format(n.format_name, x) &&
      bad("format", x.is_string()
                        ? "is not a valid " + n.format_name
                        : num_text(to_double(x)) + " is out of range for " + n.format_name))
    return false;
  return ok;
}

bool run(int idx, const json::value& x, Ctx& c, Annot* a) {
  const Node& n = at(c, idx);
  if (n.is_bool) {
    if (!n.always) c.report(n, "false", "no value is allowed here");
    if (a && n.always) {
      // `true` evaluates nothing by itself.
    }
    return n.always;
  }
  if (++c.steps > kMaxSteps || c.depth >= kMaxDepth) {
    if (!c.exhausted) {
      auto* saved = c.out;
      c.exhausted = true;
      if (saved && saved->size() < c.max)
        saved->push_back({c.inst, n.path, "complexity",
                          "validation stopped: the instance is too deep or the schema too costly"});
    }
    return false;
  }
  struct DepthGuard {
    int& d;
    ~DepthGuard() { --d; }
  } guard{++c.depth};

  Annot local;
  Annot* mine = n.collects ? &local : a;
  bool ok = check_value(n, x, c);
  if (!ok && c.stop()) return false;

  if (n.ref != detail::kNone && !run(n.ref, x, c, mine)) {
    ok = false;
    if (c.stop()) return false;
  }
  for (int s : n.all_of) {
    if (!run(s, x, c, mine)) {
      ok = false;
      if (c.stop()) return false;
    }
  }
  if (!n.any_of.empty()) {
    bool any = false;
    for (int s : n.any_of) {
      if (trial(s, x, c, mine)) {
        any = true;
        if (!mine) break;  // no annotations wanted: the first match settles it
      }
      if (c.exhausted) break;
    }
    if (!any) {
      ok = false;
      c.report(n, "anyOf",
               "does not match any of the " + std::to_string(n.any_of.size()) +
                   " alternatives in anyOf");
      if (c.stop()) return false;
    }
  }
  if (!n.one_of.empty()) {
    std::vector<size_t> hits;
    Annot first;
    for (size_t i = 0; i < n.one_of.size() && hits.size() < 2; ++i) {
      Annot branch;
      if (trial(n.one_of[i], x, c, mine ? &branch : nullptr)) {
        hits.push_back(i);
        if (hits.size() == 1) first = std::move(branch);
      }
      if (c.exhausted) break;
    }
    if (hits.size() != 1) {
      ok = false;
      c.report(n, "oneOf",
               hits.empty() ? "does not match any of the " + std::to_string(n.one_of.size()) +
                                  " alternatives in oneOf"
                            : "matches alternatives " + std::to_string(hits[0]) + " and " +
                                  std::to_string(hits[1]) + " of oneOf; exactly one must match");
      if (c.stop()) return false;
    } else if (mine) {
      mine->merge(first);
    }
  }
  if (n.not_ != detail::kNone && trial(n.not_, x, c, nullptr)) {
    ok = false;
    c.report(n, "not", "must not match the schema in 'not'");
    if (c.stop()) return false;
  }
  if (n.if_ != detail::kNone) {
    int branch = trial(n.if_, x, c, mine) ? n.then_ : n.else_;
    if (branch != detail::kNone && !run(branch, x, c, mine)) {
      ok = false;
      if (c.stop()) return false;
    }
  }

  if (x.is_object()) {
    const json::object& o = x.get_object();
    if (!check_object(n, o, c, mine)) {
      ok = false;
      if (c.stop()) return false;
    }
    for (const auto& [name, s] : n.dependent_schemas)
      if (o.contains(name) && !run(s, x, c, mine)) {
        ok = false;
        if (c.stop()) return false;
      }
    if (n.unevaluated_properties != detail::kNone) {
      const size_t base = c.inst.size();
      const Node& u = at(c, n.unevaluated_properties);
      for (const auto& kv : o) {
        if (local.has_prop(kv.key())) continue;
        push(c.inst, kv.key());
        bool good;
        if (u.is_bool && !u.always) {
          good = false;
          c.report(n, "unevaluatedProperties",
                   "property '" + std::string(kv.key()) + "' is not allowed");
        } else {
          good = run_child(n.unevaluated_properties, kv.value(), c);
        }
        c.inst.resize(base);
        if (!good) {
          ok = false;
          if (c.stop()) return false;
        }
      }
      local.all_props = true;
    }
  } else if (x.is_array()) {
    const json::array& arr = x.get_array();
    if (!check_array(n, arr, c, mine)) {
      ok = false;
      if (c.stop()) return false;
    }
    if (n.unevaluated_items != detail::kNone) {
      const size_t base = c.inst.size();
      const Node& u = at(c, n.unevaluated_items);
      for (size_t i = 0; i < arr.size(); ++i) {
        if (local.has_item(i)) continue;
        c.inst += '/';
        c.inst += std::to_string(i);
        bool good;
        if (u.is_bool && !u.always) {
          good = false;
          c.report(n, "unevaluatedItems", "item " + std::to_string(i) + " is not allowed");
        } else {
          good = run_child(n.unevaluated_items, arr[i], c);
        }
        c.inst.resize(base);
        if (!good) {
          ok = false;
          if (c.stop()) return false;
        }
      }
      local.all_items = true;
    }
  }
  if (ok && n.collects && a) a->merge(local);
  return ok;
}

}  // namespace

namespace detail {

const char* type_name(uint8_t bit) {
  switch (bit) {
    case kNull:
      return "null";
    case kBoolean:
      return "boolean";
    case kObject:
      return "object";
    case kArray:
      return "array";
    case kNumber:
      return "number";
    case kString:
      return "string";
    case kInteger:
      return "integer";
    default:
      return "value";
  }
}

std::string types_text(uint8_t types) {
  // "integer" is implied by "number": name only the wider one.
  if (types & kNumber) types &= static_cast<uint8_t>(~kInteger);
  std::string out;
  int count = 0;
  for (uint8_t bit : {kObject, kArray, kString, kNumber, kInteger, kBoolean, kNull}) {
    if (!(types & bit)) continue;
    if (count++) out += " or ";
    out += type_name(bit);
  }
  return out;
}

uint8_t type_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return kNull;
    case json::kind::bool_:
      return kBoolean;
    case json::kind::object:
      return kObject;
    case json::kind::array:
      return kArray;
    case json::kind::string:
      return kString;
    case json::kind::int64:
    case json::kind::uint64:
      return kInteger;
    case json::kind::double_: {
      double d = v.get_double();
      return std::isfinite(d) && std::floor(d) == d ? kInteger : kNumber;
    }
  }
  return kNull;
}

}  // namespace detail

bool json_equal(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) return to_double(a) == to_double(b);
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    const json::value& s = a.is_int64() ? a : b;
    const json::value& u = a.is_int64() ? b : a;
    return s.get_int64() >= 0 && static_cast<uint64_t>(s.get_int64()) == u.get_uint64();
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!json_equal(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const json::value* o = y.if_contains(kv.key());
      if (!o || !json_equal(kv.value(), *o)) return false;
    }
    return true;
  }
  return a == b;
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s)
    if ((ch & 0xc0) != 0x80) ++n;
  return n;
}

bool Validator::validate(const json::value& instance, Direction direction,
                         std::vector<Violation>* out, size_t max_errors) const {
  Ctx c{*program_, direction, out, max_errors, {}};
  return run(0, instance, c, nullptr);
}

}  // namespace gatehouse::apim::schema
