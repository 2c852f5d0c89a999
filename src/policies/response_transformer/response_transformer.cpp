// response-transformer: edits the response headers from the upstream before
// they are sent to the client (add / set / append / remove / rename, values
// with the same templates as request-transformer). JSON body edits need the
// body hooks and will come with them.
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/request_transformer/edits.hpp"

namespace gatehouse::policy {

namespace {

class ResponseTransformer final : public Policy {
 public:
  Edits headers;

  std::string_view name() const override { return "response-transformer"; }
  Phase phase() const override { return Phase::kTransform; }

  Action on_request(RequestContext& /*ctx*/, Respond& /*out*/) const override {
    return Action::kContinue;
  }

  void on_response(RequestContext& ctx, int /*status*/,
                   std::vector<http1::Header>& response) const override {
    TemplateEnv env{&ctx, ctx.query_overridden ? std::string_view(ctx.query_override)
                          : ctx.target         ? std::string_view(ctx.target->query)
                                               : std::string_view{}};
    Expanded values;
    expand_edits(headers, env, true, values);
    apply_header_edits(headers, values, response);
  }
};

}  // namespace

void register_response_transformer(Registry& r) {
  r.add("response-transformer",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"headers", "json"});
          // Reserved so a config written for the coming body edits fails loudly
          // instead of being half applied.
          if (cr.has("json"))
            cr.fail("json", "not_supported",
                    "JSON body edits are not available yet (they need the response body hooks); "
                    "only 'headers' can be transformed");
          auto p = std::make_shared<ResponseTransformer>();
          read_edits(cr, "headers", EditTarget::kResponseHeaders, p->headers);
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(p);
        });
}

}  // namespace gatehouse::policy
