// OpenAI Responses streams: typed response.* events with sequence numbers <-> IR events.
#include <map>
#include <optional>
#include <set>

#include "ai/sse/writer.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/json_util.hpp"
#include "ai/translate/mapping.hpp"
#include "ai/translate/responses_common.hpp"
#include "ai/translate/stream.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::responses {

using namespace detail;

namespace {

using Key = std::pair<int64_t, int64_t>;  // (output_index, content_index or -1 for the item)

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
    int64_t oi = int_or(o, "output_index", -1);
    if (type == "response.created") {
      start(obj_or_null(o, "response"), out);
    } else if (type == "response.output_item.added") {
      start(nullptr, out);
      const json::object* item = obj_or_null(o, "item");
      if (!item) return Ok{};
      std::string_view it = str_or(*item, "type");
      if (it == "function_call") {
        saw_call_ = true;
        size_t idx = open({oi, -1}, PartKind::kToolCall, str_or(*item, "call_id"),
                          str_or(*item, "name"), {}, out);
        std::string_view args = str_or(*item, "arguments");
        if (!args.empty()) {
          args_seen_.insert(oi);
          push_delta(idx, DeltaKind::kArguments, args, out);
        }
      } else if (it == "reasoning") {
        std::string_view id = str_or(*item, "id");
        open({oi, -1}, PartKind::kThinking, {}, {}, is_foreign_reasoning_id(id) ? "" : id, out);
      }
    } else if (type == "response.content_part.added") {
      start(nullptr, out);
      const json::object* part = obj_or_null(o, "part");
      if (!part) return Ok{};
      std::string_view pt = str_or(*part, "type");
      Key key{oi, int_or(o, "content_index", 0)};
      if (pt == "output_text") {
        size_t idx = open(key, PartKind::kText, {}, {}, {}, out);
        push_delta(idx, DeltaKind::kText, str_or(*part, "text"), out);
      } else if (pt == "refusal") {
        size_t idx = open(key, PartKind::kRefusal, {}, {}, {}, out);
        push_delta(idx, DeltaKind::kRefusal, str_or(*part, "refusal"), out);
      }
    } else if (type == "response.output_text.delta" || type == "response.refusal.delta") {
      if (auto idx = slot({oi, int_or(o, "content_index", 0)}))
        push_delta(*idx, type == "response.output_text.delta" ? DeltaKind::kText : DeltaKind::kRefusal,
                   str_or(o, "delta"), out);
    } else if (type == "response.content_part.done") {
      close({oi, int_or(o, "content_index", 0)}, out);
    } else if (type == "response.function_call_arguments.delta") {
      if (auto idx = slot({oi, -1})) {
        args_seen_.insert(oi);
        push_delta(*idx, DeltaKind::kArguments, str_or(o, "delta"), out);
      }
    } else if (type == "response.reasoning_summary_part.added") {
      // Several summary parts of one reasoning item read as paragraphs of one thinking block.
      if (auto idx = slot({oi, -1}); idx && int_or(o, "summary_index", 0) > 0)
        push_delta(*idx, DeltaKind::kThinking, "\n\n", out);
    } else if (type == "response.reasoning_summary_text.delta") {
      if (auto idx = slot({oi, -1})) {
        summary_seen_.insert(oi);
        push_delta(*idx, DeltaKind::kThinking, str_or(o, "delta"), out);
      }
    } else if (type == "response.reasoning_text.delta") {
      if (auto idx = slot({oi, -1}); idx && !summary_seen_.count(oi))
        push_delta(*idx, DeltaKind::kThinking, str_or(o, "delta"), out);
    } else if (type == "response.output_item.done") {
      const json::object* item = obj_or_null(o, "item");
      if (auto idx = slot({oi, -1}); idx && item) {
        std::string_view it = str_or(*item, "type");
        if (it == "reasoning") {
          push_delta(*idx, DeltaKind::kSignature, str_or(*item, "encrypted_content"), out);
        } else if (it == "function_call" && !args_seen_.count(oi)) {
          push_delta(*idx, DeltaKind::kArguments, str_or(*item, "arguments"), out);
        }
      }
      // Closes the item and any content part of it still open.
      for (auto it = slots_.begin(); it != slots_.end();) {
        if (it->first.first == oi) {
          push_stop(it->second, out);
          it = slots_.erase(it);
        } else {
          ++it;
        }
      }
    } else if (type == "response.completed" || type == "response.incomplete") {
      start(nullptr, out);
      const json::object* r = obj_or_null(o, "response");
      if (r) {
        if (const json::object* u = obj_or_null(*r, "usage")) {
          usage_from_responses(*u, usage_);
          StreamEvent ev;
          ev.kind = EventKind::kUsage;
          ev.usage = usage_;
          out.push_back(std::move(ev));
        }
      }
      close_all(out);
      std::string_view reason;
      if (r) {
        if (const json::object* inc = obj_or_null(*r, "incomplete_details")) reason = str_or(*inc, "reason");
      }
      StreamEvent stop;
      stop.kind = EventKind::kStop;
      stop.stop = stop_from_responses(r ? str_or(*r, "status", type.substr(9)) : type.substr(9),
                                      reason, saw_call_);
      out.push_back(std::move(stop));
      StreamEvent end;
      end.kind = EventKind::kEnd;
      out.push_back(std::move(end));
      terminated_ = true;
    } else if (type == "response.failed" || type == "error") {
      StreamEvent ev;
      ev.kind = EventKind::kError;
      const json::object* r = obj_or_null(o, "response");
      if (r) {
        if (const json::object* u = obj_or_null(*r, "usage")) {
          usage_from_responses(*u, usage_);
          StreamEvent ue;
          ue.kind = EventKind::kUsage;
          ue.usage = usage_;
          out.push_back(std::move(ue));
        }
        const json::object* err = obj_or_null(*r, "error");
        ev.error.type = "api_error";
        ev.error.status = 500;
        if (err) {
          ev.error.code = str_or(*err, "code");
          ev.error.message = str_or(*err, "message");
        }
        if (ev.error.message.empty()) ev.error.message = "upstream response failed";
      } else {
        ev.error = parse_error_json(o, 0);
      }
      out.push_back(std::move(ev));
      terminated_ = true;
    }
    // response.in_progress, *.done text events and newer event kinds carry nothing new.
    return Ok{};
  }

  bool terminated() const override { return terminated_; }

 private:
  void start(const json::object* r, std::vector<StreamEvent>& out) {
    if (started_) return;
    started_ = true;
    StreamEvent ev;
    ev.kind = EventKind::kStart;
    if (r) {
      ev.id = str_or(*r, "id");
      ev.model = str_or(*r, "model");
    }
    out.push_back(std::move(ev));
  }
  size_t open(Key key, PartKind part, std::string_view id, std::string_view name,
              std::string_view item_id, std::vector<StreamEvent>& out) {
    if (auto it = slots_.find(key); it != slots_.end()) return it->second;
    StreamEvent ev;
    ev.kind = EventKind::kBlockStart;
    ev.index = next_++;
    ev.part = part;
    ev.id.assign(id);
    ev.name.assign(name);
    ev.item_id.assign(item_id);
    slots_[key] = ev.index;
    out.push_back(std::move(ev));
    return slots_[key];
  }
  std::optional<size_t> slot(Key key) const {
    auto it = slots_.find(key);
    if (it == slots_.end()) return std::nullopt;
    return it->second;
  }
  void close(Key key, std::vector<StreamEvent>& out) {
    auto it = slots_.find(key);
    if (it == slots_.end()) return;
    push_stop(it->second, out);
    slots_.erase(it);
  }
  void close_all(std::vector<StreamEvent>& out) {
    for (auto& [key, idx] : slots_) push_stop(idx, out);
    slots_.clear();
  }
  void push_stop(size_t idx, std::vector<StreamEvent>& out) {
    StreamEvent ev;
    ev.kind = EventKind::kBlockStop;
    ev.index = idx;
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

  bool started_ = false;
  bool terminated_ = false;
  bool saw_call_ = false;
  size_t next_ = 0;
  std::map<Key, size_t> slots_;
  std::set<int64_t> args_seen_;
  std::set<int64_t> summary_seen_;
  Usage usage_;
};

class Encoder final : public StreamEncoder {
 public:
  explicit Encoder(const EncoderOptions& opt) : opt_(opt) {}

  void encode(const StreamEvent& e, std::string& out) override {
    if (ended_) return;
    switch (e.kind) {
      case EventKind::kStart: {
        resp_.id = e.id;
        resp_.model = e.model;
        rid_ = response_id(Format::kResponses, e.id);
        created_ = created_or_now(0, opt_.created);
        json::object r = responses_object(resp_, "in_progress", json::array{}, created_);
        write("response.created", {{"response", r}}, out);
        write("response.in_progress", {{"response", std::move(r)}}, out);
        break;
      }
      case EventKind::kBlockStart: block_start(e, out); break;
      case EventKind::kDelta: delta(e, out); break;
      case EventKind::kBlockStop: block_stop(e.index, out); break;
      case EventKind::kUsage: resp_.usage = e.usage; break;
      case EventKind::kStop: resp_.stop = e.stop; break;
      case EventKind::kEnd: {
        while (!slots_.empty()) block_stop(slots_.begin()->first, out);
        close_message(out);
        if (resp_.stop == StopReason::kUnknown) resp_.stop = StopReason::kEndTurn;
        std::string status(status_to_responses(resp_.stop));
        write("response." + status, {{"response", responses_object(resp_, status, output(), created_)}},
              out);
        ended_ = true;
        break;
      }
      case EventKind::kError: {
        json::object err{{"code", e.error.code.empty() ? json::value(nullptr)
                                                        : json::value(json::string(e.error.code))},
                         {"message", e.error.message},
                         {"param", nullptr}};
        write("error", std::move(err), out);
        resp_.error = e.error;
        write("response.failed", {{"response", responses_object(resp_, "failed", output(), created_)}},
              out);
        ended_ = true;
        break;
      }
      case EventKind::kPing: sse::write_comment(out, "ping"); break;
    }
  }

 private:
  struct Slot {
    Part part;
    size_t output_index = 0;
    size_t content_index = 0;
    std::string item_id;
  };
  struct MessageItem {
    size_t output_index = 0;
    std::string item_id;
    json::array content;
    std::set<size_t> open;  // IR indexes of its parts still streaming
  };

  void write(std::string type, json::object fields, std::string& out) {
    json::object o{{"type", type}};
    for (auto& kv : fields) o[kv.key()] = std::move(kv.value());
    o["sequence_number"] = seq_++;
    sse::write_event(out, type, dump(o));
  }

  json::array output() const {
    json::array a;
    for (const auto& [idx, item] : done_) a.push_back(item);
    return a;
  }

  void close_message(std::string& out) {
    if (!msg_) return;
    std::set<size_t> open = msg_->open;
    for (size_t idx : open) block_stop(idx, out);
    json::object item = responses_message_item(msg_->item_id, "completed");
    item["content"] = msg_->content;
    write("response.output_item.done",
          {{"output_index", msg_->output_index}, {"item", item}}, out);
    done_[msg_->output_index] = std::move(item);
    msg_.reset();
  }

  void block_start(const StreamEvent& e, std::string& out) {
    Slot s;
    s.part.kind = e.part;
    s.part.id = e.id;
    s.part.name = e.name;
    s.part.item_id = e.item_id;
    switch (e.part) {
      case PartKind::kText:
      case PartKind::kRefusal: {
        if (!msg_) {
          msg_ = MessageItem{};
          msg_->output_index = next_output_++;
          msg_->item_id = item_id("msg_", rid_, msg_->output_index);
          write("response.output_item.added",
                {{"output_index", msg_->output_index},
                 {"item", responses_message_item(msg_->item_id, "in_progress")}}, out);
        }
        s.output_index = msg_->output_index;
        s.item_id = msg_->item_id;
        s.content_index = msg_->content.size() + msg_->open.size();
        msg_->open.insert(e.index);
        write("response.content_part.added",
              {{"item_id", s.item_id}, {"output_index", s.output_index},
               {"content_index", s.content_index}, {"part", responses_text_part(e.part, "")}}, out);
        break;
      }
      case PartKind::kThinking: {
        close_message(out);
        s.output_index = next_output_++;
        s.item_id = reasoning_item_id(s.part, rid_, s.output_index);
        write("response.output_item.added",
              {{"output_index", s.output_index}, {"item", responses_reasoning_item(s.item_id, s.part)}},
              out);
        write("response.reasoning_summary_part.added",
              {{"item_id", s.item_id}, {"output_index", s.output_index}, {"summary_index", 0},
               {"part", json::object{{"type", "summary_text"}, {"text", ""}}}}, out);
        break;
      }
      case PartKind::kToolCall: {
        close_message(out);
        s.output_index = next_output_++;
        s.item_id = item_id("fc_", rid_, s.output_index);
        write("response.output_item.added",
              {{"output_index", s.output_index},
               {"item", responses_call_item(s.item_id, s.part, "in_progress")}}, out);
        break;
      }
      default: return;  // redacted thinking has no Responses form
    }
    slots_[e.index] = std::move(s);
  }

  void delta(const StreamEvent& e, std::string& out) {
    auto it = slots_.find(e.index);
    if (it == slots_.end()) return;
    Slot& s = it->second;
    switch (e.delta) {
      case DeltaKind::kText:
      case DeltaKind::kRefusal: {
        s.part.text.append(e.text);
        json::object f{{"item_id", s.item_id}, {"output_index", s.output_index},
                       {"content_index", s.content_index}, {"delta", e.text}};
        if (s.part.kind == PartKind::kRefusal) {
          write("response.refusal.delta", std::move(f), out);
        } else {
          f["logprobs"] = json::array{};
          write("response.output_text.delta", std::move(f), out);
        }
        break;
      }
      case DeltaKind::kThinking:
        s.part.text.append(e.text);
        write("response.reasoning_summary_text.delta",
              {{"item_id", s.item_id}, {"output_index", s.output_index}, {"summary_index", 0},
               {"delta", e.text}}, out);
        break;
      case DeltaKind::kSignature: s.part.signature.append(e.text); break;
      case DeltaKind::kArguments:
        s.part.arguments.append(e.text);
        write("response.function_call_arguments.delta",
              {{"item_id", s.item_id}, {"output_index", s.output_index}, {"delta", e.text}}, out);
        break;
    }
  }

  void block_stop(size_t index, std::string& out) {
    auto it = slots_.find(index);
    if (it == slots_.end()) return;
    Slot s = std::move(it->second);
    slots_.erase(it);
    switch (s.part.kind) {
      case PartKind::kText:
      case PartKind::kRefusal: {
        json::object part = responses_text_part(s.part.kind, s.part.text);
        json::object f{{"item_id", s.item_id}, {"output_index", s.output_index},
                       {"content_index", s.content_index}};
        if (s.part.kind == PartKind::kRefusal) {
          f["refusal"] = s.part.text;
          write("response.refusal.done", f, out);
        } else {
          f["text"] = s.part.text;
          f["logprobs"] = json::array{};
          write("response.output_text.done", f, out);
          f.erase("logprobs");
        }
        f.erase("text");
        f.erase("refusal");
        f["part"] = part;
        write("response.content_part.done", std::move(f), out);
        if (msg_ && msg_->item_id == s.item_id) {
          msg_->open.erase(index);
          msg_->content.push_back(std::move(part));
        }
        break;
      }
      case PartKind::kThinking: {
        json::object summary{{"type", "summary_text"}, {"text", s.part.text}};
        write("response.reasoning_summary_text.done",
              {{"item_id", s.item_id}, {"output_index", s.output_index}, {"summary_index", 0},
               {"text", s.part.text}}, out);
        write("response.reasoning_summary_part.done",
              {{"item_id", s.item_id}, {"output_index", s.output_index}, {"summary_index", 0},
               {"part", std::move(summary)}}, out);
        json::object item = responses_reasoning_item(s.item_id, s.part);
        write("response.output_item.done", {{"output_index", s.output_index}, {"item", item}}, out);
        done_[s.output_index] = std::move(item);
        break;
      }
      case PartKind::kToolCall: {
        write("response.function_call_arguments.done",
              {{"item_id", s.item_id}, {"output_index", s.output_index},
               {"arguments", s.part.arguments}}, out);
        json::object item = responses_call_item(s.item_id, s.part, "completed");
        write("response.output_item.done", {{"output_index", s.output_index}, {"item", item}}, out);
        done_[s.output_index] = std::move(item);
        break;
      }
      default: break;
    }
  }

  EncoderOptions opt_;
  Response resp_;
  std::string rid_ = "resp_gatehouse";
  int64_t created_ = 0;
  int64_t seq_ = 0;
  size_t next_output_ = 0;
  std::optional<MessageItem> msg_;
  std::map<size_t, Slot> slots_;                // open IR blocks
  std::map<size_t, json::object> done_;         // output_index -> finished item
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_decoder() { return std::make_unique<Decoder>(); }
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt) {
  return std::make_unique<Encoder>(opt);
}

}  // namespace gatehouse::ai::responses
