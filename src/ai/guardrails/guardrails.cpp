#include "ai/guardrails/guardrails.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "common/metrics.hpp"

namespace gatehouse::ai::guardrails {

namespace {

constexpr size_t kStreamContext = 64;  // sent bytes kept for the detectors' left boundary

std::string_view action_name(Action a) {
  return a == Action::kBlock ? "block" : a == Action::kMask ? "mask" : "off";
}
std::string_view direction_name(Direction d) {
  return d == Direction::kPrompt ? "prompt" : "completion";
}

struct Counters {
  std::mutex mu;  // control thread (compile) and scrapes only
  std::map<std::tuple<std::string, Action, Direction>, std::unique_ptr<RuleCounter>> map;
};
Counters& counters() {
  static Counters c;
  return c;
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Text parts of a message a guard reads and may rewrite.
template <class F>
void each_text(std::vector<Part>& parts, F&& f) {
  for (auto& p : parts) {
    if (p.kind == PartKind::kText || p.kind == PartKind::kRefusal) f(p.text);
    if (p.kind == PartKind::kToolResult) each_text(p.content, f);
  }
}

// The parts `scan` names, with what each is: f(text, json, signature or null).
template <class F>
void each_scanned(const GuardConfig& c, std::vector<Part>& parts, F&& f) {
  for (auto& p : parts) {
    if ((p.kind == PartKind::kText || p.kind == PartKind::kRefusal) && c.scan_text)
      f(p.text, false, nullptr);
    else if (p.kind == PartKind::kThinking && c.scan_thinking)
      f(p.text, false, &p.signature);
    else if (p.kind == PartKind::kToolCall && c.scan_tool_arguments)
      f(p.arguments, true, nullptr);
    else if (p.kind == PartKind::kToolResult && c.scan_text)
      each_scanned(c, p.content, f);
  }
}

// Every part a moderation hook should read.
const GuardConfig& all_parts() {
  static const GuardConfig c;
  return c;
}

void find_deny(const DenyRule& d, std::string_view text, std::vector<Hit>& out) {
  re2::StringPiece in(text.data(), text.size());
  re2::StringPiece m;
  size_t pos = 0;
  while (pos <= text.size() && d.re->Match(in, pos, text.size(), re2::RE2::UNANCHORED, &m, 1)) {
    size_t b = static_cast<size_t>(m.data() - text.data());
    size_t e = b + m.size();
    if (e > b) out.push_back({b, e, d.name, "[REDACTED]", d.action});
    pos = e > pos ? e : pos + 1;
  }
}

}  // namespace

RuleCounter* rule_counter(const std::string& rule, Action a, Direction d) {
  auto& c = counters();
  std::lock_guard lock(c.mu);
  auto& slot = c.map[{rule, a, d}];
  if (!slot) slot = std::make_unique<RuleCounter>();
  return slot.get();
}

std::string render_guardrail_metrics() {
  auto& c = counters();
  std::lock_guard lock(c.mu);
  std::string out =
      "# HELP gatehouse_llm_guardrail_total Guardrail hits on LLM prompts and completions by "
      "rule and action (mask, block; pass: a moderation hook failure let through).\n"
      "# TYPE gatehouse_llm_guardrail_total counter\n";
  for (const auto& [key, ctr] : c.map) {
    const auto& [rule, a, d] = key;
    out += "gatehouse_llm_guardrail_total{rule=\"" + metrics::label_escape(rule) + "\",action=\"" +
           std::string(a == Action::kOff ? "pass" : action_name(a)) + "\",direction=\"" +
           std::string(direction_name(d)) + "\"} " +
           std::to_string(ctr->n.load(std::memory_order_relaxed)) + "\n";
  }
  return out;
}

void Findings::add_mask(std::string_view rule) {
  for (auto& [r, n] : masked)
    if (r == rule) {
      ++n;
      return;
    }
  masked.emplace_back(std::string(rule), 1);
}

size_t Findings::total_masked() const {
  size_t n = 0;
  for (const auto& m : masked) n += m.second;
  return n;
}

std::string Findings::summary() const {
  std::string s;
  if (!blocked.empty()) s = "blocked:" + blocked;
  if (!masked.empty()) {
    if (!s.empty()) s += ' ';
    s += "masked:";
    for (size_t i = 0; i < masked.size(); ++i) {
      if (i) s += ',';
      s += masked[i].first + "=" + std::to_string(masked[i].second);
    }
  }
  if (!moderation_error.empty()) {
    if (!s.empty()) s += ' ';
    s += "moderation_error:" + moderation_error;
  }
  return s;
}

Guard::Guard(GuardConfig cfg) : cfg_(std::move(cfg)) {
  for (size_t i = 0; i < kPiiTypes; ++i) {
    pii_rules_.push_back("pii." + std::string(pii_name(static_cast<PiiType>(i))));
    if (cfg_.pii[i] != Action::kOff) pii_set_ |= pii_bit(static_cast<PiiType>(i));
  }
  // Every counter this guard can touch exists before a worker sees it.
  auto make = [](const std::string& rule, Action a) {
    for (Direction d : {Direction::kPrompt, Direction::kCompletion}) rule_counter(rule, a, d);
  };
  for (size_t i = 0; i < kPiiTypes; ++i)
    if (cfg_.pii[i] != Action::kOff) make(pii_rules_[i], cfg_.pii[i]);
  for (const auto& d : cfg_.deny) make(d.name, d.action);
  if (cfg_.max_prompt_chars > 0)
    rule_counter("max_prompt_chars", Action::kBlock, Direction::kPrompt);
  if (cfg_.max_prompt_tokens > 0)
    rule_counter("max_prompt_tokens", Action::kBlock, Direction::kPrompt);
  if (cfg_.moderation) {
    make("moderation", Action::kBlock);
    make("moderation_unavailable", cfg_.moderation->fail_closed ? Action::kBlock : Action::kOff);
  }
}

void Guard::count(std::string_view rule, Action a, Direction d) const {
  // rule_counter takes a lock, but only blocks and masks get here, never a
  // clean request; the map is small.
  rule_counter(std::string(rule), a, d)->inc();
}

void Guard::scan(std::string_view text, std::vector<Hit>& out) const {
  std::vector<Hit> hits;
  if (pii_set_) {
    std::vector<PiiMatch> pii;
    find_pii(text, pii_set_, pii);
    for (const auto& m : pii) {
      size_t t = static_cast<size_t>(m.type);
      hits.push_back({m.begin, m.end, pii_rules_[t], pii_mask(m.type), cfg_.pii[t]});
    }
  }
  for (const auto& d : cfg_.deny) find_deny(d, text, hits);
  // Blocks win over masks on overlap; otherwise the earlier, then the longer.
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  for (const auto& h : hits) {
    if (!out.empty() && h.begin < out.back().end) {
      if (h.action == Action::kBlock && out.back().action != Action::kBlock) out.back() = h;
      continue;
    }
    out.push_back(h);
  }
}

bool Guard::apply(std::string& text, Direction d, Findings& f, bool json, bool* masked) const {
  std::vector<Hit> hits;
  scan(text, hits);
  if (hits.empty()) return true;
  std::string cls;
  if (json) {
    JsonLex st;
    json_classes(text, st, cls);
  }
  for (const auto& h : hits) {
    // A mask that cannot be placed without breaking the JSON blocks.
    if (h.action != Action::kBlock &&
        !(json && json_fit(cls, h.begin, h.end) == JsonFit::kStructure))
      continue;
    f.blocked = std::string(h.rule);
    f.blocked_in = d;
    count(h.rule, Action::kBlock, d);
    return false;
  }
  if (masked) *masked = true;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& h : hits) {
    out.append(text, pos, h.begin - pos);
    const bool quote = json && json_fit(cls, h.begin, h.end) == JsonFit::kNumber;
    if (quote) out += '"';
    out += h.mask;
    if (quote) out += '"';
    pos = h.end;
    f.add_mask(h.rule);
    count(h.rule, Action::kMask, d);
  }
  out.append(text, pos);
  text = std::move(out);
  return true;
}

bool Guard::check_prompt(Request& req, int64_t tokens, Findings& f, std::string& why) const {
  if (!cfg_.prompt) return true;
  auto block = [&](const char* rule, std::string msg) {
    f.blocked = rule;
    f.blocked_in = Direction::kPrompt;
    count(rule, Action::kBlock, Direction::kPrompt);
    why = std::move(msg);
    return false;
  };
  if (cfg_.max_prompt_chars > 0) {
    size_t chars = 0;
    for (auto& m : req.messages)
      each_text(m.parts, [&](std::string& t) { chars += utf8_chars(t); });
    if (static_cast<int64_t>(chars) > cfg_.max_prompt_chars)
      return block("max_prompt_chars", "the prompt has " + std::to_string(chars) +
                                           " characters, more than the limit of " +
                                           std::to_string(cfg_.max_prompt_chars) +
                                           " (guardrail rule 'max_prompt_chars')");
  }
  if (cfg_.max_prompt_tokens > 0 && tokens > cfg_.max_prompt_tokens)
    return block("max_prompt_tokens", "the prompt has about " + std::to_string(tokens) +
                                          " tokens, more than the limit of " +
                                          std::to_string(cfg_.max_prompt_tokens) +
                                          " (guardrail rule 'max_prompt_tokens')");
  bool ok = true;
  for (auto& m : req.messages) {
    each_scanned(cfg_, m.parts, [&](std::string& t, bool json, std::string* signature) {
      bool masked = false;
      if (ok) ok = apply(t, Direction::kPrompt, f, json, &masked);
      if (masked && signature) signature->clear();
    });
    if (!ok) break;
  }
  if (!ok) why = "the prompt was refused by guardrail rule '" + f.blocked + "'";
  return ok;
}

bool Guard::check_completion(Response& r, Findings& f, std::string& why) const {
  if (!cfg_.completion) return true;
  bool ok = true;
  each_scanned(cfg_, r.content, [&](std::string& t, bool json, std::string* signature) {
    bool masked = false;
    if (ok) ok = apply(t, Direction::kCompletion, f, json, &masked);
    if (masked && signature) signature->clear();
  });
  if (!ok) why = "the completion was withheld by guardrail rule '" + f.blocked + "'";
  return ok;
}

std::vector<std::string> prompt_texts(const Request& req) {
  std::vector<std::string> out;
  for (const auto& m : req.messages) {
    auto parts = m.parts;  // each_scanned edits in place; prompts are small next to the call
    each_scanned(all_parts(), parts, [&](std::string& t, bool, std::string*) {
      if (!t.empty()) out.push_back(t);
    });
  }
  return out;
}

std::string completion_text(const Response& r) {
  std::string out;
  auto parts = r.content;
  each_scanned(all_parts(), parts, [&](std::string& t, bool, std::string*) {
    if (!out.empty() && !t.empty()) out += '\n';
    out += t;
  });
  return out;
}

ErrorInfo blocked_error(const Findings& f) {
  ErrorInfo e;
  e.type = "invalid_request";
  e.code = "guardrail_blocked";
  e.message = "the completion was stopped by guardrail rule '" + f.blocked + "'";
  e.status = 400;
  return e;
}

// ---- streaming

size_t StreamGuard::window() const {
  size_t w = 0;
  for (const Guard* g : guards_) w = std::max(w, g->config().stream_window);
  return w;
}

namespace {
bool guard_scans(const GuardConfig& c, DeltaKind k) {
  switch (k) {
    case DeltaKind::kText:
    case DeltaKind::kRefusal:
      return c.scan_text;
    case DeltaKind::kThinking:
      return c.scan_thinking;
    case DeltaKind::kArguments:
      return c.scan_tool_arguments;
    default:
      return false;
  }
}
}  // namespace

bool StreamGuard::scans(DeltaKind k) const {
  for (const Guard* g : guards_)
    if (guard_scans(g->config(), k)) return true;
  return false;
}

bool StreamGuard::release(Pending& p, bool final, std::vector<StreamEvent>& out,
                          std::optional<ErrorInfo>& stop) {
  const bool json = p.kind == DeltaKind::kArguments;
  hits_.clear();
  std::vector<Hit> mine;
  for (const Guard* g : guards_) {
    if (!guard_scans(g->config(), p.kind)) continue;
    mine.clear();
    g->scan(p.text, mine);
    for (const auto& h : mine)
      if (h.end > p.ctx) hits_.push_back(h);
  }
  std::sort(hits_.begin(), hits_.end(),
            [](const Hit& a, const Hit& b) { return a.begin < b.begin; });
  if (json) {
    JsonLex st = p.lex;
    json_classes(p.text, st, classes_);
  }
  const size_t size = p.text.size();
  auto fit = [&](const Hit& h) {
    return json ? json_fit(classes_, h.begin, h.end) : JsonFit::kString;
  };
  for (const auto& h : hits_) {
    // A mask inside JSON that cuts through its structure blocks, once the
    // match is complete (a number at the held edge may still grow).
    bool blocks = h.action == Action::kBlock ||
                  (json && (final || h.end < size) && fit(h) == JsonFit::kStructure);
    if (!blocks) continue;
    f_.blocked = std::string(h.rule);
    f_.blocked_in = Direction::kCompletion;
    guards_.front()->count(h.rule, Action::kBlock, Direction::kCompletion);
    stop = blocked_error(f_);
    p.text.clear();
    p.ctx = 0;
    return false;
  }
  const size_t w = window();
  size_t cut = final ? size : std::max(p.ctx, size > w ? size - w : 0);
  if (!final) {
    // A match reaching the cut may still grow: hold it back whole.
    for (size_t k = hits_.size(); k-- > 0;) {
      const Hit& h = hits_[k];
      if (h.begin < cut && h.end >= cut) cut = std::max(p.ctx, h.begin);
    }
    // Never split a UTF-8 sequence between two deltas.
    while (cut > p.ctx && cut < size && (static_cast<unsigned char>(p.text[cut]) & 0xC0) == 0x80)
      --cut;
  }
  std::string send;
  size_t pos = p.ctx;
  for (const auto& h : hits_) {
    if (h.begin >= cut || h.end < pos) continue;
    if (h.begin > pos) send.append(p.text, pos, h.begin - pos);
    const bool quote = json && fit(h) == JsonFit::kNumber;
    if (quote) send += '"';
    send += h.mask;
    if (quote) send += '"';
    pos = std::max(pos, h.end);
    f_.add_mask(h.rule);
    guards_.front()->count(h.rule, Action::kMask, Direction::kCompletion);
    if (p.kind == DeltaKind::kThinking &&
        std::find(masked_thinking_.begin(), masked_thinking_.end(), p.index) ==
            masked_thinking_.end())
      masked_thinking_.push_back(p.index);
  }
  if (cut > pos) send.append(p.text, pos, cut - pos);
  if (!send.empty()) {
    StreamEvent d;
    d.kind = EventKind::kDelta;
    d.index = p.index;
    d.delta = p.kind;
    d.text = std::move(send);
    out.push_back(std::move(d));
  }
  // Keep a little sent text as context for the next scan's boundaries.
  const size_t sent_to = std::max(cut, pos);
  const size_t keep = std::min<size_t>(sent_to, kStreamContext);
  if (json) json_classes(std::string_view(p.text).substr(0, sent_to - keep), p.lex, classes_);
  p.text.erase(0, sent_to - keep);
  p.ctx = keep;
  return true;
}

bool StreamGuard::flush_all(std::vector<StreamEvent>& out, std::optional<ErrorInfo>& stop) {
  for (auto& p : pending_)
    if (!release(p, true, out, stop)) return false;
  pending_.clear();
  return true;
}

void StreamGuard::filter(const StreamEvent& e, std::vector<StreamEvent>& out,
                         std::optional<ErrorInfo>& stop) {
  const size_t first = out.size();
  if (guards_.empty()) {
    out.push_back(e);
  } else if (e.kind == EventKind::kDelta && scans(e.delta)) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const Pending& p) { return p.index == e.index; });
    if (it == pending_.end()) {
      pending_.push_back({e.index, e.delta, {}, 0, {}});
      it = pending_.end() - 1;
    }
    it->text += e.text;
    release(*it, false, out, stop);
  } else if (e.kind == EventKind::kPing) {
    out.push_back(e);
  } else if (flush_all(out, stop)) {
    // Any other event (a block's end, a new block, usage, stop) comes after
    // the held text in the client's stream. A masked thinking block's
    // signature no longer matches its text: it is dropped.
    bool drop = e.kind == EventKind::kDelta && e.delta == DeltaKind::kSignature &&
                std::find(masked_thinking_.begin(), masked_thinking_.end(), e.index) !=
                    masked_thinking_.end();
    if (!drop) out.push_back(e);
  }
  for (size_t i = first; i < out.size(); ++i)
    if (out[i].kind == EventKind::kDelta && out[i].delta != DeltaKind::kSignature)
      released_ += out[i].text;
}

}  // namespace gatehouse::ai::guardrails
