// OpenAI Chat Completions streams: chat.completion.chunk frames <-> IR events.
#include <map>
#include <optional>

#include "ai/sse/writer.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/stream.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::chat {

using namespace detail;

namespace {

// Chat chunks have no block boundaries: the decoder opens a block when a new kind of delta
// starts and closes it when another kind takes over (text, thinking, refusal) or at
// finish_reason (tool calls, which may interleave by index and so stay open).
class Decoder final : public StreamDecoder {
 public:
  Result<void> decode(const sse::Event& e, std::vector<StreamEvent>& out) override {
    if (terminated_) return Ok{};
    if (e.data == "[DONE]") {
      close_all(out);
      end(out);
      return Ok{};
    }
    boost::system::error_code ec;
    json::value v = parse_json(e.data, ec);
    if (ec || !v.is_object()) {
      return make_error("bad_upstream_event", "upstream chunk is not a JSON object", {}, 502,
                        ErrorSide::kUpstream);
    }
    const json::object& o = v.as_object();
    if (obj_or_null(o, "error")) {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      ev.error = parse_error_json(o, 0);
      out.push_back(std::move(ev));
      terminated_ = true;
      return Ok{};
    }
    if (!started_) {
      started_ = true;
      StreamEvent ev;
      ev.kind = EventKind::kStart;
      ev.id = str_or(o, "id");
      ev.model = str_or(o, "model");
      out.push_back(std::move(ev));
    }
    if (const json::array* choices = arr_or_null(o, "choices")) {
      for (const auto& cv : *choices) {
        if (!cv.is_object()) continue;
        const json::object& c = cv.as_object();
        if (int_or(c, "index", 0) != 0) continue;  // n > 1: only the first choice
        if (const json::object* d = obj_or_null(c, "delta")) delta(*d, out);
        std::string_view fr = str_or(c, "finish_reason");
        if (!fr.empty() && !stopped_) {
          close_all(out);
          stopped_ = true;
          StreamEvent ev;
          ev.kind = EventKind::kStop;
          ev.stop = stop_from_chat(fr);
          if (ev.stop == StopReason::kEndTurn && saw_refusal_) ev.stop = StopReason::kRefusal;
          out.push_back(std::move(ev));
        }
      }
    }
    if (const json::object* u = obj_or_null(o, "usage")) {
      usage_from_chat(*u, usage_);
      StreamEvent ev;
      ev.kind = EventKind::kUsage;
      ev.usage = usage_;
      out.push_back(std::move(ev));
    }
    return Ok{};
  }

  bool terminated() const override { return terminated_; }

 private:
  void open(std::optional<size_t>& slot, PartKind kind, std::vector<StreamEvent>& out) {
    if (slot) return;
    slot = next_++;
    StreamEvent ev;
    ev.kind = EventKind::kBlockStart;
    ev.index = *slot;
    ev.part = kind;
    out.push_back(std::move(ev));
  }
  void close(std::optional<size_t>& slot, std::vector<StreamEvent>& out) {
    if (!slot) return;
    StreamEvent ev;
    ev.kind = EventKind::kBlockStop;
    ev.index = *slot;
    out.push_back(std::move(ev));
    slot.reset();
  }
  void close_all(std::vector<StreamEvent>& out) {
    close(thinking_, out);
    close(text_, out);
    close(refusal_, out);
    for (auto& [idx, slot] : tools_) {
      std::optional<size_t> s = slot;
      close(s, out);
    }
    tools_.clear();
  }
  void push_delta(size_t index, DeltaKind kind, std::string_view text,
                  std::vector<StreamEvent>& out) {
    StreamEvent ev;
    ev.kind = EventKind::kDelta;
    ev.index = index;
    ev.delta = kind;
    ev.text.assign(text);
    out.push_back(std::move(ev));
  }
  void end(std::vector<StreamEvent>& out) {
    StreamEvent ev;
    ev.kind = EventKind::kEnd;
    out.push_back(std::move(ev));
    terminated_ = true;
  }

  void delta(const json::object& d, std::vector<StreamEvent>& out) {
    std::string_view reasoning = str_or(d, "reasoning_content");
    if (reasoning.empty()) reasoning = str_or(d, "reasoning");
    if (!reasoning.empty()) {
      close(text_, out);
      close(refusal_, out);
      open(thinking_, PartKind::kThinking, out);
      push_delta(*thinking_, DeltaKind::kThinking, reasoning, out);
    }
    std::string_view content = str_or(d, "content");
    if (!content.empty()) {
      close(thinking_, out);
      close(refusal_, out);
      open(text_, PartKind::kText, out);
      push_delta(*text_, DeltaKind::kText, content, out);
    }
    std::string_view refusal = str_or(d, "refusal");
    if (!refusal.empty()) {
      saw_refusal_ = true;
      close(thinking_, out);
      close(text_, out);
      open(refusal_, PartKind::kRefusal, out);
      push_delta(*refusal_, DeltaKind::kRefusal, refusal, out);
    }
    if (const json::array* calls = arr_or_null(d, "tool_calls")) {
      for (size_t i = 0; i < calls->size(); ++i) {
        if (!(*calls)[i].is_object()) continue;
        const json::object& tc = (*calls)[i].as_object();
        int64_t idx = has_int(tc, "index") ? int_or(tc, "index") : static_cast<int64_t>(i);
        const json::object* fn = obj_or_null(tc, "function");
        auto it = tools_.find(idx);
        if (it == tools_.end()) {
          close(thinking_, out);
          close(text_, out);
          close(refusal_, out);
          StreamEvent ev;
          ev.kind = EventKind::kBlockStart;
          ev.index = next_++;
          ev.part = PartKind::kToolCall;
          ev.id = str_or(tc, "id");
          if (fn) ev.name = str_or(*fn, "name");
          it = tools_.emplace(idx, ev.index).first;
          out.push_back(std::move(ev));
        }
        if (fn) {
          std::string_view args = str_or(*fn, "arguments");
          if (!args.empty()) push_delta(it->second, DeltaKind::kArguments, args, out);
        }
      }
    }
  }

  bool started_ = false;
  bool stopped_ = false;
  bool terminated_ = false;
  bool saw_refusal_ = false;
  size_t next_ = 0;
  std::optional<size_t> text_, thinking_, refusal_;
  std::map<int64_t, size_t> tools_;  // chat tool_calls index -> IR block index
  Usage usage_;
};

class Encoder final : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions& opt) : opt_(opt) {}

  void encode(const StreamEvent& e, std::string& out) override {
    if (ended_) return;
    switch (e.kind) {
      case EventKind::kStart:
        id_ = response_id(Format::kChat, e.id);
        model_ = e.model;
        created_ = created_or_now(0, opt_.created);
        write_delta(json::object{{"role", "assistant"}, {"content", ""}}, out);
        break;
      case EventKind::kBlockStart:
        if (e.part == PartKind::kToolCall) {
          size_t ti = next_tool_++;
          tool_slot_[e.index] = ti;
          json::object call{{"index", ti}, {"id", e.id}, {"type", "function"},
                            {"function", json::object{{"name", e.name}, {"arguments", ""}}}};
          write_delta(json::object{{"tool_calls", json::array{std::move(call)}}}, out);
        }
        break;
      case EventKind::kDelta:
        switch (e.delta) {
          case DeltaKind::kText: write_delta(json::object{{"content", e.text}}, out); break;
          case DeltaKind::kThinking:
            write_delta(json::object{{"reasoning_content", e.text}}, out);
            break;
          case DeltaKind::kRefusal: write_delta(json::object{{"refusal", e.text}}, out); break;
          case DeltaKind::kArguments: {
            auto it = tool_slot_.find(e.index);
            if (it == tool_slot_.end()) break;
            json::object call{{"index", it->second},
                              {"function", json::object{{"arguments", e.text}}}};
            write_delta(json::object{{"tool_calls", json::array{std::move(call)}}}, out);
            break;
          }
          case DeltaKind::kSignature: break;  // no Chat form
        }
        break;
      case EventKind::kBlockStop: break;
      case EventKind::kUsage: usage_ = e.usage; break;
      case EventKind::kStop:
        if (!stop_sent_) write_finish(stop_to_chat(e.stop), out);
        break;
      case EventKind::kEnd:
        if (!stop_sent_) write_finish("stop", out);
        if (opt_.include_usage) {
          json::object c = chunk(json::array{});
          c["usage"] = usage_to_chat(usage_);
          sse::write_event(out, "", dump(c));
        }
        sse::write_event(out, "", "[DONE]");
        ended_ = true;
        break;
      case EventKind::kError:
        // OpenAI's own mid-stream error shape; no [DONE] follows, so no client takes the
        // cut stream for a finished one.
        sse::write_event(out, "", dump(error_json(Format::kChat, e.error)));
        ended_ = true;
        break;
      case EventKind::kPing: sse::write_comment(out, "ping"); break;
    }
  }

 private:
  json::object chunk(json::array choices) const {
    return json::object{{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_},
                        {"model", model_}, {"choices", std::move(choices)}};
  }
  void write_delta(json::object delta, std::string& out) {
    json::object choice{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                        {"finish_reason", nullptr}};
    sse::write_event(out, "", dump(chunk(json::array{std::move(choice)})));
  }
  void write_finish(std::string_view reason, std::string& out) {
    json::object choice{{"index", 0}, {"delta", json::object{}}, {"logprobs", nullptr},
                        {"finish_reason", reason}};
    sse::write_event(out, "", dump(chunk(json::array{std::move(choice)})));
    stop_sent_ = true;
  }

  EncoderOptions opt_;
  std::string id_ = "chatcmpl-gatehouse";
  std::string model_;
  int64_t created_ = 0;
  std::map<size_t, size_t> tool_slot_;  // IR block index -> chat tool_calls index
  size_t next_tool_ = 0;
  Usage usage_;
  bool stop_sent_ = false;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt) {
  return std::make_unique<Encoder>(opt);
}

}  // namespace gatehouse::ai::chat
