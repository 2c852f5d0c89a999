// Format dispatch, the IR accumulator, and the stream translator.
#include <boost/json.hpp>

#include "ai/eventstream/codec.hpp"
#include "ai/sse/writer.hpp"
#include "ai/translate/errors.hpp"
#include "ai/translate/stream.hpp"
#include "ai/translate/translate.hpp"

namespace gatehouse::ai {

Result<Request> parse_request(Format f, std::string_view body) {
  switch (f) {
    case Format::kChat: return chat::parse_request(body);
    case Format::kMessages: return messages::parse_request(body);
    case Format::kResponses: return responses::parse_request(body);
    case Format::kGemini:
    case Format::kOllama:
    case Format::kBedrock: break;
  }
  return make_error("bad_format", "unknown wire format");
}

std::string write_request(Format f, const Request& r, const WriteOptions& opt) {
  switch (f) {
    case Format::kChat: return chat::write_request(r, opt);
    case Format::kMessages: return messages::write_request(r, opt);
    case Format::kResponses: return responses::write_request(r, opt);
    case Format::kGemini: return gemini::write_request(r, opt);
    case Format::kOllama: return ollama::write_request(r, opt);
    case Format::kBedrock: return bedrock::write_request(r, opt);
  }
  return {};
}

Result<Response> parse_response(Format f, std::string_view body) {
  switch (f) {
    case Format::kChat: return chat::parse_response(body);
    case Format::kMessages: return messages::parse_response(body);
    case Format::kResponses: return responses::parse_response(body);
    case Format::kGemini: return gemini::parse_response(body);
    case Format::kOllama: return ollama::parse_response(body);
    case Format::kBedrock: return bedrock::parse_response(body);
  }
  return make_error("bad_format", "unknown wire format");
}

std::string write_response(Format f, const Response& r, const WriteOptions& opt) {
  switch (f) {
    case Format::kChat: return chat::write_response(r, opt);
    case Format::kMessages: return messages::write_response(r, opt);
    case Format::kResponses: return responses::write_response(r, opt);
    case Format::kGemini:
    case Format::kOllama:
    case Format::kBedrock: break;  // provider-only: no client reads them
  }
  return {};
}

std::unique_ptr<StreamDecoder> make_decoder(Format provider) {
  switch (provider) {
    case Format::kChat: return chat::make_decoder();
    case Format::kMessages: return messages::make_decoder();
    case Format::kResponses: return responses::make_decoder();
    case Format::kGemini: return gemini::make_decoder();
    case Format::kOllama: return ollama::make_decoder();
    case Format::kBedrock: return bedrock::make_decoder();
  }
  return nullptr;
}

std::unique_ptr<StreamEncoder> make_encoder(Format client, const EncoderOptions& opt) {
  switch (client) {
    case Format::kChat: return chat::make_encoder(opt);
    case Format::kMessages: return messages::make_encoder(opt);
    case Format::kResponses: return responses::make_encoder(opt);
    case Format::kGemini:
    case Format::kOllama:
    case Format::kBedrock: break;
  }
  // Provider-only formats have no encoder; Chat keeps a caller that asks anyway safe.
  return chat::make_encoder(opt);
}

namespace {

// Providers that stream NDJSON (Ollama) rather than SSE: one JSON object a line.
bool is_ndjson(Format provider) { return provider == Format::kOllama; }

// Splits NDJSON into one Event per non-empty line (data = the line, CR
// stripped); an incomplete last line waits in `pending` for the next chunk.
Result<void> ndjson_lines(std::string& pending, std::string_view chunk, size_t max_line,
                          std::vector<sse::Event>& out) {
  pending.append(chunk);
  size_t start = 0;
  for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(pending.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    sse::Event e;
    e.data.assign(line);
    out.push_back(std::move(e));
  }
  pending.erase(0, start);
  if (pending.size() > max_line)
    return make_error("ndjson_line_too_long",
                      "upstream NDJSON line longer than " + std::to_string(max_line) + " bytes",
                      {}, 502, ErrorSide::kUpstream);
  return Ok{};
}

// Bedrock's ConverseStream: AWS event-stream messages, each one Event whose
// `event` is the `:event-type` (or, for exceptions, the `:exception-type`)
// and whose `data` is the payload. An `error` message (transport-level,
// :error-code / :error-message headers) reads as an exception too.
bool is_eventstream(Format provider) { return provider == Format::kBedrock; }

void eventstream_events(std::vector<eventstream::Message>& msgs, std::vector<sse::Event>& out) {
  for (auto& m : msgs) {
    sse::Event e;
    std::string_view kind = m.header(":message-type");
    if (kind == "exception") {
      e.event = m.header(":exception-type");
      if (e.event.empty()) e.event = "unknownException";
      e.data = std::move(m.payload);
    } else if (kind == "error") {
      e.event = std::string(m.header(":error-code")) + "Exception";
      e.data = boost::json::serialize(
          boost::json::object{{"message", std::string(m.header(":error-message"))}});
    } else {
      e.event = m.header(":event-type");
      e.data = std::move(m.payload);
    }
    out.push_back(std::move(e));
  }
  msgs.clear();
}

}  // namespace

void Accumulator::add(const StreamEvent& e) {
  Response& r = response_;
  switch (e.kind) {
    case EventKind::kStart:
      started_ = true;
      r.id = e.id;
      r.model = e.model;
      if (e.usage.known) r.usage = e.usage;
      break;
    case EventKind::kBlockStart: {
      Part p;
      p.kind = e.part;
      p.id = e.id;
      p.name = e.name;
      p.item_id = e.item_id;
      if (e.part == PartKind::kRedactedThinking) p.text = e.text;
      if (slot_.size() <= e.index) slot_.resize(e.index + 1, SIZE_MAX);
      slot_[e.index] = r.content.size();
      r.content.push_back(std::move(p));
      break;
    }
    case EventKind::kDelta: {
      if (e.index >= slot_.size() || slot_[e.index] == SIZE_MAX) break;
      Part& p = r.content[slot_[e.index]];
      switch (e.delta) {
        case DeltaKind::kText:
        case DeltaKind::kThinking:
        case DeltaKind::kRefusal: p.text.append(e.text); break;
        case DeltaKind::kSignature: p.signature.append(e.text); break;
        case DeltaKind::kArguments: p.arguments.append(e.text); break;
      }
      break;
    }
    case EventKind::kUsage: r.usage = e.usage; break;  // cumulative snapshot: set
    case EventKind::kStop:
      stopped_ = true;
      r.stop = e.stop;
      r.stop_sequence = e.stop_sequence;
      break;
    case EventKind::kEnd: ended_ = true; break;
    case EventKind::kError:
      failed_ = true;
      r.error = e.error;
      r.stop = StopReason::kError;
      break;
    case EventKind::kBlockStop:
    case EventKind::kPing: break;
  }
}

StreamTranslator::StreamTranslator(Format provider, Format client, StreamOptions opt)
    : provider_(provider),
      passthrough_(opt.passthrough_same_format && provider == client && !opt.filter &&
                   !(client == Format::kChat && !opt.encoder.include_usage)),
      filter_(opt.filter),
      parser_([&] {
        sse::ParserOptions p = opt.sse;
        p.report_comments = true;  // keepalives are forwarded as the client's ping
        return p;
      }()),
      decoder_(make_decoder(provider)),
      encoder_(make_encoder(client, opt.encoder)),
      client_(client),
      encoder_opt_(opt.encoder),
      ndjson_(is_ndjson(provider)),
      eventstream_(is_eventstream(provider)),
      max_line_(opt.sse.max_frame_bytes),
      frames_([&] {
        eventstream::DecoderOptions o;
        o.max_message_bytes = opt.sse.max_frame_bytes;
        return o;
      }()) {}

void StreamTranslator::emit(const StreamEvent& e, std::string& out) {
  if (filter_) {
    filtered_.clear();
    std::optional<ErrorInfo> stop;
    filter_->filter(e, filtered_, stop);
    for (const auto& f : filtered_) {
      acc_.add(f);
      encoder_->encode(f, out);
    }
    if (stop) fail(*stop, out);
    return;
  }
  acc_.add(e);
  if (!passthrough_) encoder_->encode(e, out);
}

Result<void> StreamTranslator::feed(std::string_view chunk, std::string& out) {
  if (done_) return Ok{};
  events_.clear();
  Result<void> parsed = Ok{};
  if (ndjson_) {
    parsed = ndjson_lines(line_, chunk, max_line_, events_);
  } else if (eventstream_) {
    parsed = frames_.feed(chunk, messages_);
    eventstream_events(messages_, events_);
  } else {
    parsed = parser_.feed(chunk, events_);
  }
  for (const auto& ev : events_) {
    if (passthrough_) {
      // Same format: the provider's frames go out as they came (re-framed, not re-encoded),
      // so a cut never leaves half a frame in front of our error frame.
      if (ev.comment) sse::write_comment(out, ev.data);
      else sse::write_event(out, ev.event, ev.data, ev.id);
    }
    ir_.clear();
    if (ev.comment) {
      StreamEvent ping;
      ping.kind = EventKind::kPing;
      ir_.push_back(std::move(ping));
    } else if (auto r = decoder_->decode(ev, ir_); !r) {
      for (const auto& ie : ir_) emit(ie, out);
      fail(from_error(r.error()), out);
      return r.error();
    }
    for (const auto& ie : ir_)
      if (!done_) emit(ie, out);
    if (done_) return Ok{};  // a filter ended the stream
    if (decoder_->terminated()) {
      done_ = true;
      if (acc_.failed()) partial_ = true;
      return Ok{};  // anything after the terminal event is ignored
    }
  }
  if (!parsed) {
    fail(from_error(parsed.error()), out);
    return parsed.error();
  }
  return Ok{};
}

void StreamTranslator::fail(const ErrorInfo& e, std::string& out) {
  if (done_) return;
  partial_ = true;
  done_ = true;
  if (passthrough_) {
    // The encoder has not seen the stream: give it the start so ids match, then the error.
    std::string scratch;
    StreamEvent start;
    start.kind = EventKind::kStart;
    start.id = acc_.response().id;
    start.model = acc_.response().model;
    encoder_->encode(start, scratch);
  }
  StreamEvent ev;
  ev.kind = EventKind::kError;
  ev.error = e;
  acc_.add(ev);
  encoder_->encode(ev, out);
}

void StreamTranslator::withdraw(const ErrorInfo& e, std::string& out) {
  // The client never saw the withheld frames, maybe the end among them: a
  // fresh encoder writes the error (an ended Chat encoder writes nothing).
  encoder_ = make_encoder(client_, encoder_opt_);
  passthrough_ = false;
  done_ = false;
  fail(e, out);
}

void StreamTranslator::finish(std::string& out) {
  // A last NDJSON line may lack its newline.
  if (ndjson_ && !done_ && !line_.empty()) (void)feed("\n", out);
  if (done_) return;
  if (!acc_.started()) {
    StreamEvent start;
    start.kind = EventKind::kStart;
    emit(start, out);
  }
  ErrorInfo e;
  e.type = "api_error";
  e.code = "upstream_stream_truncated";
  e.message = "the upstream " + std::string(format_name(provider_)) +
              " stream ended before its final event";
  e.status = 502;
  fail(e, out);
}

Usage StreamTranslator::usage() const { return extract_usage(acc_.response(), partial_); }

Usage extract_usage(const Response& r, bool partial) {
  Usage u = r.usage;
  u.partial = u.partial || partial || r.stop == StopReason::kError;
  return u;
}

Result<Response> collect_stream(Format provider, std::string_view body) {
  sse::Parser parser;
  std::vector<sse::Event> events;
  std::string pending;
  Result<void> parsed = Ok{};
  if (is_ndjson(provider)) {
    parsed = ndjson_lines(pending, std::string(body) + "\n", sse::ParserOptions{}.max_frame_bytes,
                          events);
  } else if (is_eventstream(provider)) {
    eventstream::Decoder frames;
    std::vector<eventstream::Message> msgs;
    parsed = frames.feed(body, msgs);
    eventstream_events(msgs, events);
  } else {
    parsed = parser.feed(body, events);
  }
  auto decoder = make_decoder(provider);
  Accumulator acc;
  std::vector<StreamEvent> ir;
  for (const auto& ev : events) {
    ir.clear();
    if (auto r = decoder->decode(ev, ir); !r) return r.error();
    for (const auto& ie : ir) acc.add(ie);
    if (decoder->terminated()) break;
  }
  if (!parsed) return parsed.error();
  Response r = acc.response();
  r.usage.partial = !decoder->terminated() || acc.failed();
  return r;
}

}  // namespace gatehouse::ai
