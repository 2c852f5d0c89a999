// acl: lets a request through by who the authenticated consumer is. Entries
// name consumer groups or consumers; deny wins over allow. It runs after the
// authentication phase and never authenticates anyone itself.
#include <string>
#include <unordered_set>
#include <vector>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

constexpr const char* kGroupsHeader = "X-Consumer-Groups";
constexpr const char* kUsernameHeader = "X-Consumer-Username";

class Acl final : public Policy {
 public:
  std::unordered_set<std::string> allow;
  std::unordered_set<std::string> deny;
  bool forward_consumer_headers = true;

  std::string_view name() const override { return "acl"; }
  Phase phase() const override { return Phase::kAuthz; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    // Identity headers are the gateway's to write: a client copy would let a
    // caller claim groups to an upstream that trusts these headers.
    std::erase_if(ctx.head->headers, [](const http1::Header& h) {
      return iequals(h.name, kGroupsHeader) || iequals(h.name, kUsernameHeader);
    });
    const Consumer* c = ctx.consumer;
    if (!c) {
      // 403, not 401: acl offers no way to authenticate (a 401 must carry a
      // WWW-Authenticate challenge). Reaching here means no authentication
      // policy ran before acl, or one let an unidentified request through.
      return reject(out, "no consumer was identified; acl needs an authentication policy "
                         "(key-auth, ...) before it on this route");
    }
    if (matches(deny, *c)) return reject(out, "consumer '" + c->name + "' is denied");
    if (!allow.empty() && !matches(allow, *c))
      return reject(out, "consumer '" + c->name + "' is not in an allowed group");
    if (forward_consumer_headers) {
      std::string groups;
      for (const auto& g : c->groups) groups += (groups.empty() ? "" : ", ") + g;
      ctx.head->headers.push_back({kUsernameHeader, c->name});
      if (!groups.empty()) ctx.head->headers.push_back({kGroupsHeader, std::move(groups)});
    }
    return Action::kContinue;
  }

 private:
  static bool matches(const std::unordered_set<std::string>& set, const Consumer& c) {
    if (set.count(c.name)) return true;
    for (const auto& g : c.groups)
      if (set.count(g)) return true;
    return false;
  }

  static Action reject(Respond& out, std::string detail) {
    out.status = 403;
    out.code = "acl_forbidden";
    out.detail = std::move(detail);
    return Action::kRespond;
  }
};

// The alphabet config validation enforces for consumer and group names: an
// entry outside it could never match, so it is a typo worth reporting.
bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void read_names(ConfigReader& cr, const char* key, std::unordered_set<std::string>& out) {
  YAML::Node n = cr.node(key);
  auto items = cr.strings(key);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!is_name(items[i])) {
      cr.fail(n.IsSequence() ? std::string(key) + "[" + std::to_string(i) + "]" : key,
              "invalid_value",
              "'" + items[i].substr(0, 140) +
                  "' cannot be a group or consumer name (1-128 characters of A-Z a-z 0-9 . _ -)");
      continue;
    }
    out.insert(items[i]);
  }
}

}  // namespace

void register_acl(Registry& r) {
  r.add("acl", [](const config::PolicyRef& ref,
                  const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"allow", "deny", "forward_consumer_headers"});
    auto p = std::make_shared<Acl>();
    read_names(cr, "allow", p->allow);
    read_names(cr, "deny", p->deny);
    p->forward_consumer_headers = cr.boolean("forward_consumer_headers", true);
    if (!cr.has("allow") && !cr.has("deny"))
      cr.fail("", "invalid_value", "acl needs an 'allow' or a 'deny' list");
    else if (YAML::Node a = cr.node("allow"); a && a.IsSequence() && a.size() == 0)
      cr.fail("allow", "invalid_value", "'allow' is empty: it would reject every request");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
