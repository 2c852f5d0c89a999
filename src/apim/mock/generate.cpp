#include "apim/mock/generate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>

#include "apim/mock/pattern.hpp"

namespace gatehouse::apim::mock {

namespace json = boost::json;

namespace {

constexpr int kMaxMergeDepth = 8;
constexpr int kMaxNesting = 64;
constexpr int64_t kIntSpan = 1000;  // range used when a bound is missing
// What a string that cannot be generated (an unsupported pattern) becomes;
// Prism's static placeholder, documented in docs/mock.md.
constexpr const char* kPlaceholder = "string";

const char* const kWords[] = {"lorem", "ipsum", "dolor", "sit",    "amet",   "consectetur",
                              "magna", "aliqua", "tempor", "veniam", "nostrud", "labore"};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

const json::object* as_obj(const json::value& v) { return v.is_object() ? &v.get_object() : nullptr; }

const json::value* member(const json::object& o, std::string_view k) { return o.if_contains(k); }

std::optional<double> number_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::optional<int64_t> count_of(const json::object& o, std::string_view k) {
  auto n = number_of(o, k);
  if (!n || *n < 0) return std::nullopt;
  return static_cast<int64_t>(std::min(*n, 1e6));
}

bool flag_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}

std::string string_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// allOf members (and a oneOf branch with its parent) become one schema:
// properties and required lists are unions, bounds take the tighter value,
// other keywords the later one.
void merge_into(json::object& into, const json::object& from) {
  for (const auto& kv : from) {
    std::string_view k = kv.key();
    if (k == "properties" && kv.value().is_object()) {
      auto& props = into["properties"];
      if (!props.is_object()) props = json::object();
      for (const auto& p : kv.value().get_object()) props.get_object()[p.key()] = p.value();
    } else if (k == "required" && kv.value().is_array()) {
      auto& req = into["required"];
      if (!req.is_array()) req = json::array();
      for (const auto& r : kv.value().get_array())
        if (std::find(req.get_array().begin(), req.get_array().end(), r) == req.get_array().end())
          req.get_array().push_back(r);
    } else if ((k == "minimum" || k == "minLength" || k == "minItems" || k == "minProperties") &&
               into.contains(k)) {
      auto a = number_of(into, k), b = number_of(from, k);
      if (a && b && *b > *a) into[k] = kv.value();
    } else if ((k == "maximum" || k == "maxLength" || k == "maxItems" || k == "maxProperties") &&
               into.contains(k)) {
      auto a = number_of(into, k), b = number_of(from, k);
      if (a && b && *b < *a) into[k] = kv.value();
    } else {
      into[k] = kv.value();
    }
  }
}

class Generator {
 public:
  Generator(const openapi::Document& d, const GenerateOptions& o) : d_(d), o_(o), rng_(o.seed) {}

  json::value run(const json::value& schema) {
    auto v = gen(schema, 0);
    return v ? std::move(*v) : shallow(schema);
  }

 private:
  // nullopt: a $ref was entered too often on this path (the caller leaves
  // the value out or puts an empty one).
  std::optional<json::value> gen(const json::value& schema, int nesting) {
    ++values_;
    if (nesting > kMaxNesting) return std::nullopt;
    const json::object* o = as_obj(schema);
    if (!o) {
      if (schema.is_bool() && !schema.get_bool()) return json::value(nullptr);
      return json::value(kPlaceholder);  // `true` or {}: anything goes
    }
    if (auto* r = member(*o, "$ref"); r && r->is_string()) {
      std::string ref(r->get_string());
      int& depth = refs_[ref];
      if (depth >= o_.max_ref_depth) return std::nullopt;
      const json::value& target = openapi::resolve_schema(d_, schema);
      if (&target == &schema) return json::value(kPlaceholder);  // dangling
      ++depth;
      auto v = gen(target, nesting + 1);
      --refs_[ref];
      return v;
    }
    if (!o_.dynamic)
      if (auto ex = own_example(*o)) return std::move(*ex);
    if (auto* c = member(*o, "const")) return *c;
    if (auto* e = member(*o, "enum"); e && e->is_array() && !e->get_array().empty()) {
      const auto& a = e->get_array();
      return a[o_.dynamic ? rng_.below(a.size()) : 0];
    }
    if (auto* all = member(*o, "allOf"); all && all->is_array() && !all->get_array().empty()) {
      json::object merged;
      if (!flatten(schema, merged, 0)) return std::nullopt;
      return gen(json::value(std::move(merged)), nesting + 1);
    }
    for (const char* k : {"oneOf", "anyOf"}) {
      auto* alts = member(*o, k);
      if (!alts || !alts->is_array() || alts->get_array().empty()) continue;
      const auto& a = alts->get_array();
      const json::value& branch = a[o_.dynamic ? rng_.below(a.size()) : 0];
      json::object base = *o;
      base.erase("oneOf");
      base.erase("anyOf");
      base.erase("discriminator");
      if (base.empty() || (base.size() == 1 && base.contains("nullable")))
        return gen(branch, nesting + 1);
      json::object merged = std::move(base);
      const json::value& b = openapi::resolve_schema(d_, branch);
      if (auto* bo = as_obj(b)) merge_into(merged, *bo);
      return gen(json::value(std::move(merged)), nesting + 1);
    }
    std::string type = pick_type(*o);
    if (type == "null") return json::value(nullptr);
    if (type == "object") return object(*o, nesting);
    if (type == "array") return array(*o, nesting);
    if (type == "integer") return integer(*o);
    if (type == "number") return number(*o);
    if (type == "boolean") return json::value(o_.dynamic ? rng_.below(2) == 1 : true);
    return json::value(string(*o));
  }

  std::optional<json::value> own_example(const json::object& o) {
    if (auto* e = member(o, "example")) return *e;
    if (auto* e = member(o, "examples"); e && e->is_array() && !e->get_array().empty())
      return e->get_array()[0];
    if (auto* e = member(o, "default")) return *e;
    return std::nullopt;
  }

  // allOf, recursively, into one object schema.
  bool flatten(const json::value& schema, json::object& into, int depth) {
    if (depth > kMaxMergeDepth) return false;
    const json::object* o = as_obj(openapi::resolve_schema(d_, schema));
    if (!o) return true;
    json::object own = *o;
    own.erase("allOf");
    merge_into(into, own);
    if (auto* all = member(*o, "allOf"); all && all->is_array())
      for (const auto& part : all->get_array())
        if (!flatten(part, into, depth + 1)) return false;
    return true;
  }

  std::string pick_type(const json::object& o) {
    bool nullable = flag_of(o, "nullable");
    std::vector<std::string> types;
    if (auto* t = member(o, "type")) {
      if (t->is_string()) {
        types.emplace_back(t->get_string());
      } else if (t->is_array()) {
        for (const auto& x : t->get_array())
          if (x.is_string()) {
            if (x.get_string() == "null")
              nullable = true;
            else
              types.emplace_back(x.get_string());
          }
      }
    }
    if (o_.dynamic && nullable && rng_.below(8) == 0) return "null";
    if (types.empty()) {
      if (nullable && member(o, "type")) return "null";  // type: ["null"]
      if (o.contains("properties") || o.contains("additionalProperties") ||
          o.contains("required"))
        return "object";
      if (o.contains("items") || o.contains("prefixItems")) return "array";
      if (o.contains("minimum") || o.contains("maximum") || o.contains("multipleOf"))
        return "number";
      return "string";
    }
    return types[o_.dynamic ? rng_.below(types.size()) : 0];
  }

  bool skipped(const json::value& prop) const {
    const json::object* p = as_obj(openapi::resolve_schema(d_, prop));
    if (!p) return false;
    return o_.response ? flag_of(*p, "writeOnly") : flag_of(*p, "readOnly");
  }

  json::value shallow(const json::value& schema) {
    const json::object* o = as_obj(openapi::resolve_schema(d_, schema));
    std::string t = o ? string_of(*o, "type") : "";
    if (t == "array" || (o && o->contains("items"))) return json::array();
    if (t == "object" || t.empty()) return json::object();
    return json::value(nullptr);
  }

  std::optional<json::value> object(const json::object& o, int nesting) {
    json::object out;
    std::vector<std::string> required;
    if (auto* r = member(o, "required"); r && r->is_array())
      for (const auto& x : r->get_array())
        if (x.is_string()) required.emplace_back(x.get_string());
    auto is_required = [&](std::string_view k) {
      return std::find(required.begin(), required.end(), k) != required.end();
    };
    if (auto* props = member(o, "properties"); props && props->is_object()) {
      for (const auto& kv : props->get_object()) {
        bool req = is_required(kv.key());
        if (skipped(kv.value())) continue;
        if (!req && (over_budget() || (o_.dynamic && rng_.below(3) == 0))) continue;
        auto v = gen(kv.value(), nesting + 1);
        if (!v) {
          if (!req) continue;
          v = shallow(kv.value());
        }
        out[kv.key()] = std::move(*v);
      }
    }
    // Maps: a few keys, as openapi-sampler names them.
    const json::value* extra = member(o, "additionalProperties");
    bool open = !extra || !(extra->is_bool() && !extra->get_bool());
    int64_t min_props = count_of(o, "minProperties").value_or(0);
    bool map_only = extra && !extra->is_bool() && out.empty() && !o.contains("properties");
    for (int n = 1; open && (static_cast<int64_t>(out.size()) < min_props || (map_only && n == 1));
         ++n) {
      if (n > 1000) break;
      std::string key = "additionalProp" + std::to_string(n);
      if (out.contains(key)) continue;
      std::optional<json::value> v;
      if (extra && extra->is_object()) v = gen(*extra, nesting + 1);
      out[key] = v ? std::move(*v) : json::value(kPlaceholder);
    }
    return json::value(std::move(out));
  }

  std::optional<json::value> array(const json::object& o, int nesting) {
    json::array out;
    if (auto* pre = member(o, "prefixItems"); pre && pre->is_array())
      for (const auto& s : pre->get_array()) {
        auto v = gen(s, nesting + 1);
        out.push_back(v ? std::move(*v) : shallow(s));
      }
    int64_t lo = count_of(o, "minItems").value_or(0);
    int64_t hi = count_of(o, "maxItems").value_or(std::max<int64_t>(lo, 1) + 2);
    if (hi < lo) hi = lo;
    int64_t n = o_.dynamic ? lo + static_cast<int64_t>(rng_.below(static_cast<uint64_t>(
                                      std::min<int64_t>(hi, lo + 3) - lo + 1)))
                           : std::min(std::max<int64_t>(lo, 1), hi);
    if (over_budget()) n = lo;
    const json::value* items = member(o, "items");
    static const json::value kAny = json::object();
    const json::value& item = items ? *items : kAny;
    if (items && items->is_bool() && !items->get_bool()) return json::value(std::move(out));
    bool unique = flag_of(o, "uniqueItems");
    for (int tries = 0; static_cast<int64_t>(out.size()) < n && tries < n * 3 + 3; ++tries) {
      auto v = gen(item, nesting + 1);
      if (!v) break;  // recursion: the array ends here
      if (unique && std::find(out.begin(), out.end(), *v) != out.end()) continue;
      out.push_back(std::move(*v));
    }
    return json::value(std::move(out));
  }

  json::value integer(const json::object& o) {
    std::string format = string_of(o, "format");
    double floor = format == "int32" ? std::numeric_limits<int32_t>::min() : -9.0e15;
    double ceil = format == "int32" ? std::numeric_limits<int32_t>::max() : 9.0e15;
    auto [lo, hi] = bounds(o, 1.0);
    double l = lo ? std::ceil(*lo) : (hi ? std::floor(*hi) - kIntSpan : 0);
    double h = hi ? std::floor(*hi) : l + kIntSpan;
    l = std::max(l, floor);
    h = std::min(h, ceil);
    if (h < l) h = l;
    auto m = number_of(o, "multipleOf");
    if (m && *m >= 1 && std::floor(*m) == *m) {
      double first = std::ceil(l / *m), last = std::floor(h / *m);
      if (last >= first) {
        double k = first + static_cast<double>(rng_.below(static_cast<uint64_t>(std::min(last - first, 1e9)) + 1));
        return json::value(static_cast<int64_t>(k * *m));
      }
    }
    uint64_t span = static_cast<uint64_t>(std::min(h - l, 1e15)) + 1;
    return json::value(static_cast<int64_t>(l) + static_cast<int64_t>(rng_.below(span)));
  }

  json::value number(const json::object& o) {
    auto [lo, hi] = bounds(o, 0.0);
    double l = lo ? *lo : (hi ? *hi - kIntSpan : 0);
    double h = hi ? *hi : l + kIntSpan;
    if (h < l) h = l;
    auto m = number_of(o, "multipleOf");
    if (m && *m > 0) {
      double first = std::ceil(l / *m), last = std::floor(h / *m);
      if (last >= first)
        return json::value((first + static_cast<double>(rng_.below(
                                        static_cast<uint64_t>(std::min(last - first, 1e9)) + 1))) *
                           *m);
    }
    double v = l + (h - l) * rng_.unit();
    double rounded = std::round(v * 100) / 100;  // readable, when it stays in range
    if (rounded >= l && rounded <= h) v = rounded;
    return json::value(v);
  }

  // Inclusive bounds; exclusive ones (3.0 booleans, 3.1 numbers) moved in by
  // `step` (1 for integers) or, for numbers, a hair.
  std::pair<std::optional<double>, std::optional<double>> bounds(const json::object& o,
                                                                 double step) {
    std::optional<double> lo = number_of(o, "minimum"), hi = number_of(o, "maximum");
    auto nudge = [&](double x, bool up) {
      if (step > 0) return up ? std::floor(x) + step : std::ceil(x) - step;
      double d = std::max(std::abs(x) * 1e-9, 1e-6);
      return up ? x + d : x - d;
    };
    if (auto* e = member(o, "exclusiveMinimum")) {
      if (e->is_bool() && e->get_bool() && lo) lo = nudge(*lo, true);
      if (auto n = number_of(o, "exclusiveMinimum")) lo = nudge(*n, true);
    }
    if (auto* e = member(o, "exclusiveMaximum")) {
      if (e->is_bool() && e->get_bool() && hi) hi = nudge(*hi, false);
      if (auto n = number_of(o, "exclusiveMaximum")) hi = nudge(*n, false);
    }
    return {lo, hi};
  }

  std::string string(const json::object& o) {
    auto min_len = count_of(o, "minLength");
    auto max_len = count_of(o, "maxLength");
    auto fits = [&](const std::string& s) {
      int64_t n = utf8_length(s);
      return (!min_len || n >= *min_len) && (!max_len || n <= *max_len);
    };
    if (auto p = string_of(o, "pattern"); !p.empty()) {
      Draw draw = [this](uint64_t n) { return rng_.below(n); };
      for (int attempt = 0; attempt < 4; ++attempt)
        if (auto s = string_for_pattern(p, draw); s && fits(*s)) return *s;
      return kPlaceholder;
    }
    std::string s = formatted(string_of(o, "format"));
    if (!s.empty() && fits(s)) return s;
    // Words up to minLength, cut at maxLength.
    int64_t want = min_len ? *min_len : 0;
    int64_t cap = max_len ? *max_len : std::max<int64_t>(want, 24);
    s = kWords[rng_.below(kWordCount)];
    while (static_cast<int64_t>(s.size()) < want) {
      s += ' ';
      s += kWords[rng_.below(kWordCount)];
    }
    if (static_cast<int64_t>(s.size()) > cap) s.resize(static_cast<size_t>(cap));
    if (!s.empty() && s.back() == ' ') s.back() = 'a';
    return s;
  }

  static int64_t utf8_length(const std::string& s) {
    int64_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }

  std::string hex(size_t digits) {
    static const char kHex[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < digits; ++i) s += kHex[rng_.below(16)];
    return s;
  }

  std::string formatted(const std::string& f) {
    using namespace std::chrono;
    if (f.empty()) return {};
    // 2020-01-01T00:00:00Z plus up to ~6 years.
    auto at = sys_seconds{seconds{1577836800 + static_cast<int64_t>(rng_.below(190'000'000))}};
    auto day = floor<days>(at);
    year_month_day ymd{day};
    hh_mm_ss hms{at - day};
    char date[16], time[16];
    std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    std::snprintf(time, sizeof time, "%02d:%02d:%02d", static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    std::string word = kWords[rng_.below(kWordCount)];
    if (f == "date-time") return std::string(date) + "T" + time + "Z";
    if (f == "date") return date;
    if (f == "time") return std::string(time) + "Z";
    if (f == "uuid")
      return hex(8) + "-" + hex(4) + "-4" + hex(3) + "-" + std::string(1, "89ab"[rng_.below(4)]) +
             hex(3) + "-" + hex(12);
    if (f == "email" || f == "idn-email") return word + std::to_string(rng_.below(100)) + "@example.com";
    if (f == "uri" || f == "url" || f == "iri") return "https://example.com/" + word;
    if (f == "uri-reference" || f == "iri-reference") return "/" + word;
    if (f == "hostname" || f == "idn-hostname") return word + ".example.com";
    if (f == "ipv4") return "192.0.2." + std::to_string(1 + rng_.below(254));
    if (f == "ipv6") return "2001:db8::" + hex(4);
    if (f == "byte") return "bG9yZW0gaXBzdW0=";  // base64 of "lorem ipsum"
    if (f == "password") return "********";
    if (f == "duration") return "P" + std::to_string(1 + rng_.below(30)) + "D";
    return {};
  }

  bool over_budget() const { return values_ > o_.max_values; }

  const openapi::Document& d_;
  const GenerateOptions& o_;
  Rng rng_;
  std::map<std::string, int> refs_;
  size_t values_ = 0;
};

}  // namespace

json::value generate(const openapi::Document& d, const json::value& schema,
                     const GenerateOptions& options) {
  return Generator(d, options).run(schema);
}

std::optional<json::value> schema_example(const openapi::Document& d, const json::value& schema) {
  const json::value& s = openapi::resolve_schema(d, schema);
  if (!s.is_object()) return std::nullopt;
  const auto& o = s.get_object();
  if (auto* e = o.if_contains("example")) return *e;
  if (auto* e = o.if_contains("examples"); e && e->is_array() && !e->get_array().empty())
    return e->get_array()[0];
  if (auto* e = o.if_contains("default")) return *e;
  return std::nullopt;
}

}  // namespace gatehouse::apim::mock
