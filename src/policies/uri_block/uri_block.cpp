// uri-block: refuses requests whose path (and optionally query) contains a
// blocked pattern: scanners' favourite targets (/.git, /wp-admin, ...) and
// internal endpoints that must not be reachable from outside.
#include <string>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/query.hpp"
#include "policies/uri_block/regex_set.hpp"

namespace gatehouse::policy {

namespace {

class UriBlock final : public Policy {
 public:
  RegexSet patterns;
  int status = 403;
  bool match_query = false;

  std::string_view name() const override { return "uri-block"; }
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    const std::string& path = ctx.target->path;
    // The canonical path already has unreserved %XX decoded and dot-segments
    // removed, so "/%2e%67it" is "/.git" here. Escapes that stay (%3C, %20,
    // ...) are decoded for a second look, so a pattern written with the
    // character itself still sees them.
    bool escaped = path.find('%') != std::string::npos;
    if (patterns.matches(path) || (escaped && patterns.matches(percent_decode(path, false))))
      return reject(out);
    if (match_query) {
      std::string_view q = ctx.query_overridden ? std::string_view(ctx.query_override)
                                                : std::string_view(ctx.target->query);
      if (!q.empty()) {
        std::string full = path;
        full += '?';
        full += q;
        if (patterns.matches(full)) return reject(out);
        if (q.find_first_of("%+") != std::string_view::npos) {
          full.resize(path.size() + 1);
          full += percent_decode(q, true);
          if (patterns.matches(full)) return reject(out);
        }
      }
    }
    return Action::kContinue;
  }

 private:
  Action reject(Respond& out) const {
    out.status = status;
    out.code = "uri_blocked";
    // The pattern is not named: it would tell a scanner how to get around it.
    out.detail = "the requested URI is blocked";
    return Action::kRespond;
  }
};

}  // namespace

void register_uri_block(Registry& r) {
  r.add("uri-block",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"patterns", "status", "match_query"});
          auto p = std::make_shared<UriBlock>();
          if (!cr.has("patterns")) cr.fail("patterns", "missing_field", "'patterns' is required");
          YAML::Node n = cr.node("patterns");
          auto list = cr.strings("patterns");
          for (size_t i = 0; i < list.size(); ++i) {
            std::string err;
            std::string_view re = strip_regex_marker(list[i]);
            std::string field = n.IsSequence() ? "patterns[" + std::to_string(i) + "]" : "patterns";
            if (re.empty()) {
              cr.fail(field, "invalid_regex", "empty pattern would block every request");
            } else if (!p->patterns.add(re, err)) {
              cr.fail(field, "invalid_regex", "'" + list[i] + "' is not a valid RE2 regex: " + err);
            }
          }
          if (cr.has("patterns") && n.IsSequence() && n.size() == 0)
            cr.fail("patterns", "invalid_value", "'patterns' is empty");
          if (std::string err; !p->patterns.compile(err)) cr.fail("patterns", "invalid_regex", err);
          p->status = static_cast<int>(cr.integer("status", 403, 400, 599));
          p->match_query = cr.boolean("match_query", false);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
