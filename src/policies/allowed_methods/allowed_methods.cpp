// allowed-methods: answers 405 (with the Allow header RFC 9110 15.5.6
// requires) for methods a route does not accept, before any other work.
#include <algorithm>
#include <string>
#include <vector>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

class AllowedMethods final : public Policy {
 public:
  std::vector<std::string> methods;  // upper-case, in config order, HEAD added after GET
  std::string allow_header;          // precomputed "GET, HEAD, POST"

  std::string_view name() const override { return "allowed-methods"; }
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    // Methods are case-sensitive (RFC 9110 9.1): "get" is not GET.
    for (const auto& m : methods)
      if (m == ctx.head->method) return Action::kContinue;
    out.status = 405;
    out.code = "method_not_allowed";
    out.detail = "method " + ctx.head->method.substr(0, 32) + " is not allowed here (allowed: " +
                 allow_header + ")";
    out.headers.push_back({"Allow", allow_header});
    return Action::kRespond;
  }
};

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!http1::is_tchar(c)) return false;
  return true;
}

}  // namespace

void register_allowed_methods(Registry& r) {
  r.add("allowed-methods", [](const config::PolicyRef& ref,
                              const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"methods"});
    auto p = std::make_shared<AllowedMethods>();
    if (!cr.has("methods")) cr.fail("methods", "missing_field", "'methods' is required");
    auto list = cr.strings("methods");
    YAML::Node n = cr.node("methods");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string m = list[i];
      // Written in lower case in YAML is a habit, not a wish for a
      // lower-case method; the router treats them the same way.
      for (auto& c : m) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      if (!is_token(m)) {
        cr.fail(n.IsSequence() ? "methods[" + std::to_string(i) + "]" : "methods",
                "invalid_value", "'" + list[i] + "' is not an HTTP method name");
        continue;
      }
      if (std::find(p->methods.begin(), p->methods.end(), m) == p->methods.end())
        p->methods.push_back(std::move(m));
    }
    if (cr.has("methods") && n.IsSequence() && n.size() == 0)
      cr.fail("methods", "invalid_value", "'methods' is empty: it would reject every request");
    // HEAD is GET without a body (RFC 9110 9.3.2): a route that serves GET
    // serves HEAD, as the router assumes too.
    if (std::find(p->methods.begin(), p->methods.end(), "GET") != p->methods.end() &&
        std::find(p->methods.begin(), p->methods.end(), "HEAD") == p->methods.end())
      p->methods.insert(std::find(p->methods.begin(), p->methods.end(), "GET") + 1, "HEAD");
    for (const auto& m : p->methods) p->allow_header += (p->allow_header.empty() ? "" : ", ") + m;
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
