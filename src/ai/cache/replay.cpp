#include "ai/cache/replay.hpp"

namespace gatehouse::ai::cache {

std::vector<StreamEvent> response_events(const Response& r) {
  std::vector<StreamEvent> out;
  StreamEvent start;
  start.kind = EventKind::kStart;
  start.id = r.id;
  start.model = r.model;
  out.push_back(std::move(start));
  size_t index = 0;
  for (const auto& p : r.content) {
    if (p.kind == PartKind::kImage || p.kind == PartKind::kToolResult) continue;  // not output
    StreamEvent b;
    b.kind = EventKind::kBlockStart;
    b.index = index;
    b.part = p.kind;
    b.id = p.id;
    b.name = p.name;
    b.item_id = p.item_id;
    if (p.kind == PartKind::kRedactedThinking) b.text = p.text;
    out.push_back(std::move(b));
    auto delta = [&](DeltaKind k, const std::string& text) {
      if (text.empty()) return;
      StreamEvent d;
      d.kind = EventKind::kDelta;
      d.index = index;
      d.delta = k;
      d.text = text;
      out.push_back(std::move(d));
    };
    switch (p.kind) {
      case PartKind::kText:
        delta(DeltaKind::kText, p.text);
        break;
      case PartKind::kRefusal:
        delta(DeltaKind::kRefusal, p.text);
        break;
      case PartKind::kThinking:
        delta(DeltaKind::kThinking, p.text);
        delta(DeltaKind::kSignature, p.signature);
        break;
      case PartKind::kToolCall:
        delta(DeltaKind::kArguments, p.arguments);
        break;
      default:
        break;
    }
    StreamEvent stop;
    stop.kind = EventKind::kBlockStop;
    stop.index = index;
    out.push_back(std::move(stop));
    ++index;
  }
  StreamEvent usage;
  usage.kind = EventKind::kUsage;
  usage.usage = r.usage;
  out.push_back(std::move(usage));
  StreamEvent stop;
  stop.kind = EventKind::kStop;
  stop.stop = r.stop;
  stop.stop_sequence = r.stop_sequence;
  out.push_back(std::move(stop));
  StreamEvent end;
  end.kind = EventKind::kEnd;
  out.push_back(std::move(end));
  return out;
}

std::string replay_stream(Format client, const Response& r, const EncoderOptions& opt) {
  auto enc = make_encoder(client, opt);
  std::string out;
  for (const auto& e : response_events(r)) enc->encode(e, out);
  return out;
}

}  // namespace gatehouse::ai::cache
