// Guardrails on LLM prompts and completions: PII detection (detect.hpp) with
// mask or block per type, deny patterns (RE2), a maximum prompt size and an
// external moderation hook (moderation.hpp). A Guard is compiled once per
// snapshot by the llm-guardrails policy and shared by every worker; the per
// request pieces are Findings (what was found, for the log and metrics) and
// StreamGuard (the sliding window over a streamed completion).
#pragma once

#include <re2/re2.h>

#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ai/guardrails/detect.hpp"
#include "ai/guardrails/json_lex.hpp"
#include "ai/translate/ir.hpp"
#include "ai/translate/stream.hpp"
#include "config/loader.hpp"
#include "net/asio.hpp"

namespace gatehouse::ai::guardrails {

enum class Action : uint8_t { kOff, kMask, kBlock };
enum class Direction : uint8_t { kPrompt, kCompletion };

// Process-wide counters, one per (rule, action, direction), created on the
// control thread when a Guard is compiled and never destroyed; workers add
// with a relaxed atomic.
struct RuleCounter {
  std::atomic<uint64_t> n{0};
  void inc() { n.fetch_add(1, std::memory_order_relaxed); }
};
RuleCounter* rule_counter(const std::string& rule, Action a, Direction d);
// gatehouse_llm_guardrail_total{rule,action,direction} in text exposition.
std::string render_guardrail_metrics();

struct DenyRule {
  std::string name;  // rule name: "deny.<name>"
  std::shared_ptr<const re2::RE2> re;
  Action action = Action::kBlock;
};

struct ModerationConfig {
  std::string url;  // http(s)://host[:port]/path, OpenAI moderation format
  config::HttpUrl parsed;
  std::shared_ptr<asio::ssl::context> tls;  // https only
  std::string api_key;                      // sent as a Bearer token when set
  std::string model;                        // sent as "model" when set
  int64_t timeout_ms = 2000;
  bool fail_closed = false;  // hook unreachable or unreadable: refuse (503) instead of pass
  bool prompt = true;
  bool completion = true;
  // Streamed completions: bytes of released text per hook call (the client
  // gets a window's frames once the hook passed them).
  size_t stream_window = 1024;
};

struct GuardConfig {
  std::array<Action, kPiiTypes> pii{};  // kOff by default
  std::vector<DenyRule> deny;
  int64_t max_prompt_chars = 0;   // 0: no limit
  int64_t max_prompt_tokens = 0;  // 0: no limit (estimated with the tokenizer)
  bool prompt = true;             // check prompts
  bool completion = true;         // check completions
  // Which parts PII and deny rules read (`scan`): text (and refusals, tool
  // results), tool-call arguments (JSON text), thinking blocks.
  bool scan_text = true;
  bool scan_tool_arguments = true;
  bool scan_thinking = true;
  size_t stream_window = 256;  // bytes of a streamed completion held back
  std::optional<ModerationConfig> moderation;
};

// What one request ran into. Rule names only, never the matched text.
struct Findings {
  std::string blocked;  // the rule that blocked, e.g. "pii.card", "deny.jailbreak"
  Direction blocked_in = Direction::kPrompt;
  std::vector<std::pair<std::string, uint32_t>> masked;  // rule -> count
  std::string moderation_error;  // the hook failed (fail-open passes, noted here)
  void add_mask(std::string_view rule);
  size_t total_masked() const;  // masks over every rule
  // "blocked:pii.card" / "masked:pii.email=2,deny.x=1" for the access log; "" when clean.
  std::string summary() const;
};

// One match in a text: the rule, its action, and where.
struct Hit {
  size_t begin = 0;
  size_t end = 0;
  std::string_view rule;  // points into static or Guard-owned storage
  std::string_view mask;
  Action action = Action::kMask;
};

class Guard {
 public:
  explicit Guard(GuardConfig cfg);
  const GuardConfig& config() const { return cfg_; }

  // Every PII and deny match in `text`, sorted by begin, non-overlapping.
  void scan(std::string_view text, std::vector<Hit>& out) const;
  // Masks `text` in place (whole text known). Returns false, with
  // f.blocked set, when a blocking rule matched; counts every hit. `json`:
  // the text is JSON (tool-call arguments): a match inside a string is masked
  // in place, a bare number becomes the mask as a string, and a mask that
  // would cut through the JSON's structure blocks instead. `masked` is set
  // when something was masked.
  bool apply(std::string& text, Direction d, Findings& f, bool json = false,
             bool* masked = nullptr) const;

  // Prompt checks without I/O: size limits, then PII and deny patterns over
  // every part `scan` names (text of every role, tool results, tool-call
  // arguments, thinking; a masked thinking block loses its signature, which
  // no longer matches). Masks in place.
  // `tokens` is the estimated prompt size. False when blocked (f.blocked, and
  // `why` for the client).
  bool check_prompt(Request& req, int64_t tokens, Findings& f, std::string& why) const;
  // A whole completion: text, refusal, tool-call and thinking parts (per
  // `scan`). False when blocked.
  bool check_completion(Response& r, Findings& f, std::string& why) const;

  void count(std::string_view rule, Action a, Direction d) const;

 private:
  GuardConfig cfg_;
  PiiSet pii_set_ = 0;
  std::vector<std::string> pii_rules_;  // "pii.<type>" by PiiType
};

// The text of a request for the moderation hook: every text part, tool-call
// arguments and thinking.
std::vector<std::string> prompt_texts(const Request& req);
std::string completion_text(const Response& r);

// A streamed completion through the guards: text deltas are held back by
// `stream_window` bytes per block so a match split across deltas is still
// seen whole; masked text goes out as rewritten deltas, a blocking match ends
// the stream with an in-band error (the held text never reaches the client).
class StreamGuard final : public EventFilter {
 public:
  StreamGuard(std::vector<const Guard*> guards, Findings& f) : guards_(std::move(guards)), f_(f) {}
  bool active() const { return !guards_.empty(); }
  void filter(const StreamEvent& e, std::vector<StreamEvent>& out,
              std::optional<ErrorInfo>& stop) override;
  // Text released to the client since the last call (deltas of every kind
  // but signatures), for the moderation hook.
  std::string take_released() { return std::exchange(released_, {}); }

 private:
  struct Pending {
    size_t index = 0;
    DeltaKind kind = DeltaKind::kText;
    std::string text;  // context (already sent) + held text
    size_t ctx = 0;    // bytes of context at the front
    JsonLex lex;       // tool-call arguments: the JSON lexer's state at text[0]
  };
  bool scans(DeltaKind k) const;
  // Releases what is safe (all of it when `final`), masked; false when blocked.
  bool release(Pending& p, bool final, std::vector<StreamEvent>& out,
               std::optional<ErrorInfo>& stop);
  bool flush_all(std::vector<StreamEvent>& out, std::optional<ErrorInfo>& stop);
  size_t window() const;

  std::vector<const Guard*> guards_;
  Findings& f_;
  std::vector<Pending> pending_;
  std::vector<Hit> hits_;
  std::vector<size_t> masked_thinking_;  // blocks whose signature is dropped
  std::string released_;
  std::string classes_;  // scratch: JSON byte classes
};

// The in-band error a blocked completion ends with.
ErrorInfo blocked_error(const Findings& f);

}  // namespace gatehouse::ai::guardrails
