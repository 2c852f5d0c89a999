#include "config/load_aws.hpp"

#include "config/aws_profile.hpp"

namespace gatehouse::config::detail {

void parse_llm_aws(Reader& r, const Slot* a, LlmProviderConfig& p) {
  std::string source;
  if (a) {
    Fields af(r, *a, {"source", "profile", "access_key_id", "secret_access_key", "session_token"});
    af.read("source", source);
    af.read("access_key_id", p.aws_access_key_id);
    af.read("secret_access_key", p.aws_secret_access_key);
    af.read("session_token", p.aws_session_token);
    af.read("profile", p.aws_profile);
    const bool keys = !p.aws_access_key_id.empty() || !p.aws_secret_access_key.empty() ||
                      !p.aws_session_token.empty();
    if (const Slot* s = af.get("source")) {
      if (source != "chain" && source != "static") {
        r.fail(*s, "invalid_value", "source is \"static\" (the keys given here) or \"chain\"");
        source = keys ? "static" : "chain";  // one error, not a cascade about keys
      }
    } else {
      source = keys ? "static" : "chain";  // `aws: {profile: dev}` is the chain
    }
    if (source == "chain" && keys)
      for (const char* k : {"access_key_id", "secret_access_key", "session_token"})
        if (const Slot* s = af.get(k))
          r.fail(*s, "invalid_value",
                 std::string("source chain finds its own credentials; drop ") + k +
                     " or use source static");
    if (const Slot* s = af.get("profile")) {
      if (source != "chain")
        r.fail(*s, "invalid_value", "profile applies to source chain (no static keys)");
      else if (!aws::valid_profile_name(p.aws_profile))
        r.fail(*s, "invalid_value",
               "a profile name is printable, without spaces, brackets, quotes, '#' or ';'");
    }
  } else {
    source = p.kind == LlmProviderKind::kBedrock ? "chain" : "";
  }
  p.aws_chain = source == "chain";
  // Like the AWS SDKs: the environment, then the profile's region.
  if (p.kind == LlmProviderKind::kBedrock && p.region.empty())
    p.region = aws::default_region(p.aws_profile);
}

}  // namespace gatehouse::config::detail
