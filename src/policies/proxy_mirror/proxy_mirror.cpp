// proxy-mirror: sends a sampled copy of requests to a shadow upstream. The
// copy is fire-and-forget (see src/proxy/mirror.cpp): its answer is read and
// dropped, and it never delays or fails the primary request.
#include <random>

#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

class ProxyMirror final : public Policy {
 public:
  int upstream = -1;
  double sample_percent = 100.0;

  std::string_view name() const override { return "proxy-mirror"; }
  Phase phase() const override { return Phase::kRoute; }

  Action on_request(RequestContext& ctx, Respond&) const override {
    if (sample_percent < 100.0) {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      double roll = std::uniform_real_distribution<double>(0.0, 100.0)(rng);
      if (roll >= sample_percent) return Action::kContinue;
    }
    ctx.mirror_upstream = upstream;
    return Action::kContinue;
  }
};

}  // namespace

void register_proxy_mirror(Registry& r) {
  r.add("proxy-mirror", [](const config::PolicyRef& ref,
                           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"upstream", "sample"});
    auto p = std::make_shared<ProxyMirror>();
    std::string up = cr.str("upstream");
    if (up.empty()) {
      cr.fail("upstream", "missing_field", "the shadow upstream is required");
    } else {
      p->upstream = ctx.upstream_index(up);
      if (p->upstream < 0) cr.fail("upstream", "unknown_upstream", "no upstream named '" + up + "'");
    }
    p->sample_percent = cr.number("sample", 100.0, 0.0, 100.0);
    if (auto res = cr.finish(); !res) return res.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
