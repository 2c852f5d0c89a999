#include "apim/openapi/to_routes.hpp"

#include <charconv>
#include <cstdio>
#include <set>

namespace gatehouse::apim::openapi {

namespace json = boost::json;

namespace {

constexpr size_t kMaxName = 128;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string sanitize(std::string_view in) {
  std::string out;
  for (char c : in) {
    char d = name_char(c) ? c : '-';
    if (d == '-' && !out.empty() && out.back() == '-') continue;
    out += d;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && out.front() == '-') out.erase(0, 1);
  return out;
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

// Long names keep a recognisable start and a hash of the whole name.
std::string fit_name(const std::string& name) {
  if (name.size() <= kMaxName) return name;
  char hash[16];
  std::snprintf(hash, sizeof hash, "-%08x", fnv1a(name));
  return name.substr(0, kMaxName - 9) + hash;
}

bool identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Target {
  std::string scheme, host, base;
  uint16_t port = 0;
};

// http(s)://host[:port][/base]; nullopt for relative URLs.
std::optional<Target> parse_url(const std::string& url) {
  Target t;
  auto sep = url.find("://");
  if (sep == std::string::npos) return std::nullopt;
  t.scheme = url.substr(0, sep);
  for (auto& c : t.scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (t.scheme != "http" && t.scheme != "https") return std::nullopt;
  std::string rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!t.base.empty() && t.base.back() == '/') t.base.pop_back();
  auto at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  auto colon = authority.rfind(':');
  bool v6 = !authority.empty() && authority[0] == '[';
  if (colon != std::string::npos && (!v6 || authority.find(']') < colon)) {
    unsigned p = 0;
    auto [ptr, ec] =
        std::from_chars(authority.data() + colon + 1, authority.data() + authority.size(), p);
    if (ec != std::errc() || ptr != authority.data() + authority.size() || p == 0 || p > 65535)
      return std::nullopt;
    t.port = static_cast<uint16_t>(p);
    t.host = authority.substr(0, colon);
  } else {
    t.host = authority;
    t.port = t.scheme == "https" ? 443 : 80;
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

Error import_error(std::string code, std::string message, std::string field = {}) {
  return make_error(std::move(code), std::move(message), std::move(field), 400,
                    ErrorSide::kDownstream);
}

json::object policy(std::string name, json::object config = {}) {
  json::object p;
  p["name"] = std::move(name);
  if (!config.empty()) p["config"] = std::move(config);
  return p;
}

// The policy that enforces one security scheme, or an empty object (with a
// warning) when the gateway has no counterpart.
Result<json::object> scheme_policy(const SecurityScheme& s, const std::vector<std::string>& scopes,
                                   const ImportOptions& o, std::vector<std::string>& warnings) {
  if (auto* x = s.extensions.if_contains("x-gatehouse-policy")) {
    if (!x->is_object() || !x->get_object().contains("name"))
      return import_error("invalid_extension",
                          "x-gatehouse-policy on security scheme '" + s.name +
                              "' must be an object with a 'name' (and optional 'config')",
                          "/components/securitySchemes/" + s.name + "/x-gatehouse-policy");
    return x->get_object();
  }
  if (auto it = o.auth.find(s.name); it != o.auth.end()) return it->second;
  if (s.type == "apiKey") {
    json::object c;
    if (s.in == "header") {
      c["key_names"] = json::array{json::value(s.parameter_name)};
      c["query_names"] = json::array();
    } else if (s.in == "query") {
      c["key_names"] = json::array();
      c["query_names"] = json::array{json::value(s.parameter_name)};
    } else {
      warnings.push_back("security scheme '" + s.name + "': API keys in a " + s.in +
                         " are not supported by key-auth; no policy added");
      return json::object();
    }
    return policy("key-auth", std::move(c));
  }
  if (s.type == "http" && s.scheme == "basic") return policy("basic-auth");
  if (s.type == "http" && s.scheme == "bearer") return policy("jwt");
  if (s.type == "oauth2" || s.type == "openIdConnect") {
    json::object c = o.oauth2_config;
    if (o.oauth2_policy == "oauth2-introspection" && !scopes.empty() &&
        !c.contains("required_scopes")) {
      json::array a;
      for (const auto& sc : scopes) a.emplace_back(sc);
      c["required_scopes"] = std::move(a);
    }
    return policy(o.oauth2_policy, std::move(c));
  }
  warnings.push_back("security scheme '" + s.name + "' (" + s.type +
                     (s.scheme.empty() ? "" : " " + s.scheme) +
                     ") has no gateway policy; no policy added");
  return json::object();
}

Result<void> append_extension_policies(const json::object& ext, const std::string& where,
                                       json::array& out) {
  auto* x = ext.if_contains("x-gatehouse-policies");
  if (!x) return Ok{};
  if (!x->is_array())
    return import_error("invalid_extension", "x-gatehouse-policies must be a list of policies",
                        where + "/x-gatehouse-policies");
  for (const auto& p : x->get_array()) {
    if (p.is_string()) {
      out.push_back(policy(std::string(p.get_string())));
    } else if (p.is_object() && p.get_object().contains("name")) {
      out.push_back(p);
    } else {
      return import_error("invalid_extension",
                          "each x-gatehouse-policies item is a policy name or {name, config}",
                          where + "/x-gatehouse-policies");
    }
  }
  return Ok{};
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

std::string route_path(const std::string& path) {
  // Split into segments; a segment that is exactly "{name}" is a template
  // capture; one that mixes text and braces can only be a regex.
  std::vector<std::string> segs;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    segs.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  bool any_param = path.find('{') != std::string::npos;
  if (!any_param) return "=" + path;
  bool needs_regex = false;
  for (const auto& s : segs) {
    auto open = s.find('{');
    if (open == std::string::npos) continue;
    if (open != 0 || s.back() != '}' || s.find('{', 1) != std::string::npos) needs_regex = true;
  }
  std::string out;
  if (needs_regex) {
    out = "~^";
    for (const auto& s : segs) {
      out += '/';
      size_t k = 0;
      while (k < s.size()) {
        size_t open = s.find('{', k);
        size_t close = open == std::string::npos ? std::string::npos : s.find('}', open);
        if (open == std::string::npos || close == std::string::npos) {
          out += regex_escape(s.substr(k));
          break;
        }
        out += regex_escape(s.substr(k, open - k));
        out += "[^/]+";
        k = close + 1;
      }
    }
    return out + "$";
  }
  std::set<std::string> used;
  for (const auto& s : segs) {
    out += '/';
    if (s.empty() || s[0] != '{') {
      out += s;
      continue;
    }
    std::string name = s.substr(1, s.size() - 2);
    if (!identifier(name)) {
      for (auto& c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
      if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name = "p" + name;
    }
    std::string unique = name;
    for (int n = 2; used.count(unique); ++n) unique = name + std::to_string(n);
    used.insert(unique);
    out += "{" + unique + "}";
  }
  return out;
}

Result<ImportResult> to_routes(const Document& d, const ImportOptions& o) {
  ImportResult r;
  if (!valid_name(o.api))
    return import_error("invalid_name",
                        "the API name must be 1 to 128 letters, digits, '.', '_' or '-'", "api");
  if (!o.version.empty() && !valid_name(o.version))
    return import_error("invalid_version", "the version must be letters, digits, '.', '_' or '-'",
                        "version");
  std::string prefix = o.version.empty() ? o.api : o.api + "." + o.version;
  json::array tags;
  for (const auto& t : o.tags) tags.emplace_back(t);

  std::string upstream = o.upstream;
  std::string base;
  if (upstream.empty()) {
    std::optional<Target> t;
    if (!o.upstream_url.empty()) {
      t = parse_url(o.upstream_url);
      if (!t)
        return import_error("invalid_upstream_url",
                            "'" + o.upstream_url + "' is not an http(s)://host[:port][/path] URL",
                            "upstream_url");
    } else {
      for (const auto& s : d.servers)
        if ((t = parse_url(s.url))) break;
      if (!t)
        return import_error(
            "no_upstream",
            "the document has no absolute http(s) server URL: give an upstream or an upstream URL",
            "/servers");
    }
    if (t->scheme == "https")
      r.warnings.push_back(
          "the upstream " + t->host + ":" + std::to_string(t->port) +
          " is reached in plain HTTP: the gateway does not originate TLS to upstreams yet");
    upstream = fit_name(prefix);
    std::string host =
        t->host.find(':') != std::string::npos && t->host[0] != '[' ? "[" + t->host + "]" : t->host;
    json::object u;
    u["name"] = upstream;
    u["targets"] = json::array{json::object{{"address", host + ":" + std::to_string(t->port)}}};
    if (!tags.empty()) u["tags"] = tags;
    r.upstreams.push_back(std::move(u));
    base = t->base;
  } else if (!o.upstream_url.empty()) {
    if (auto t = parse_url(o.upstream_url)) base = t->base;
  } else {
    for (const auto& s : d.servers) {
      if (auto t = parse_url(s.url)) {
        base = t->base;
        break;
      }
      if (s.url.starts_with("/")) {
        base = s.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        break;
      }
    }
  }

  r.base_path = base;
  json::array root_policies;
  if (auto rp = append_extension_policies(d.extensions, "", root_policies); !rp) return rp.error();
  std::set<std::string> names;
  for (const auto& op : d.operations) {
    if (auto* skip = op.extensions.if_contains("x-gatehouse-ignore");
        skip && skip->is_bool() && skip->as_bool())
      continue;
    std::string leaf = !op.operation_id.empty() ? sanitize(op.operation_id) : "";
    if (leaf.empty()) {
      std::string m = op.method;
      for (auto& c : m) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      leaf = sanitize(m + "-" + op.path);
    }
    std::string name = fit_name(prefix + "." + leaf);
    for (int n = 2; names.count(name); ++n)
      name = fit_name(prefix + "." + leaf + "-" + std::to_string(n));
    names.insert(name);

    json::object route;
    route["name"] = name;
    json::object match;
    match["paths"] = json::array{json::value(route_path(base + op.path))};
    match["methods"] = json::array{json::value(op.method)};
    route["match"] = std::move(match);
    std::string op_upstream = upstream;
    if (auto* u = op.extensions.if_contains("x-gatehouse-upstream"); u && u->is_string())
      op_upstream = std::string(u->get_string());
    route["upstream"] = op_upstream;

    json::array policies;
    const auto& sec = effective_security(d, op);
    if (!sec.empty()) {
      bool optional = false;
      for (const auto& alt : sec) optional = optional || alt.schemes.empty();
      if (optional) {
        r.warnings.push_back(
            name + ": authentication is optional ({} in security); no authentication policy added");
      } else {
        if (sec.size() > 1)
          r.warnings.push_back(name + ": " + std::to_string(sec.size()) +
                               " alternative security requirements; the first is enforced");
        for (const auto& [scheme, scopes] : sec.front().schemes) {
          auto it = d.security_schemes.find(scheme);
          if (it == d.security_schemes.end())
            return import_error("unknown_security_scheme",
                                "operation " + op.method + " " + op.path +
                                    " requires security scheme '" + scheme +
                                    "', which is not defined",
                                op.pointer + "/security");
          auto p = scheme_policy(it->second, scopes, o, r.warnings);
          if (!p) return p.error();
          if (!p->empty()) {
            bool dup = false;
            for (const auto& q : policies) dup = dup || q == json::value(*p);
            if (!dup) policies.push_back(std::move(*p));
          }
        }
      }
    }
    for (const auto& p : root_policies) policies.push_back(p);
    if (auto rp = append_extension_policies(op.extensions, op.pointer, policies); !rp)
      return rp.error();
    for (const auto& p : o.policies) policies.push_back(p);
    if (!o.validation_spec.empty()) {
      json::object cfg{{"spec", o.validation_spec}};
      // Without an operationId the policy finds the operation by method and path.
      if (!op.operation_id.empty()) cfg["operation"] = op.operation_id;
      if (!o.validate_requests) {
        cfg["parameters"] = false;
        cfg["body"] = false;
      }
      if (o.validation_responses != "off") cfg["responses"] = o.validation_responses;
      policies.push_back(json::object{{"name", "request-validation"}, {"config", std::move(cfg)}});
    }
    if (!policies.empty()) route["policies"] = std::move(policies);
    if (!tags.empty()) route["tags"] = tags;
    r.routes.push_back(std::move(route));
  }
  return r;
}

}  // namespace gatehouse::apim::openapi
