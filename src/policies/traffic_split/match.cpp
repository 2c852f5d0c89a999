#include "policies/traffic_split/match.hpp"

#include <algorithm>

#include "common/strings.hpp"
#include "policies/query.hpp"

namespace gatehouse::policy {

namespace {

RE2::Options regex_options() {
  RE2::Options o;
  o.set_log_errors(false);  // errors are reported with the field path instead
  return o;
}

void read_conditions(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                     bool header_names, std::vector<ValueCondition>& out) {
  if (!n.IsMap()) {
    cr.fail(field, "invalid_type", "expected a mapping of names to values");
    return;
  }
  for (const auto& kv : n) {
    std::string name = kv.first.Scalar();
    std::string f = field + "." + name;
    if (name.empty()) {
      cr.fail(f, "invalid_value", "a name cannot be empty");
      continue;
    }
    if (header_names && !std::all_of(name.begin(), name.end(), [](char c) {
          return http1::is_tchar(static_cast<unsigned char>(c));
        })) {
      cr.fail(f, "invalid_value", "'" + name + "' is not a valid header name");
      continue;
    }
    if (!kv.second.IsScalar()) {
      cr.fail(f, "invalid_value",
              kv.second.IsNull() ? "needs a value; use \"*\" to require any value"
                                 : "expected a string");
      continue;
    }
    const std::string& v = kv.second.Scalar();
    ValueCondition c;
    c.name = header_names ? to_lower(name) : name;
    if (v == "*") {
      c.kind = ValueCondition::Kind::kPresent;
    } else if (!v.empty() && v.front() == '~') {
      c.kind = ValueCondition::Kind::kRegex;
      auto re = std::make_shared<const RE2>(v.substr(1), regex_options());
      if (!re->ok()) {
        cr.fail(f, "invalid_regex",
                "invalid regular expression '" + v.substr(1) + "': " + re->error());
        continue;
      }
      c.re = std::move(re);
    } else {
      c.kind = ValueCondition::Kind::kExact;
      c.value = v;
    }
    out.push_back(std::move(c));
  }
}

std::vector<std::string> read_names(ConfigReader& cr, const YAML::Node& n,
                                    const std::string& field) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) {
        cr.fail(field + "[" + std::to_string(i) + "]", "invalid_type", "expected a string");
        continue;
      }
      out.push_back(n[i].Scalar());
    }
  } else {
    cr.fail(field, "invalid_type", "expected a list of names");
  }
  return out;
}

bool query_matches(const ValueCondition& c, std::string_view q) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq), true) != c.name) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (c.kind == ValueCondition::Kind::kPresent || c.matches(percent_decode(raw, true)))
      return true;
  }
  return false;
}

}  // namespace

bool ValueCondition::matches(std::string_view v) const {
  switch (kind) {
    case Kind::kPresent:
      return true;
    case Kind::kExact:
      return v == value;
    case Kind::kRegex:
      return RE2::FullMatch(v, *re);
  }
  return false;
}

std::optional<std::string_view> cookie_value(const http1::RequestHead& head,
                                             std::string_view name) {
  for (const auto& h : head.headers) {
    if (!iequals(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = trim_ows(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim_ows(pair.substr(0, eq)) != name) continue;
      std::string_view value = trim_ows(pair.substr(eq + 1));
      // RFC 6265 allows a DQUOTE-wrapped cookie-value; its content is the value.
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return value;
    }
  }
  return std::nullopt;
}

bool RuleMatch::matches(const RequestContext& ctx) const {
  for (const auto& c : headers) {
    bool found = false;
    for (const auto& h : ctx.head->headers) {
      if (iequals(h.name, c.name) && c.matches(h.value)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const auto& c : cookies) {
    // Only the first cookie of a name counts, as servers read it.
    auto v = cookie_value(*ctx.head, c.name);
    if (!v || !c.matches(*v)) return false;
  }
  if (!query.empty()) {
    std::string_view q = current_query(ctx);
    for (const auto& c : query)
      if (!query_matches(c, q)) return false;
  }
  if (!consumers.empty()) {
    if (!ctx.consumer ||
        std::find(consumers.begin(), consumers.end(), ctx.consumer->name) == consumers.end())
      return false;
  }
  if (!groups.empty()) {
    if (!ctx.consumer) return false;
    bool in = std::any_of(ctx.consumer->groups.begin(), ctx.consumer->groups.end(),
                          [&](const std::string& g) {
                            return std::find(groups.begin(), groups.end(), g) != groups.end();
                          });
    if (!in) return false;
  }
  return true;
}

void read_rule_match(ConfigReader& cr, const YAML::Node& n, const std::string& field,
                     const ConsumerSet* consumers, RuleMatch& out) {
  if (!n.IsMap()) {
    cr.fail(field, "invalid_type",
            "expected a mapping with headers, cookies, query, consumers or groups");
    return;
  }
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    std::string f = field + "." + key;
    if (key == "headers") {
      read_conditions(cr, kv.second, f, true, out.headers);
    } else if (key == "cookies") {
      read_conditions(cr, kv.second, f, false, out.cookies);
    } else if (key == "query") {
      read_conditions(cr, kv.second, f, false, out.query);
    } else if (key == "consumers") {
      out.consumers = read_names(cr, kv.second, f);
      for (size_t i = 0; i < out.consumers.size(); ++i) {
        // A misspelt name would silently never match: the cohort must exist.
        if (consumers && !consumers->find(out.consumers[i]))
          cr.fail(f + "[" + std::to_string(i) + "]", "unknown_consumer",
                  "no consumer named '" + out.consumers[i] + "'");
      }
    } else if (key == "groups") {
      out.groups = read_names(cr, kv.second, f);
    } else {
      cr.fail(
          f, "unknown_field",
          "unknown field '" + key + "' (expected headers, cookies, query, consumers or groups)");
    }
  }
}

}  // namespace gatehouse::policy
