// Streaming translation: provider SSE events -> normalized IR events (decoders) -> client
// SSE frames (encoders), and the translator that composes them with the SSE parser.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/eventstream/codec.hpp"
#include "ai/sse/parser.hpp"
#include "ai/translate/ir.hpp"
#include "common/result.hpp"

namespace gatehouse::ai {

// Provider events in, IR events out. A decoder keeps only what it must (open blocks,
// tool-call index maps), never the text.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // An error means the provider sent something unreadable; the stream cannot go on.
  virtual Result<void> decode(const sse::Event& e, std::vector<StreamEvent>& out) = 0;
  // The provider's terminal event ([DONE], message_stop, response.completed) or an
  // in-band error was seen.
  virtual bool terminated() const = 0;
};

struct EncoderOptions {
  bool include_usage = true;  // Chat: emit the usage chunk (choices: [])
  int64_t created = 0;        // Chat `created` / Responses `created_at`; 0: the clock
};

// IR events in, client SSE bytes out.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void encode(const StreamEvent& e, std::string& out) = 0;
};

std::unique_ptr<StreamDecoder> make_decoder(Format provider);
std::unique_ptr<StreamEncoder> make_encoder(Format client, const EncoderOptions& opt);

// Folds IR events into a Response: the ledger, a stream-to-JSON fallback, and the
// Responses encoder's final object all come from it.
class Accumulator {
 public:
  void add(const StreamEvent& e);
  const Response& response() const { return response_; }
  Response& response() { return response_; }
  bool started() const { return started_; }
  bool stopped() const { return stopped_; }
  bool ended() const { return ended_; }
  bool failed() const { return failed_; }

 private:
  Response response_;
  std::vector<size_t> slot_;  // IR block index -> position in response_.content
  bool started_ = false;
  bool stopped_ = false;
  bool ended_ = false;
  bool failed_ = false;
};

// Sits between the decoder and the encoder (guardrails): sees every IR event
// and writes the ones to encode now, possibly rewritten or held back. Setting
// `stop` ends the stream with that in-band error after `out` is encoded.
class EventFilter {
 public:
  virtual ~EventFilter() = default;
  virtual void filter(const StreamEvent& e, std::vector<StreamEvent>& out,
                      std::optional<ErrorInfo>& stop) = 0;
};

struct StreamOptions {
  EncoderOptions encoder;
  // Not owned; outlives the translator. Set: no same-format passthrough.
  EventFilter* filter = nullptr;
  sse::ParserOptions sse;
  // Same format on both sides: forward the provider's bytes unchanged (still decoding them
  // for the ledger and for cut detection). Ignored for a Chat client that did not ask for
  // usage, because the upstream request always asks for it.
  bool passthrough_same_format = true;
};

// Provider body bytes in, client body bytes out.
class StreamTranslator {
 public:
  StreamTranslator(Format provider, Format client, StreamOptions opt = {});

  // Feeds a chunk of the provider body; appends client bytes to `out`. On error (bad SSE,
  // unreadable event) the translator has already written an in-band error frame in the
  // client's format to `out`, is finished, and the result is partial.
  Result<void> feed(std::string_view chunk, std::string& out);
  // The provider body ended. If its terminal event never came, writes an in-band error
  // frame (never a silently truncated success) and marks the result partial.
  void finish(std::string& out);
  // Ends the stream with an error the caller saw (upstream read error, timeout).
  void fail(const ErrorInfo& e, std::string& out);
  // The caller withheld frames this translator produced (a moderation hook
  // flagged them), maybe its final ones: ends the stream with an in-band
  // error even after the terminal event was encoded; the result is partial.
  void withdraw(const ErrorInfo& e, std::string& out);

  bool done() const { return done_; }
  bool partial() const { return partial_; }
  // The ledger: final once finish() ran; partial() is folded into it.
  Usage usage() const;
  const Response& response() const { return acc_.response(); }

 private:
  void emit(const StreamEvent& e, std::string& out);

  Format provider_;
  bool passthrough_;
  EventFilter* filter_;
  std::vector<StreamEvent> filtered_;
  sse::Parser parser_;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<StreamEncoder> encoder_;
  Format client_;
  EncoderOptions encoder_opt_;
  Accumulator acc_;
  std::vector<sse::Event> events_;
  std::vector<StreamEvent> ir_;
  bool done_ = false;
  bool partial_ = false;
  bool ndjson_ = false;   // the provider streams NDJSON (Ollama), not SSE
  bool eventstream_ = false;  // the provider streams AWS event-stream frames (Bedrock)
  size_t max_line_ = 0;   // NDJSON: longest line accepted
  std::string line_;      // NDJSON: the incomplete last line
  eventstream::Decoder frames_;  // event stream: the binary framing
  std::vector<eventstream::Message> messages_;
};

// The ledger of a finished or cut stream / response.
Usage extract_usage(const Response& r, bool partial);

namespace chat {
std::unique_ptr<StreamDecoder> make_decoder();
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt);
}  // namespace chat
namespace messages {
std::unique_ptr<StreamDecoder> make_decoder();
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt);
}  // namespace messages
namespace responses {
std::unique_ptr<StreamDecoder> make_decoder();
std::unique_ptr<StreamEncoder> make_encoder(const EncoderOptions& opt);
}  // namespace responses
namespace gemini {
std::unique_ptr<StreamDecoder> make_decoder();
}  // namespace gemini
namespace ollama {
std::unique_ptr<StreamDecoder> make_decoder();  // fed one NDJSON line per Event::data
}  // namespace ollama
namespace bedrock {
// Fed one event-stream message per Event: `event` = event or exception type, `data` = payload.
std::unique_ptr<StreamDecoder> make_decoder();
}  // namespace bedrock

}  // namespace gatehouse::ai

namespace gatehouse::ai {

// Reads a whole provider SSE body into a Response (stream -> non-stream, and the ledger of
// a finished or cut stream). A cut stream gives usage.partial = true and stop kError when
// an error event ended it.
Result<Response> collect_stream(Format provider, std::string_view body);

}  // namespace gatehouse::ai
