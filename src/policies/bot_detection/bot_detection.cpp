// bot-detection: refuses clients by User-Agent. A User-Agent is trivially
// forged, so this keeps out noisy scanners and careless scripts, not a
// determined attacker; pair it with rate limits for that.
#include <string>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/uri_block/regex_set.hpp"

namespace gatehouse::policy {

namespace {

// Attack and vulnerability-scanning tools that announce themselves. Kept
// short and specific: a false positive here blocks real users.
constexpr const char* kBuiltinDeny[] = {
    "(?i)sqlmap",
    "(?i)nikto",
    "(?i)nmap scripting engine",
    "(?i)masscan",
    "(?i)zgrab",
    "(?i)\\bnuclei\\b",
    "(?i)acunetix",
    "(?i)netsparker",
    "(?i)wpscan",
    "(?i)dirbuster",
    "(?i)gobuster",
    "(?i)feroxbuster",
    "(?i)fuzz faster u fool",
    "(?i)\\bwfuzz\\b",
    "(?i)\\bw3af\\b",
    "(?i)havij",
    "(?i)\\bjorgee\\b",
    "(?i)\\bzmeu\\b",
    "(?i)\\bmorfeus\\b",
    "(?i)\\bopenvas\\b",
    "(?i)\\(hydra\\)",
    "(?i)\\bcommix\\b",
    "(?i)\\barachni\\b",
    "(?i)\\bskipfish\\b",
};

class BotDetection final : public Policy {
 public:
  RegexSet deny;   // the user's deny list plus, when enabled, the built-in one
  RegexSet allow;
  bool deny_missing = false;

  std::string_view name() const override { return "bot-detection"; }
  Phase phase() const override { return Phase::kPreAuth; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    // Every User-Agent field is judged: with two, an upstream might read
    // either one.
    bool seen = false;
    for (const auto& h : ctx.head->headers) {
      if (!iequals(h.name, "user-agent") || h.value.empty()) continue;
      seen = true;
      // Allow wins, so a deny pattern can be broad and the allow list carve
      // out the few known-good clients it would catch.
      if (deny.matches(h.value) && !allow.matches(h.value))
        return reject(out, "this User-Agent is not allowed");
    }
    if (!seen && deny_missing) return reject(out, "a User-Agent header is required");
    return Action::kContinue;
  }

 private:
  static Action reject(Respond& out, const char* detail) {
    out.status = 403;
    out.code = "bot_forbidden";
    out.detail = detail;
    return Action::kRespond;
  }
};

void read_patterns(ConfigReader& cr, const char* key, RegexSet& set) {
  YAML::Node n = cr.node(key);
  auto list = cr.strings(key);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string err;
    std::string_view re = strip_regex_marker(list[i]);
    std::string field = n.IsSequence() ? std::string(key) + "[" + std::to_string(i) + "]" : key;
    if (re.empty())
      cr.fail(field, "invalid_regex", "empty pattern would match every User-Agent");
    else if (!set.add(re, err))
      cr.fail(field, "invalid_regex", "'" + list[i] + "' is not a valid RE2 regex: " + err);
  }
}

}  // namespace

void register_bot_detection(Registry& r) {
  r.add("bot-detection", [](const config::PolicyRef& ref,
                            const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"allow", "deny", "builtin_deny", "deny_missing"});
    auto p = std::make_shared<BotDetection>();
    read_patterns(cr, "deny", p->deny);
    read_patterns(cr, "allow", p->allow);
    if (cr.boolean("builtin_deny", true)) {
      std::string err;
      for (const char* re : kBuiltinDeny)
        if (!p->deny.add(re, err)) cr.fail("builtin_deny", "internal", err);
    }
    p->deny_missing = cr.boolean("deny_missing", false);
    if (p->deny.empty() && !p->deny_missing)
      cr.fail("deny", "invalid_value",
              "nothing would be denied: add 'deny' patterns or leave builtin_deny on");
    for (auto* set : {&p->deny, &p->allow})
      if (std::string err; !set->compile(err)) cr.fail("deny", "invalid_regex", err);
    if (auto r2 = cr.finish(); !r2) return r2.error();
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
