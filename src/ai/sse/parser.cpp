#include "ai/sse/parser.hpp"

#include <cstring>

namespace gatehouse::sse {

const std::string& Event::type_or_default() const {
  static const std::string kMessage = "message";
  return event.empty() ? kMessage : event;
}

bool Parser::pending() const { return frame_started_ || !line_.empty(); }

Result<void> Parser::check_size(size_t extra) const {
  if (line_.size() + data_.size() + event_.size() + extra > options_.max_frame_bytes) {
    return make_error("sse_frame_too_large",
                      "server-sent event frame exceeds " +
                          std::to_string(options_.max_frame_bytes) + " bytes",
                      {}, 502, ErrorSide::kUpstream);
  }
  return Ok{};
}

Result<void> Parser::feed(std::string_view chunk, std::vector<Event>& out) {
  if (failed_) {
    return make_error("sse_failed", "event stream parser already failed", {}, 502,
                      ErrorSide::kUpstream);
  }
  if (!bom_checked_) {
    // A leading UTF-8 BOM is stripped; it may itself arrive split across chunks.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    while (!chunk.empty() && bom_seen_ < kBom.size() && chunk.front() == kBom[bom_seen_]) {
      ++bom_seen_;
      chunk.remove_prefix(1);
    }
    if (bom_seen_ == kBom.size()) {
      bom_checked_ = true;
    } else if (!chunk.empty()) {
      bom_checked_ = true;
      if (bom_seen_ > 0) {  // not a BOM after all: those bytes were content
        if (auto r = feed_lines(kBom.substr(0, bom_seen_), out); !r) return r;
      }
    }
    if (chunk.empty()) return Ok{};
  }
  return feed_lines(chunk, out);
}

Result<void> Parser::feed_lines(std::string_view chunk, std::vector<Event>& out) {
  size_t pos = 0;
  if (skip_lf_ && !chunk.empty()) {
    if (chunk[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < chunk.size()) {
    const char* start = chunk.data() + pos;
    size_t left = chunk.size() - pos;
    const void* nl = std::memchr(start, '\n', left);
    const void* cr = std::memchr(start, '\r', left);
    const char* end = nullptr;
    if (nl && cr) end = static_cast<const char*>(nl < cr ? nl : cr);
    else end = static_cast<const char*>(nl ? nl : cr);
    if (end == nullptr) {
      if (auto r = check_size(left); !r) {
        failed_ = true;
        return r;
      }
      line_.append(start, left);
      break;
    }
    size_t len = static_cast<size_t>(end - start);
    if (auto r = check_size(len); !r) {
      failed_ = true;
      return r;
    }
    if (line_.empty()) {
      process_line(std::string_view(start, len), out);
    } else {
      line_.append(start, len);
      std::string line;
      line.swap(line_);
      process_line(line, out);
    }
    pos += len + 1;
    if (*end == '\r') {
      if (pos < chunk.size()) {
        if (chunk[pos] == '\n') ++pos;
      } else {
        skip_lf_ = true;
      }
    }
  }
  return Ok{};
}

void Parser::process_line(std::string_view line, std::vector<Event>& out) {
  if (line.empty()) {
    // Dispatch. A frame with no data field is dropped, but its event type is reset too.
    if (has_data_) {
      Event e;
      e.event.swap(event_);
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      e.data.swap(data_);
      e.id = last_id_;
      e.retry = retry_;
      out.push_back(std::move(e));
    }
    event_.clear();
    data_.clear();
    retry_.reset();
    has_data_ = false;
    frame_started_ = false;
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    if (options_.report_comments) {
      Event e;
      e.comment = true;
      std::string_view text = line.substr(1);
      if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      e.data.assign(text);
      out.push_back(std::move(e));
    }
    return;
  }
  frame_started_ = true;
  std::string_view field = line;
  std::string_view value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    bool digits = !value.empty() && value.size() <= 18;
    uint64_t v = 0;
    for (char c : value) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (digits) retry_ = v;
  }
  // Any other field is ignored, as the spec says.
}

}  // namespace gatehouse::sse
