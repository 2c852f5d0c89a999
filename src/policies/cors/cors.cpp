// cors: the gateway answers CORS preflights itself (they never reach the
// upstream) and adds the Access-Control-* headers to actual responses, so
// every upstream behind a route gets one consistent cross-origin policy.
// Fetch standard, section 3.2 (CORS protocol).
#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/cors/origin_matcher.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

constexpr const char* kPreflightVary =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!http1::is_tchar(c)) return false;
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

class Cors final : public Policy {
 public:
  cors::OriginMatcher origins;
  bool any_method = false;
  std::vector<std::string> methods;  // upper-case
  std::string methods_header;
  bool reflect_headers = true;                // `headers` absent or "*"
  std::unordered_set<std::string> headers;    // lower-case
  std::string headers_header;
  std::string expose_header;                  // empty: not sent
  bool credentials = false;
  std::string max_age;                        // seconds; empty: not sent

  std::string_view name() const override { return "cors"; }
  Phase phase() const override { return Phase::kPreAuth; }

  // With "*" and no credentials the answer is the same for every origin;
  // otherwise caches must key on Origin.
  bool varies_by_origin() const { return !(origins.any() && !credentials); }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    const std::string* origin = ctx.head->find("origin");
    const std::string* req_method = ctx.head->find("access-control-request-method");
    if (!origin) {
      if (varies_by_origin()) ctx.response_headers.push_back({"Vary", "Origin"});
      return Action::kContinue;
    }
    const bool allowed = origins.matches(*origin);
    if (ctx.head->method == "OPTIONS" && req_method)
      return preflight(ctx, *origin, allowed, *req_method, out);
    if (varies_by_origin()) ctx.response_headers.push_back({"Vary", "Origin"});
    // A disallowed origin still reaches the upstream (CORS is enforced by the
    // browser, which will not hand the response to the page); it only gets
    // no grant.
    if (!allowed) return Action::kContinue;
    ctx.response_headers.push_back({"Access-Control-Allow-Origin", allow_origin_value(*origin)});
    if (credentials) ctx.response_headers.push_back({"Access-Control-Allow-Credentials", "true"});
    if (!expose_header.empty())
      ctx.response_headers.push_back({"Access-Control-Expose-Headers", expose_header});
    return Action::kContinue;
  }

  // The gateway is the single authority on CORS for this route: grants an
  // upstream makes on its own are dropped, and its Vary gains Origin rather
  // than a second Vary field appearing.
  void on_response(RequestContext& ctx, int /*status*/,
                   std::vector<http1::Header>& headers) const override {
    std::erase_if(headers, [](const http1::Header& h) {
      return starts_with_ci(h.name, "access-control-allow-") ||
             iequals(h.name, "access-control-expose-headers") ||
             iequals(h.name, "access-control-max-age");
    });
    auto ours = std::find_if(ctx.response_headers.begin(), ctx.response_headers.end(),
                             [](const http1::Header& h) {
                               return h.name == "Vary" && h.value == "Origin";
                             });
    if (ours == ctx.response_headers.end()) return;
    for (auto& h : headers) {
      if (!iequals(h.name, "vary")) continue;
      if (!has_token(h.value, "origin") && !has_token(h.value, "*")) h.value += ", Origin";
      ctx.response_headers.erase(ours);
      return;
    }
  }

 private:
  std::string allow_origin_value(const std::string& origin) const {
    // "*" is never combined with credentials (browsers reject it); the origin
    // itself is echoed instead.
    return origins.any() && !credentials ? std::string("*") : origin;
  }

  static bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

  Action preflight(RequestContext& ctx, const std::string& origin, bool allowed,
                   const std::string& req_method, Respond& out) const {
    if (!allowed)
      return reject(out, "origin '" + origin.substr(0, 256) + "' is not allowed");
    std::string_view m = trim_ows(req_method);
    if (!is_token(m) ||
        (!any_method && std::find(methods.begin(), methods.end(), m) == methods.end()))
      return reject(out, "method '" + std::string(m.substr(0, 32)) + "' is not allowed");
    // Access-Control-Request-Headers: a comma-separated list of lower-case
    // names (browsers lower-case them; others may not).
    std::vector<std::string> requested;
    for (const auto& h : ctx.head->headers) {
      if (!iequals(h.name, "access-control-request-headers")) continue;
      std::string_view v = h.value;
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view item = trim_ows(v.substr(0, comma));
        if (!item.empty()) {
          if (!is_token(item)) return reject(out, "malformed Access-Control-Request-Headers");
          std::string name = to_lower(item);
          if (!reflect_headers && !headers.count(name))
            return reject(out, "request header '" + name.substr(0, 64) + "' is not allowed");
          requested.push_back(std::move(name));
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
    out.status = 204;
    out.headers.push_back({"Access-Control-Allow-Origin", allow_origin_value(origin)});
    if (credentials) out.headers.push_back({"Access-Control-Allow-Credentials", "true"});
    out.headers.push_back(
        {"Access-Control-Allow-Methods", any_method ? std::string(m) : methods_header});
    if (!requested.empty())
      out.headers.push_back(
          {"Access-Control-Allow-Headers", reflect_headers ? join(requested) : headers_header});
    if (!max_age.empty()) out.headers.push_back({"Access-Control-Max-Age", max_age});
    out.headers.push_back({"Vary", kPreflightVary});
    return Action::kRespond;
  }

  static Action reject(Respond& out, std::string detail) {
    out.status = 403;
    out.code = "cors_rejected";
    out.detail = std::move(detail);
    out.headers.push_back({"Vary", kPreflightVary});
    return Action::kRespond;
  }
};

// A list of header or method names: tokens, "*" alone meaning any.
std::vector<std::string> read_tokens(ConfigReader& cr, const char* key, bool& any) {
  std::vector<std::string> out;
  YAML::Node n = cr.node(key);
  auto items = cr.strings(key);
  for (size_t i = 0; i < items.size(); ++i) {
    std::string v(trim_ows(items[i]));
    if (v == "*") {
      any = true;
      continue;
    }
    if (!is_token(v)) {
      cr.fail(n.IsSequence() ? std::string(key) + "[" + std::to_string(i) + "]" : key,
              "invalid_value", "'" + items[i] + "' is not a valid name");
      continue;
    }
    out.push_back(std::move(v));
  }
  return out;
}

// max_age: a number of seconds (as in Access-Control-Max-Age) or a duration.
void read_max_age(ConfigReader& cr, Cors& p) {
  YAML::Node n = cr.node("max_age");
  if (!n) return;
  std::string s = n.IsScalar() ? n.Scalar() : std::string();
  std::optional<int64_t> ms;
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() <= 9) ms = std::stoll(s) * 1000;
  } else {
    ms = parse_duration_ms(s);
  }
  // Browsers cap it anyway (Chromium at 2h, Firefox at 24h).
  if (!ms || *ms % 1000 != 0 || *ms > 86'400'000) {
    cr.fail("max_age", "invalid_value",
            "'" + s + "' is not a whole number of seconds up to 24h (e.g. 600 or 10m)");
    return;
  }
  p.max_age = std::to_string(*ms / 1000);
}

}  // namespace

void register_cors(Registry& r) {
  r.add("cors", [](const config::PolicyRef& ref,
                   const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"origins", "methods", "headers", "expose_headers", "credentials", "max_age"});
    auto p = std::make_shared<Cors>();

    if (!cr.has("origins")) cr.fail("origins", "missing_field", "'origins' is required");
    YAML::Node on = cr.node("origins");
    auto origins = cr.strings("origins");
    for (size_t i = 0; i < origins.size(); ++i) {
      std::string why;
      if (!p->origins.add(origins[i], why))
        cr.fail(on.IsSequence() ? "origins[" + std::to_string(i) + "]" : "origins",
                "invalid_origin", why);
    }
    if (on && on.IsSequence() && on.size() == 0)
      cr.fail("origins", "invalid_value", "'origins' is empty");

    if (cr.has("methods")) {
      for (auto& m : read_tokens(cr, "methods", p->any_method)) {
        for (auto& c : m) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
        if (std::find(p->methods.begin(), p->methods.end(), m) == p->methods.end())
          p->methods.push_back(m);
      }
    } else {
      p->methods = {"GET", "HEAD", "POST"};  // the CORS-safelisted methods
    }
    if (p->methods.empty() && !p->any_method)
      cr.fail("methods", "invalid_value", "'methods' is empty: every preflight would be refused");
    p->methods_header = join(p->methods);

    if (cr.has("headers")) {
      bool any = false;
      auto hs = read_tokens(cr, "headers", any);
      p->reflect_headers = any;
      for (const auto& h : hs) p->headers.insert(to_lower(h));
      p->headers_header = join(hs);
    }

    bool expose_any = false;
    auto expose = read_tokens(cr, "expose_headers", expose_any);
    if (expose_any) expose.insert(expose.begin(), "*");
    p->expose_header = join(expose);

    p->credentials = cr.boolean("credentials", false);
    read_max_age(cr, *p);

    if (p->credentials && p->origins.any())
      // Echoing any origin with credentials would let every website act with
      // the user's cookies; browsers refuse "*" with credentials for this reason.
      cr.fail("origins", "invalid_value",
              "\"*\" cannot be combined with credentials: true; list the origins (wildcard "
              "subdomains such as *.example.com are allowed)");
    if (p->credentials && expose_any)
      cr.fail("expose_headers", "invalid_value",
              "\"*\" means a literal header name when credentials is true; list the names");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
