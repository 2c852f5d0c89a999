// Anthropic Messages streams: message_start / content_block_* / message_delta /
// message_stop / ping / error events <-> IR events.
#include <map>
#include <optional>
#include <set>

#include "ai/sse/writer.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/stream.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::messages {

using namespace detail;

namespace {

class Decoder final : public StreamDecoder {
 public:
  Result<void> decode(const sse::Event& e, std::vector<StreamEvent>& out) override {
    if (terminated_) return Ok{};
    boost::system::error_code ec;
    json::value v = parse_json(e.data, ec);
    if (ec || !v.is_object()) {
      return make_error("bad_upstream_event", "upstream event `" + e.type_or_default() +
                        "` is not a JSON object", {}, 502, ErrorSide::kUpstream);
    }
    const json::object& o = v.as_object();
    std::string_view type = str_or(o, "type", e.event);
    if (type == "message_start") {
      const json::object* m = obj_or_null(o, "message");
      StreamEvent ev;
      ev.kind = EventKind::kStart;
      if (m) {
        ev.id = str_or(*m, "id");
        ev.model = str_or(*m, "model");
        if (const json::object* u = obj_or_null(*m, "usage")) usage_from_messages(*u, usage_);
      }
      ev.usage = usage_;
      out.push_back(std::move(ev));
      started_ = true;
      if (usage_.known) push_usage(out);
    } else if (type == "content_block_start") {
      ensure_started(out);
      const json::object* b = obj_or_null(o, "content_block");
      if (!b) return Ok{};
      int64_t wire = int_or(o, "index", -1);
      std::string_view bt = str_or(*b, "type");
      StreamEvent ev;
      ev.kind = EventKind::kBlockStart;
      if (bt == "text") ev.part = PartKind::kText;
      else if (bt == "thinking") ev.part = PartKind::kThinking;
      else if (bt == "redacted_thinking") ev.part = PartKind::kRedactedThinking;
      else if (bt == "tool_use") ev.part = PartKind::kToolCall;
      else return Ok{};  // server tool blocks and newer kinds: skipped with their deltas
      ev.index = next_++;
      slots_[wire] = ev.index;
      ev.id = str_or(*b, "id");
      ev.name = str_or(*b, "name");
      if (ev.part == PartKind::kRedactedThinking) ev.text = str_or(*b, "data");
      size_t idx = ev.index;
      PartKind part = ev.part;
      out.push_back(std::move(ev));
      // Start blocks normally come empty; anything they do carry is replayed as deltas.
      if (part == PartKind::kText) push_delta(idx, DeltaKind::kText, str_or(*b, "text"), out);
      if (part == PartKind::kThinking) {
        push_delta(idx, DeltaKind::kThinking, str_or(*b, "thinking"), out);
        push_delta(idx, DeltaKind::kSignature, str_or(*b, "signature"), out);
      }
      if (part == PartKind::kToolCall) {
        const json::object* input = obj_or_null(*b, "input");
        if (input && !input->empty()) push_delta(idx, DeltaKind::kArguments, dump(*input), out);
      }
    } else if (type == "content_block_delta") {
      auto it = slots_.find(int_or(o, "index", -1));
      const json::object* d = obj_or_null(o, "delta");
      if (it == slots_.end() || !d) return Ok{};
      std::string_view dt = str_or(*d, "type");
      if (dt == "text_delta") push_delta(it->second, DeltaKind::kText, str_or(*d, "text"), out);
      else if (dt == "input_json_delta")
        push_delta(it->second, DeltaKind::kArguments, str_or(*d, "partial_json"), out);
      else if (dt == "thinking_delta")
        push_delta(it->second, DeltaKind::kThinking, str_or(*d, "thinking"), out);
      else if (dt == "signature_delta")
        push_delta(it->second, DeltaKind::kSignature, str_or(*d, "signature"), out);
      // citations_delta and newer delta kinds are dropped.
    } else if (type == "content_block_stop") {
      auto it = slots_.find(int_or(o, "index", -1));
      if (it == slots_.end()) return Ok{};
      StreamEvent ev;
      ev.kind = EventKind::kBlockStop;
      ev.index = it->second;
      out.push_back(std::move(ev));
      slots_.erase(it);
    } else if (type == "message_delta") {
      ensure_started(out);
      if (const json::object* u = obj_or_null(o, "usage")) {
        usage_from_messages(*u, usage_);  // cumulative: set, never add
        push_usage(out);
      }
      const json::object* d = obj_or_null(o, "delta");
      if (d && !str_or(*d, "stop_reason").empty()) {
        StreamEvent ev;
        ev.kind = EventKind::kStop;
        ev.stop = stop_from_messages(str_or(*d, "stop_reason"));
        ev.stop_sequence = str_or(*d, "stop_sequence");
        out.push_back(std::move(ev));
      }
    } else if (type == "message_stop") {
      ensure_started(out);
      close_open(out);
      StreamEvent ev;
      ev.kind = EventKind::kEnd;
      out.push_back(std::move(ev));
      terminated_ = true;
    } else if (type == "ping") {
      StreamEvent ev;
      ev.kind = EventKind::kPing;
      out.push_back(std::move(ev));
    } else if (type == "error") {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      ev.error = parse_error_json(o, 0);
      out.push_back(std::move(ev));
      terminated_ = true;
    }
    return Ok{};
  }

  bool terminated() const override { return terminated_; }

 private:
  void ensure_started(std::vector<StreamEvent>& out) {
    if (started_) return;
    started_ = true;
    StreamEvent ev;
    ev.kind = EventKind::kStart;
    out.push_back(std::move(ev));
  }
  void push_usage(std::vector<StreamEvent>& out) {
    StreamEvent ev;
    ev.kind = EventKind::kUsage;
    ev.usage = usage_;
    out.push_back(std::move(ev));
  }
  void push_delta(size_t index, DeltaKind kind, std::string_view text,
                  std::vector<StreamEvent>& out) {
    if (text.empty()) return;
    StreamEvent ev;
    ev.kind = EventKind::kDelta;
    ev.index = index;
    ev.delta = kind;
    ev.text.assign(text);
    out.push_back(std::move(ev));
  }
  void close_open(std::vector<StreamEvent>& out) {
    for (auto& [wire, idx] : slots_) {
      StreamEvent ev;
      ev.kind = EventKind::kBlockStop;
      ev.index = idx;
      out.push_back(std::move(ev));
    }
    slots_.clear();
  }

  bool started_ = false;
  bool terminated_ = false;
  size_t next_ = 0;
  std::map<int64_t, size_t> slots_;  // open blocks: wire index -> IR index
  Usage usage_;
};

// Anthropic clients read one content block at a time, so blocks go out strictly one after
// another: a block that starts while another is open (OpenAI tool calls interleaved by
// index) is buffered and written whole once the open one stops.
class Encoder final : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions&) {}

  void encode(const StreamEvent& e, std::string& out) override {
    if (ended_) return;
    switch (e.kind) {
      case EventKind::kStart: {
        usage_ = e.usage;
        json::object msg{{"id", response_id(Format::kMessages, e.id)},
                         {"type", "message"},
                         {"role", "assistant"},
                         {"model", e.model},
                         {"content", json::array{}},
                         {"stop_reason", nullptr},
                         {"stop_sequence", nullptr},
                         {"usage", usage_to_messages(usage_)}};
        write("message_start", json::object{{"type", "message_start"}, {"message", std::move(msg)}}, out);
        break;
      }
      case EventKind::kBlockStart: {
        json::object block;
        switch (e.part) {
          case PartKind::kThinking: block = {{"type", "thinking"}, {"thinking", ""}}; break;
          case PartKind::kRedactedThinking: block = {{"type", "redacted_thinking"}, {"data", e.text}}; break;
          case PartKind::kToolCall:
            block = {{"type", "tool_use"}, {"id", e.id}, {"name", e.name}, {"input", json::object{}}};
            break;
          default: block = {{"type", "text"}, {"text", ""}}; break;
        }
        Block& b = blocks_[e.index];
        b.openai_item = e.part == PartKind::kThinking ? e.item_id : "";
        if (!current_) current_ = e.index;
        write_to(e.index, "content_block_start",
                 json::object{{"type", "content_block_start"}, {"index", e.index},
                              {"content_block", std::move(block)}}, out);
        break;
      }
      case EventKind::kDelta: {
        auto it = blocks_.find(e.index);
        if (it == blocks_.end()) break;
        json::object d;
        switch (e.delta) {
          case DeltaKind::kText:
          case DeltaKind::kRefusal: d = {{"type", "text_delta"}, {"text", e.text}}; break;
          case DeltaKind::kThinking: d = {{"type", "thinking_delta"}, {"thinking", e.text}}; break;
          case DeltaKind::kSignature:
            if (!it->second.openai_item.empty()) {  // written wrapped at the block's stop
              it->second.signature.append(e.text);
              return;
            }
            d = {{"type", "signature_delta"}, {"signature", e.text}};
            break;
          case DeltaKind::kArguments: d = {{"type", "input_json_delta"}, {"partial_json", e.text}}; break;
        }
        write_to(e.index, "content_block_delta", json::object{{"type", "content_block_delta"},
                                                              {"index", e.index}, {"delta", std::move(d)}}, out);
        break;
      }
      case EventKind::kBlockStop: stop_block(e.index, out); break;
      case EventKind::kUsage: usage_ = e.usage; break;
      case EventKind::kStop:
        stop_ = e.stop;
        stop_sequence_ = e.stop_sequence;
        break;
      case EventKind::kEnd: {
        while (!blocks_.empty()) stop_block(current_ ? *current_ : blocks_.begin()->first, out);
        json::object delta{{"stop_reason", stop_to_messages(stop_)}};
        delta["stop_sequence"] = stop_sequence_.empty() ? json::value(nullptr)
                                                        : json::value(json::string(stop_sequence_));
        // Cumulative totals; input and cache counts are restated for OpenAI upstreams,
        // which only report them at the end.
        write("message_delta", json::object{{"type", "message_delta"}, {"delta", std::move(delta)},
                                             {"usage", usage_to_messages(usage_)}}, out);
        write("message_stop", json::object{{"type", "message_stop"}}, out);
        ended_ = true;
        break;
      }
      case EventKind::kError:
        // Whatever was buffered behind the open block is lost with the stream.
        write("error", error_json(Format::kMessages, e.error), out);
        ended_ = true;
        break;
      case EventKind::kPing: write("ping", json::object{{"type", "ping"}}, out); break;
    }
  }

 private:
  struct Block {
    std::string pending;      // frames held while another block is on the wire
    bool stopped = false;
    std::string openai_item;  // thinking from OpenAI reasoning: its item id
    std::string signature;
  };

  void write(std::string_view event, const json::object& data, std::string& out) {
    sse::write_event(out, event, dump(data));
  }
  void write_to(size_t index, std::string_view event, const json::object& data, std::string& out) {
    if (current_ && *current_ == index) write(event, data, out);
    else sse::write_event(blocks_[index].pending, event, dump(data));
  }
  void stop_block(size_t index, std::string& out) {
    auto it = blocks_.find(index);
    if (it == blocks_.end() || it->second.stopped) return;
    if (!it->second.openai_item.empty()) {
      json::object d{{"type", "signature_delta"},
                     {"signature", wrap_openai_reasoning(it->second.openai_item, it->second.signature)}};
      write_to(index, "content_block_delta", json::object{{"type", "content_block_delta"},
                                                          {"index", index}, {"delta", std::move(d)}}, out);
    }
    write_to(index, "content_block_stop",
             json::object{{"type", "content_block_stop"}, {"index", index}}, out);
    it->second.stopped = true;
    if (current_ && *current_ == index) {
      blocks_.erase(it);
      current_.reset();
      // Drain buffered blocks in index order; the first one still open becomes current.
      while (!blocks_.empty()) {
        auto next = blocks_.begin();
        out.append(next->second.pending);
        next->second.pending.clear();
        if (!next->second.stopped) {
          current_ = next->first;
          break;
        }
        blocks_.erase(next);
      }
    }
  }

  std::map<size_t, Block> blocks_;  // started and not yet fully written
  std::optional<size_t> current_;   // the block on the wire
  Usage usage_;
  StopReason stop_ = StopReason::kEndTurn;
  std::string stop_sequence_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt) {
  return std::make_unique<Encoder>(opt);
}

}  // namespace gatehouse::ai::messages
