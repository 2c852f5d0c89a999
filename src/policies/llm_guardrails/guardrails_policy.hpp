// llm-guardrails: the policy face of src/ai/guardrails. The request hook does
// nothing; the AI route finds the guardrail policies that ran (dynamic_cast,
// like llm-token-limit) and hands their compiled Guards to the gateway, which
// checks prompts before the provider call and completions on the way back.
#pragma once

#include <memory>

#include "ai/guardrails/guardrails.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_guardrails {

class GuardrailsFace {
 public:
  virtual ~GuardrailsFace() = default;
  virtual const ai::guardrails::Guard& guard() const = 0;
};

}  // namespace gatehouse::policy::llm_guardrails
