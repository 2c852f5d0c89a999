// Incremental text/event-stream parser (WHATWG HTML "Server-sent events", section
// "Interpreting an event stream"), fed arbitrary chunks of an upstream body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::sse {

struct Event {
  std::string event;  // the `event:` field; empty means the default type "message"
  std::string data;   // `data:` lines joined with '\n' (trailing '\n' removed)
  std::string id;     // the last event id in force when this event was dispatched
  std::optional<uint64_t> retry;  // set when this frame carried a valid `retry:` field
  bool comment = false;           // a `:comment` line (only with report_comments); text in data

  const std::string& type_or_default() const;
};

struct ParserOptions {
  // Bytes one frame may hold: the pending line plus the data, event and id buffers.
  size_t max_frame_bytes = 4 * 1024 * 1024;
  // Emit comment lines as Event{comment=true}; keepalives (`: ping`) become visible.
  bool report_comments = false;
};

class Parser {
 public:
  explicit Parser(ParserOptions options = {}) : options_(options) {}

  // Consumes `chunk` and appends every event it completes to `out`. After an error the
  // parser stays failed (the frame limit was crossed; the stream cannot be resynchronised).
  Result<void> feed(std::string_view chunk, std::vector<Event>& out);

  // True when bytes of an undispatched frame are buffered. At the end of the stream such a
  // frame is discarded (as the spec says); callers use this to tell a cut stream.
  bool pending() const;
  uint64_t comments() const { return comments_; }
  const std::string& last_event_id() const { return last_id_; }
  bool failed() const { return failed_; }

 private:
  Result<void> feed_lines(std::string_view chunk, std::vector<Event>& out);
  void process_line(std::string_view line, std::vector<Event>& out);
  Result<void> check_size(size_t extra) const;

  ParserOptions options_;
  std::string line_;       // a line split across chunks
  std::string event_;
  std::string data_;
  std::string last_id_;
  std::optional<uint64_t> retry_;
  bool has_data_ = false;  // a data: field was seen (data_ may legitimately be "")
  bool frame_started_ = false;
  bool skip_lf_ = false;   // the previous chunk ended in CR: a leading LF belongs to it
  bool bom_checked_ = false;
  size_t bom_seen_ = 0;
  bool failed_ = false;
  uint64_t comments_ = 0;
};

}  // namespace gatehouse::sse
