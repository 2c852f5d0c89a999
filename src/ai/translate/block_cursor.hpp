// Block bookkeeping for the decoders of formats without block boundaries of
// their own (Gemini, Ollama, Bedrock): at most one block open at a time,
// indexes dense from 0 in opening order, every block opened before its deltas
// and closed after, as StreamDecoder promises the encoders.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "ai/translate/ir.hpp"

namespace gatehouse::ai {

class BlockCursor {
 public:
  // Closes the open block, if any, and opens a new one of `kind`; returns
  // the kBlockStart event so the caller can set its id and name.
  StreamEvent& open(PartKind kind, std::vector<StreamEvent>& out) {
    close(out);
    StreamEvent ev;
    ev.kind = EventKind::kBlockStart;
    ev.part = kind;
    ev.index = next_++;
    out.push_back(std::move(ev));
    open_ = true;
    open_kind_ = kind;
    open_index_ = next_ - 1;
    return out.back();
  }
  // A delta to the open block; empty text says nothing and is skipped.
  void delta(DeltaKind kind, std::string_view text, std::vector<StreamEvent>& out) const {
    if (text.empty() || !open_) return;
    StreamEvent ev;
    ev.kind = EventKind::kDelta;
    ev.index = open_index_;
    ev.delta = kind;
    ev.text.assign(text);
    out.push_back(std::move(ev));
  }
  // Text or thinking: continues the open block of that kind, else opens one.
  void text(PartKind kind, std::string_view text, std::vector<StreamEvent>& out) {
    if (text.empty()) return;
    if (!open_ || open_kind_ != kind) open(kind, out);
    delta(kind == PartKind::kThinking ? DeltaKind::kThinking : DeltaKind::kText, text, out);
  }
  // A tool call that arrives whole: one block with one arguments delta.
  void whole_call(std::string id, std::string name, std::string_view arguments,
                  std::vector<StreamEvent>& out) {
    StreamEvent& start = open(PartKind::kToolCall, out);
    start.id = std::move(id);
    start.name = std::move(name);
    delta(DeltaKind::kArguments, arguments, out);
    close(out);
  }
  void close(std::vector<StreamEvent>& out) {
    if (!open_) return;
    StreamEvent ev;
    ev.kind = EventKind::kBlockStop;
    ev.index = open_index_;
    out.push_back(std::move(ev));
    open_ = false;
  }
  bool is_open() const { return open_; }
  PartKind open_kind() const { return open_kind_; }

 private:
  bool open_ = false;
  PartKind open_kind_ = PartKind::kText;
  size_t open_index_ = 0;
  size_t next_ = 0;
};

}  // namespace gatehouse::ai
