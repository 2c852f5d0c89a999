// Value templates for the transformer policies. "$(consumer.name)" and the
// other variables are parsed once, when the config is compiled, into literal
// and variable pieces: a request only looks values up and concatenates.
//
// Syntax: "$(" name ")" where name is one of consumer.name, route.name,
// request_id, client_ip, header.<name>, query.<name>, var.<name>. "$$(" is a
// literal "$("; any other '$' is literal text (so "$5" needs no escaping).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {

// What a template can read. Everything refers to the request, including in
// response-transformer (a response header can echo a request header).
struct TemplateEnv {
  const RequestContext* ctx = nullptr;
  std::string_view query;  // the query as the policy found it (may be overridden already)
};

class Template {
 public:
  // Errors carry a code and message; the caller supplies the field path.
  static Result<Template> compile(std::string_view text);

  // Appends the expansion to `out`. False when a referenced value is absent
  // (no consumer, header / query parameter / var not present); `out` is then
  // unspecified.
  bool expand(const TemplateEnv& env, std::string& out) const;

  bool is_literal() const { return !has_vars_; }
  // The literal text pieces joined (what config-time validation looks at).
  std::string literal_text() const;

 private:
  enum class Kind {
    kLiteral,
    kConsumerName,
    kRouteName,
    kRequestId,
    kClientIp,
    kHeader,
    kQuery,
    kVar
  };
  struct Piece {
    Kind kind = Kind::kLiteral;
    std::string text;  // literal text, or the header / query / var name
  };
  std::vector<Piece> pieces_;
  bool has_vars_ = false;
};

// A named value edit (set / add / append) of headers or query parameters.
struct ValueOp {
  std::string name;
  Template value;
};

// Expands every op's value in order and appends one entry per op to `out`:
// nullopt when a referenced value is absent.
void expand_values(const std::vector<ValueOp>& ops, const TemplateEnv& env,
                   std::vector<std::optional<std::string>>& out);

}  // namespace gatehouse::policy
