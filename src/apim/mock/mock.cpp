#include "apim/mock/mock.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

#include "apim/mock/generate.hpp"
#include "common/strings.hpp"

namespace gatehouse::apim::mock {

namespace json = boost::json;
using openapi::MediaType;
using openapi::Operation;
using openapi::Response;

namespace {

Error fail(int status, std::string code, std::string message, std::string field = {}) {
  return make_error(std::move(code), std::move(message), std::move(field), status,
                    ErrorSide::kDownstream);
}

std::optional<int> parse_status(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 100 || v > 599) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (iequals(s, "true")) return true;
  if (iequals(s, "false")) return false;
  return std::nullopt;
}

std::string_view unquote(std::string_view v) {
  v = trim_ows(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

// One preference `name=value` (either side of a Prefer list or a query).
Result<void> set_preference(Prefer& p, std::string_view name, std::string_view value,
                            std::string_view where) {
  if (iequals(name, "code")) {
    auto c = parse_status(value);
    if (!c)
      return fail(400, "invalid_prefer",
                  std::string(where) + ": code must be an HTTP status (100-599), got '" +
                      std::string(value) + "'",
                  std::string(where));
    p.code = c;
  } else if (iequals(name, "example")) {
    if (value.empty())
      return fail(400, "invalid_prefer", std::string(where) + ": example needs a name",
                  std::string(where));
    p.example = std::string(value);
  } else if (iequals(name, "dynamic")) {
    auto b = parse_bool(value);
    if (!b)
      return fail(400, "invalid_prefer",
                  std::string(where) + ": dynamic must be true or false, got '" +
                      std::string(value) + "'",
                  std::string(where));
    p.dynamic = b;
  }
  return Ok{};
}

bool is_json(std::string_view type) {
  std::string t = to_lower(type.substr(0, type.find(';')));
  return t == "application/json" || t.ends_with("+json") || t == "text/json" || t == "*/*" ||
         t == "application/*";
}

// The value as a body of this media type: JSON for JSON types, a string
// example as it is for the others (text/plain, text/csv, application/xml
// written as text), anything else as JSON.
std::string serialize_body(const json::value& v, std::string_view type) {
  if (!is_json(type) && v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

std::string simple_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_array()) {  // RFC 6570 "simple" style, as OpenAPI headers use
    std::string out;
    for (const auto& x : v.get_array()) {
      if (!out.empty()) out += ',';
      out += simple_text(x);
    }
    return out;
  }
  if (v.is_object()) {
    std::string out;
    for (const auto& kv : v.get_object()) {
      if (!out.empty()) out += ',';
      out += std::string(kv.key()) + "," + simple_text(kv.value());
    }
    return out;
  }
  return json::serialize(v);
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Headers the gateway frames itself, or that would change the connection.
bool reserved_header(std::string_view name) {
  for (std::string_view r : {"content-type", "content-length", "transfer-encoding", "connection",
                             "keep-alive", "upgrade", "te", "trailer", "x-request-id"})
    if (iequals(name, r)) return true;
  return false;
}

struct AcceptRange {
  std::string type;  // lower case, no parameters
  double q = 1.0;
};

std::vector<AcceptRange> parse_accept(std::string_view accept) {
  std::vector<AcceptRange> out;
  size_t i = 0;
  while (i <= accept.size()) {
    size_t j = accept.find(',', i);
    if (j == std::string_view::npos) j = accept.size();
    std::string_view item = trim_ows(accept.substr(i, j - i));
    i = j + 1;
    if (item.empty()) continue;
    AcceptRange r;
    size_t semi = item.find(';');
    r.type = to_lower(trim_ows(item.substr(0, semi)));
    while (semi != std::string_view::npos) {
      size_t next = item.find(';', semi + 1);
      std::string_view param = trim_ows(item.substr(semi + 1, next - semi - 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        double q = 0;
        std::string qs(param.substr(2));
        char* end = nullptr;
        q = std::strtod(qs.c_str(), &end);
        r.q = (end && *end == 0 && q >= 0 && q <= 1) ? q : 1.0;
      }
      semi = next;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// How well a response media type fits one Accept range (higher is more
// specific); -1 when it does not.
int specificity(std::string_view offered, const AcceptRange& r) {
  std::string t = to_lower(offered.substr(0, offered.find(';')));
  t = std::string(trim_ows(t));
  if (r.type == "*/*" || t == "*/*") return 0;
  auto slash = r.type.find('/');
  if (slash != std::string::npos && r.type.substr(slash) == "/*")
    return t.starts_with(r.type.substr(0, slash + 1)) ? 1 : -1;
  if (t.ends_with("/*")) return r.type.starts_with(t.substr(0, t.size() - 1)) ? 1 : -1;
  return t == r.type ? 2 : -1;
}

// The media type to answer with; nullptr with an error when none fits.
Result<const MediaType*> negotiate(const Response& resp, std::string_view accept) {
  auto ranges = parse_accept(accept);
  bool anything = ranges.empty();
  for (const auto& r : ranges)
    if (r.type == "*/*" && r.q > 0) anything = true;
  if (anything && (ranges.empty() || ranges.size() == 1)) {
    // No preference: JSON when there is some (what most clients want).
    for (const auto& mt : resp.content)
      if (is_json(mt.type) && mt.type.find('*') == std::string::npos) return &mt;
    return &resp.content.front();
  }
  const MediaType* best = nullptr;
  double best_q = 0;
  int best_spec = -1;
  for (const auto& mt : resp.content) {
    // The most specific range that matches decides this type's q (RFC 9110 12.5.1).
    int spec = -1;
    double q = 0;
    for (const auto& r : ranges) {
      int s = specificity(mt.type, r);
      if (s > spec) {
        spec = s;
        q = r.q;
      }
    }
    if (spec < 0 || q <= 0) continue;
    if (q > best_q || (q == best_q && spec > best_spec)) {
      best = &mt;
      best_q = q;
      best_spec = spec;
    }
  }
  if (best) return best;
  std::string offered;
  for (const auto& mt : resp.content) offered += (offered.empty() ? "" : ", ") + mt.type;
  return fail(406, "not_acceptable",
              "the response offers " + offered + "; none is acceptable for Accept: " +
                  std::string(accept),
              "Accept");
}

std::string content_type_of(std::string_view type, std::string_view accept) {
  if (type.find('*') == std::string_view::npos) return std::string(type);
  // A wildcard in the document: the client's concrete choice, else JSON.
  for (const auto& r : parse_accept(accept))
    if (r.type.find('*') == std::string::npos && r.q > 0 && specificity(type, r) >= 0)
      return r.type;
  return "application/json";
}

void add_headers(const openapi::Document& d, const Operation& op, const Response& resp,
                 bool dynamic, uint64_t seed, MockResponse& out) {
  for (const auto& h : resp.header_specs) {
    if (h.name.empty() || reserved_header(h.name)) continue;
    bool valid = true;
    for (char c : h.name) valid = valid && token_char(c);
    if (!valid) continue;
    std::optional<json::value> v;
    if (!dynamic && !h.example.is_null()) v = h.example;
    if (!v && !dynamic && !h.schema.is_null()) v = schema_example(d, h.schema);
    if (!v && !h.schema.is_null()) {
      GenerateOptions g;
      g.dynamic = dynamic;
      g.seed = stable_hash(h.name, seed);
      g.max_values = 64;
      v = generate(d, h.schema, g);
    }
    if (!v) continue;
    std::string text = simple_text(*v);
    // The document is data: no byte of it may end the header line.
    for (auto& c : text)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    out.headers.emplace_back(h.name, std::move(text));
  }
  if (op.deprecated) out.headers.emplace_back("Deprecation", "true");  // as Prism does
}

}  // namespace

Result<Prefer> parse_prefer(std::string_view header) {
  Prefer p;
  size_t i = 0;
  while (i <= header.size()) {
    size_t j = header.find(',', i);
    if (j == std::string_view::npos) j = header.size();
    std::string_view item = trim_ows(header.substr(i, j - i));
    i = j + 1;
    // A preference's own parameters (";...") do not matter here.
    item = trim_ows(item.substr(0, item.find(';')));
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view name = trim_ows(item.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? "" : unquote(item.substr(eq + 1));
    if (eq == std::string_view::npos && iequals(name, "dynamic")) value = "true";
    if (auto r = set_preference(p, name, value, "Prefer"); !r) return r.error();
  }
  return p;
}

Result<void> apply_query_preferences(std::string_view query, Prefer& p) {
  size_t i = 0;
  while (i < query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view item = query.substr(i, j - i);
    i = j + 1;
    if (!item.starts_with("__")) continue;
    size_t eq = item.find('=');
    std::string_view name = item.substr(2, eq == std::string_view::npos ? item.npos : eq - 2);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (name != "code" && name != "example" && name != "dynamic") continue;
    if (auto r = set_preference(p, name, value, "__" + std::string(name)); !r) return r;
  }
  return Ok{};
}

uint64_t request_seed(std::string_view method, std::string_view path, std::string_view query) {
  return stable_hash(query, stable_hash(path, stable_hash(method)));
}

const Response* find_response(const Operation& op, std::optional<int> code, int* status) {
  if (code) {
    std::string exact = std::to_string(*code);
    std::string range = exact.substr(0, 1) + "XX";
    for (const char* pass : {"exact", "range", "default"})
      for (const auto& r : op.responses) {
        std::string_view want = pass[0] == 'e' ? std::string_view(exact)
                                : pass[0] == 'r' ? std::string_view(range)
                                                 : std::string_view("default");
        if (iequals(r.status, want)) {
          *status = *code;
          return &r;
        }
      }
    return nullptr;
  }
  // The lowest 2xx, then a 2XX range (as 200), then default (as 200).
  const Response* best = nullptr;
  int best_code = 1000;
  for (const auto& r : op.responses)
    if (auto c = parse_status(r.status); c && *c >= 200 && *c < 300 && *c < best_code) {
      best = &r;
      best_code = *c;
    }
  if (best) {
    *status = best_code;
    return best;
  }
  for (const char* want : {"2XX", "default"})
    for (const auto& r : op.responses)
      if (iequals(r.status, want)) {
        *status = 200;
        return &r;
      }
  return nullptr;
}

Result<MockResponse> respond(const openapi::Document& d, const Operation& op,
                             const MockRequest& r) {
  std::string name = op.operation_id.empty() ? op.method + " " + op.path : op.operation_id;
  MockResponse out;
  const Response* resp = find_response(op, r.prefer.code, &out.status);
  if (!resp) {
    if (r.prefer.code)
      return fail(404, "mock_status_not_defined",
                  "requested status code " + std::to_string(*r.prefer.code) +
                      " is not defined for operation " + name + " (nor a default response)",
                  "Prefer");
    return fail(500, "mock_no_response",
                "operation " + name + " defines no 2xx or default response to mock");
  }
  const bool dynamic = r.prefer.dynamic.value_or(r.dynamic);
  add_headers(d, op, *resp, dynamic, r.seed, out);
  if (resp->content.empty()) {
    if (!r.prefer.example.empty())
      return fail(404, "mock_example_not_found",
                  "response " + resp->status + " of " + name + " has no body, so no example '" +
                      r.prefer.example + "'",
                  "Prefer");
    out.source = "empty";
    return out;
  }
  auto mt_or = negotiate(*resp, r.accept);
  if (!mt_or) return mt_or.error();
  const MediaType& mt = **mt_or;
  out.content_type = content_type_of(mt.type, r.accept);

  std::optional<json::value> body;
  if (!r.prefer.example.empty()) {
    auto* ex = mt.examples.if_contains(r.prefer.example);
    if (!ex) {
      std::string names;
      for (const auto& kv : mt.examples)
        names += (names.empty() ? "" : ", ") + std::string(kv.key());
      return fail(404, "mock_example_not_found",
                  "response " + resp->status + " (" + mt.type + ") of " + name +
                      " has no example named '" + r.prefer.example + "'" +
                      (names.empty() ? std::string(" (it has none)") : " (it has: " + names + ")"),
                  "Prefer");
    }
    const json::value* v = ex->is_object() ? ex->get_object().if_contains("value") : nullptr;
    body = v ? *v : json::value(nullptr);
    out.source = "example:" + r.prefer.example;
  } else if (dynamic && !mt.schema.is_null()) {
    GenerateOptions g;
    g.dynamic = true;
    g.seed = r.seed;
    body = generate(d, mt.schema, g);
    out.source = "dynamic";
  } else if (!mt.example.is_null()) {
    body = mt.example;
    out.source = "example";
  } else if (!mt.examples.empty()) {
    const auto& first = *mt.examples.begin();
    const json::value* v =
        first.value().is_object() ? first.value().get_object().if_contains("value") : nullptr;
    body = v ? *v : json::value(nullptr);
    out.source = "example:" + std::string(first.key());
  } else if (!mt.schema.is_null()) {
    if ((body = schema_example(d, mt.schema))) {
      out.source = "schema-example";
    } else {
      GenerateOptions g;
      g.seed = r.seed;
      body = generate(d, mt.schema, g);
      out.source = "generated";
    }
  }
  if (!body) {
    out.source = "empty";  // a media type with neither schema nor example
    out.content_type.clear();
    return out;
  }
  out.body = serialize_body(*body, out.content_type);
  return out;
}

}  // namespace gatehouse::apim::mock
