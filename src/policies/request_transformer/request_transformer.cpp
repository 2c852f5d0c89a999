// request-transformer: edits the request's headers and query string before it
// is proxied (add / set / append / remove / rename, values with templates).
// Everything is validated and compiled when the config is built; a request
// only expands values and edits its header list.
#include "policies/config_reader.hpp"
#include "common/strings.hpp"
#include "policies/policy.hpp"
#include "policies/request_transformer/edits.hpp"

namespace gatehouse::policy {

namespace {

class RequestTransformer final : public Policy {
 public:
  Edits headers;
  Edits query;

  std::string_view name() const override { return "request-transformer"; }
  Phase phase() const override { return Phase::kTransform; }

  Action on_request(RequestContext& ctx, Respond& /*out*/) const override {
    TemplateEnv env{&ctx, ctx.query_overridden ? std::string_view(ctx.query_override)
                                               : std::string_view(ctx.target->query)};
    // Both sets of values are expanded before either is applied, so a query
    // template sees the request headers as they arrived, and vice versa.
    Expanded header_values, query_values;
    if (!headers.empty()) expand_edits(headers, env, true, header_values);
    if (!query.empty()) expand_edits(query, env, false, query_values);
    if (!headers.empty()) {
      apply_header_edits(headers, header_values, ctx.head->headers);
      // The proxy writes Host itself; a `set: {Host: ..}` must reach it.
      for (const auto& op : headers.set) {
        if (iequals(op.name, "host")) {
          if (const std::string* h = ctx.head->find("host")) ctx.upstream_host = *h;
        }
      }
    }
    if (!query.empty()) {
      std::string out;
      if (apply_query_edits(query, query_values, env.query, out)) {
        ctx.query_override = std::move(out);
        ctx.query_overridden = true;
      }
    }
    return Action::kContinue;
  }
};

}  // namespace

void register_request_transformer(Registry& r) {
  r.add("request-transformer",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"headers", "query"});
          auto p = std::make_shared<RequestTransformer>();
          read_edits(cr, "headers", EditTarget::kRequestHeaders, p->headers);
          read_edits(cr, "query", EditTarget::kQuery, p->query);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
