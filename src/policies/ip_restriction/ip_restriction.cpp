// ip-restriction: allows or denies requests by client address. Lists are
// compiled into merged range tables once per snapshot (ip_set.hpp), so a
// request costs one address parse and a binary search per list.
#include <string>
#include <vector>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/ip_restriction/ip_set.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

namespace {

constexpr const char* kCode = "ip_forbidden";

class IpRestriction final : public Policy {
 public:
  ip::Set allow;
  ip::Set deny;
  ip::Set trusted;
  bool has_allow = false;  // an allow list exists: addresses outside it are rejected
  int status = 403;

  std::string_view name() const override { return "ip-restriction"; }
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    auto peer = ip::parse_reported_address(ctx.client_ip);
    if (!peer) {
      // Only a unix socket or a broken peer has no address; neither can prove
      // it is allowed.
      return reject(out, "the client address could not be determined");
    }
    ip::Address client = *peer;
    if (!trusted.empty() && trusted.contains(client)) {
      std::string why;
      if (!client_behind_proxies(ctx, client, why)) return reject(out, why);
    }
    // Deny wins over allow, so a narrow deny can carve a hole out of a wide allow.
    if (deny.contains(client) || (has_allow && !allow.contains(client)))
      return reject(out, "client address " + ip::format_address(client) + " is not allowed");
    return Action::kContinue;
  }

 private:
  // The peer is a trusted proxy: the client is the right-most X-Forwarded-For
  // entry that is not itself a trusted proxy. Entries to the left of it were
  // written by whoever the client is and prove nothing. When every entry is a
  // trusted proxy, the left-most one is the farthest hop known.
  bool client_behind_proxies(const RequestContext& ctx, ip::Address& client,
                             std::string& why) const {
    // Entries of all X-Forwarded-For fields, in order (RFC 9110 5.3: several
    // fields are one comma-joined list).
    std::vector<std::string_view> hops;
    for (const auto& h : ctx.head->headers) {
      if (!iequals(h.name, "x-forwarded-for")) continue;
      std::string_view v = h.value;
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view item = trim_ows(v.substr(0, comma));
        if (!item.empty()) hops.push_back(item);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
    for (size_t i = hops.size(); i-- > 0;) {
      auto a = ip::parse_reported_address(hops[i]);
      if (!a) {
        // A trusted proxy wrote this entry (everything to its right is
        // trusted), yet it is not an address: fail closed rather than guess.
        why = "X-Forwarded-For entry '" + std::string(hops[i].substr(0, 64)) +
              "' from a trusted proxy is not an IP address";
        return false;
      }
      client = *a;
      if (!trusted.contains(*a)) return true;
    }
    return true;
  }

  Action reject(Respond& out, std::string detail) const {
    out.status = status;
    out.code = kCode;
    out.detail = std::move(detail);
    return Action::kRespond;
  }
};

// Reads one list of CIDRs; each bad entry is reported with its own index.
void read_cidrs(ConfigReader& cr, const char* key, ip::Set& set) {
  YAML::Node n = cr.node(key);
  std::vector<std::string> items = cr.strings(key);
  // strings() already reported a non-list; per-item errors need the index.
  if (n && n.IsSequence() && items.size() != n.size()) return;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string why;
    auto c = ip::parse_cidr(trim_ows(items[i]), why);
    if (!c) {
      std::string field = n.IsSequence() ? std::string(key) + "[" + std::to_string(i) + "]" : key;
      cr.fail(field, "invalid_cidr", why);
      continue;
    }
    set.add(*c);
  }
  set.compile();
}

}  // namespace

void register_ip_restriction(Registry& r) {
  r.add("ip-restriction", [](const config::PolicyRef& ref,
                             const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"allow", "deny", "trusted_proxies", "status"});
    auto p = std::make_shared<IpRestriction>();
    read_cidrs(cr, "allow", p->allow);
    read_cidrs(cr, "deny", p->deny);
    read_cidrs(cr, "trusted_proxies", p->trusted);
    p->status = static_cast<int>(cr.integer("status", 403, 400, 599));
    p->has_allow = cr.has("allow");
    if (!cr.has("allow") && !cr.has("deny"))
      cr.fail("", "invalid_value", "ip-restriction needs an 'allow' or a 'deny' list");
    else if (YAML::Node a = cr.node("allow"); a && a.IsSequence() && a.size() == 0)
      // An empty allow list locks everyone out, which is never what was meant.
      cr.fail("allow", "invalid_value", "'allow' is empty: it would reject every request");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
