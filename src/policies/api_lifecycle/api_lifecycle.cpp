// api-lifecycle: what an API version's lifecycle state means at the gateway.
// Written by the API deployment (src/apim/lifecycle), not by hand, though it
// is an ordinary policy. deprecated: every answer carries `Deprecation`
// (RFC 9745), `Sunset` (RFC 8594) and a successor `Link`; retired: 410
// problem+json pointing at the successor; blocked: 403.
#include <boost/json/serialize.hpp>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

class ApiLifecycle final : public Policy {
 public:
  enum class State { kDeprecated, kRetired, kBlocked } state = State::kDeprecated;
  std::vector<http1::Header> headers;  // Deprecation, Sunset, Link: built once
  std::string retired_body;            // problem+json, built once
  std::string api;

  std::string_view name() const override { return "api-lifecycle"; }
  // Before authentication: a retired API is gone for everyone.
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    switch (state) {
      case State::kDeprecated:
        for (const auto& h : headers) ctx.response_headers.push_back(h);
        return Action::kContinue;
      case State::kRetired:
        out.status = 410;
        out.headers = headers;
        out.body = retired_body;
        out.content_type = "application/problem+json";
        return Action::kRespond;
      case State::kBlocked:
        out.status = 403;
        out.code = "api_blocked";
        out.detail = "API " + api + " is blocked by its owner";
        return Action::kRespond;
    }
    return Action::kContinue;
  }
};

bool header_safe(const std::string& v) {
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

void register_api_lifecycle(Registry& r) {
  r.add(
      "api-lifecycle",
      [](const config::PolicyRef& ref,
         const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
        ConfigReader cr(ref, ctx.field);
        cr.allow_only({"state", "api", "deprecation", "sunset", "successor", "successor_version"});
        auto p = std::make_shared<ApiLifecycle>();
        std::string state = cr.choice("state", {"deprecated", "retired", "blocked"}, "");
        if (!cr.has("state")) cr.fail("state", "missing_field", "'state' is required");
        p->state = state == "retired"   ? ApiLifecycle::State::kRetired
                   : state == "blocked" ? ApiLifecycle::State::kBlocked
                                        : ApiLifecycle::State::kDeprecated;
        p->api = cr.str("api", "this API");
        int64_t deprecation = cr.integer("deprecation", 0, 0, 253402300799);
        std::string sunset = cr.str("sunset");
        std::string successor = cr.str("successor");
        std::string successor_version = cr.str("successor_version");
        for (const char* k : {"api", "sunset", "successor", "successor_version"})
          if (!header_safe(cr.str(k)))
            cr.fail(k, "invalid_value", std::string("'") + k + "' contains control characters");
        if (successor.find_first_of("<> ") != std::string::npos)
          cr.fail("successor", "invalid_value",
                  "'successor' must be a URI (no spaces or angle brackets)");
        if (deprecation > 0)
          p->headers.push_back({"Deprecation", "@" + std::to_string(deprecation)});
        if (!sunset.empty()) p->headers.push_back({"Sunset", sunset});
        if (!successor.empty())
          p->headers.push_back({"Link", "<" + successor + ">; rel=\"successor-version\""});
        boost::json::object body{
            {"type", "urn:gatehouse:problem:api_retired"},
            {"title", "Gone"},
            {"status", 410},
            {"code", "api_retired"},
            {"detail", p->api + " is retired" +
                           (successor_version.empty() ? std::string()
                                                      : "; use version " + successor_version)}};
        if (!successor_version.empty()) body["successor_version"] = successor_version;
        if (!successor.empty()) body["successor"] = successor;
        if (!sunset.empty()) body["sunset"] = sunset;
        p->retired_body = boost::json::serialize(body);
        if (auto r2 = cr.finish(); !r2) return r2.error();
        return std::shared_ptr<const Policy>(p);
      });
}

}  // namespace gatehouse::policy
