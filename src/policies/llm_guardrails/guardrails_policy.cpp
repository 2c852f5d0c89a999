#include "policies/llm_guardrails/guardrails_policy.hpp"

#include <yaml-cpp/yaml.h>

#include "ai/providers/http_call.hpp"
#include "common/strings.hpp"
#include "policies/config_reader.hpp"

namespace gatehouse::policy {

namespace {

namespace gr = ai::guardrails;

class LlmGuardrails final : public Policy, public llm_guardrails::GuardrailsFace {
 public:
  explicit LlmGuardrails(gr::GuardConfig cfg) : guard_(std::move(cfg)) {}
  std::string_view name() const override { return "llm-guardrails"; }
  Phase phase() const override { return Phase::kTransform; }
  Action on_request(RequestContext&, Respond&) const override { return Action::kContinue; }
  const gr::Guard& guard() const override { return guard_; }

 private:
  gr::Guard guard_;
};

std::optional<gr::Action> parse_action(const std::string& s, bool allow_mask) {
  if (s == "off") return gr::Action::kOff;
  if (s == "block") return gr::Action::kBlock;
  if (s == "mask" && allow_mask) return gr::Action::kMask;
  return std::nullopt;
}

std::string scalar(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : std::string();
}

// `scan: [text, tool_arguments, thinking]`: which parts; all when absent.
void read_scan(ConfigReader& cr, const YAML::Node& n, gr::GuardConfig& g) {
  if (!n) return;
  if (!n.IsSequence() || n.size() == 0) {
    cr.fail("scan", "invalid_type", "expected a list of text, tool_arguments and/or thinking");
    return;
  }
  g.scan_text = g.scan_tool_arguments = g.scan_thinking = false;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string v = scalar(n[i]);
    if (v == "text")
      g.scan_text = true;
    else if (v == "tool_arguments")
      g.scan_tool_arguments = true;
    else if (v == "thinking")
      g.scan_thinking = true;
    else
      cr.fail("scan[" + std::to_string(i) + "]", "invalid_value",
              "expected text, tool_arguments or thinking");
  }
}

// `check: [prompt, completion]`: which directions; both when absent.
void read_check(ConfigReader& cr, const YAML::Node& n, const std::string& key, bool& prompt,
                bool& completion) {
  if (!n) return;
  if (!n.IsSequence() || n.size() == 0) {
    cr.fail(key, "invalid_type", "expected a list of prompt and/or completion");
    return;
  }
  prompt = completion = false;
  for (size_t i = 0; i < n.size(); ++i) {
    std::string v = scalar(n[i]);
    if (v == "prompt")
      prompt = true;
    else if (v == "completion")
      completion = true;
    else
      cr.fail(key + "[" + std::to_string(i) + "]", "invalid_value",
              "expected prompt or completion");
  }
}

void read_moderation(ConfigReader& cr, const YAML::Node& n, gr::GuardConfig& g) {
  const std::string k = "moderation";
  if (!n.IsMap()) {
    cr.fail(k, "invalid_type",
            "expected a mapping with url (and timeout, on_error, api_key, model)");
    return;
  }
  gr::ModerationConfig m;
  for (const auto& kv : n) {
    std::string f = kv.first.as<std::string>("");
    if (f != "url" && f != "timeout" && f != "on_error" && f != "api_key" && f != "model" &&
        f != "check" && f != "stream_window")
      cr.fail(k + "." + f, "unknown_field",
              "unknown field '" + f +
                  "' (url, timeout, on_error, api_key, model, check, stream_window)");
  }
  m.url = scalar(n["url"]);
  std::string why;
  if (m.url.empty()) {
    cr.fail(k + ".url", "missing_field",
            "the moderation endpoint, e.g. http://mod:8080/v1/moderations");
  } else if (!config::parse_http_url(m.url, m.parsed, why)) {
    cr.fail(k + ".url", "invalid_value", why);
  } else if (m.parsed.scheme == "https") {
    config::LlmProviderConfig pc;
    pc.base_url = m.url;
    auto tls = ai::providers::provider_tls_context(pc);
    if (!tls)
      cr.fail(k + ".url", "invalid_value", tls.error().message);
    else
      m.tls = tls.value();
  }
  if (n["timeout"]) {
    auto ms = parse_duration_ms(scalar(n["timeout"]));
    if (!ms || *ms < 1 || *ms > 60'000)
      cr.fail(k + ".timeout", "invalid_value", "a duration from 1ms to 60s, e.g. 2s");
    else
      m.timeout_ms = *ms;
  }
  if (n["on_error"]) {
    std::string v = scalar(n["on_error"]);
    if (v == "pass")
      m.fail_closed = false;
    else if (v == "block")
      m.fail_closed = true;
    else
      cr.fail(k + ".on_error", "invalid_value", "pass (fail open) or block (fail closed)");
  }
  m.api_key = scalar(n["api_key"]);
  m.model = scalar(n["model"]);
  read_check(cr, n["check"], k + ".check", m.prompt, m.completion);
  if (n["stream_window"]) {
    const int64_t w = n["stream_window"].as<int64_t>(-1);
    if (w < 64 || w > 65536)
      cr.fail(k + ".stream_window", "invalid_value", "an integer from 64 to 65536 (bytes)");
    else
      m.stream_window = static_cast<size_t>(w);
  }
  g.moderation = std::move(m);
}

}  // namespace

void register_llm_guardrails(Registry& r) {
  r.add("llm-guardrails",
        [](const config::PolicyRef& ref,
           const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
          ConfigReader cr(ref, ctx.field);
          cr.allow_only({"pii", "deny", "max_prompt_chars", "max_prompt_tokens", "check",
                         "stream_window", "moderation", "scan"});
          gr::GuardConfig g;
          if (YAML::Node pii = cr.node("pii")) {
            if (!pii.IsMap()) {
              cr.fail("pii", "invalid_type",
                      "expected a mapping of type -> action, e.g. {email: mask, card: block}");
            } else {
              for (const auto& kv : pii) {
                std::string t = kv.first.as<std::string>("");
                auto type = gr::parse_pii(t);
                auto act = parse_action(scalar(kv.second), true);
                if (!type)
                  cr.fail("pii." + t, "unknown_field",
                          "unknown PII type '" + t + "' (email, phone, card, api_key, ip)");
                else if (!act)
                  cr.fail("pii." + t, "invalid_value", "expected mask, block or off");
                else
                  g.pii[static_cast<size_t>(*type)] = *act;
              }
            }
          }
          if (YAML::Node deny = cr.node("deny")) {
            if (!deny.IsSequence()) {
              cr.fail("deny", "invalid_type", "expected a list of {name, pattern, action}");
            } else {
              for (size_t i = 0; i < deny.size(); ++i) {
                const std::string k = "deny[" + std::to_string(i) + "]";
                const YAML::Node d = deny[i];
                gr::DenyRule rule;
                std::string pattern = d.IsScalar() ? d.Scalar() : scalar(d["pattern"]);
                std::string name = d.IsMap() ? scalar(d["name"]) : std::string();
                if (d.IsMap()) {
                  for (const auto& kv : d) {
                    std::string f = kv.first.as<std::string>("");
                    if (f != "name" && f != "pattern" && f != "action")
                      cr.fail(k + "." + f, "unknown_field",
                              "unknown field '" + f + "' (name, pattern, action)");
                  }
                  if (d["action"]) {
                    auto a = parse_action(scalar(d["action"]), true);
                    if (!a || *a == gr::Action::kOff)
                      cr.fail(k + ".action", "invalid_value", "block or mask");
                    else
                      rule.action = *a;
                  }
                }
                if (pattern.empty()) {
                  cr.fail(k + ".pattern", "missing_field",
                          "an RE2 pattern, e.g. \"(?i)ignore previous instructions\"");
                  continue;
                }
                re2::RE2::Options o;
                o.set_log_errors(false);
                auto re = std::make_shared<const re2::RE2>(pattern, o);
                if (!re->ok()) {
                  cr.fail(k + ".pattern", "invalid_value", "not an RE2 pattern: " + re->error());
                  continue;
                }
                rule.re = std::move(re);
                rule.name = "deny." + (name.empty() ? std::to_string(i) : name);
                g.deny.push_back(std::move(rule));
              }
            }
          }
          g.max_prompt_chars = cr.integer("max_prompt_chars", 0, 0, 1'000'000'000);
          g.max_prompt_tokens = cr.integer("max_prompt_tokens", 0, 0, 1'000'000'000);
          g.stream_window = static_cast<size_t>(cr.integer("stream_window", 256, 16, 65536));
          read_check(cr, cr.node("check"), "check", g.prompt, g.completion);
          read_scan(cr, cr.node("scan"), g);
          if (YAML::Node m = cr.node("moderation")) read_moderation(cr, m, g);
          if (ctx.route && !ctx.route->llm)
            cr.fail(
                "", "invalid_value",
                "llm-guardrails checks LLM prompts and completions: attach it to a route with an "
                "llm: block (or globally)");
          if (auto r2 = cr.finish(); !r2) return r2.error();
          return std::shared_ptr<const Policy>(std::make_shared<LlmGuardrails>(std::move(g)));
        });
}

}  // namespace gatehouse::policy
