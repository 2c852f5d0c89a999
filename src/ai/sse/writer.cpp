#include "ai/sse/writer.hpp"

#include <cstring>

namespace gatehouse::sse {
namespace {

// The first CR or LF at or after `pos`. Two memchr scans: string_view's
// find_first_of("\r\n") calls memchr over the set once per byte of text,
// which showed up at 6% of a streamed AI request's CPU.
size_t find_break(std::string_view text, size_t pos) {
  if (pos >= text.size()) return std::string_view::npos;
  const char* b = text.data() + pos;
  size_t n = text.size() - pos;
  const void* lf = std::memchr(b, '\n', n);
  size_t limit = lf ? static_cast<size_t>(static_cast<const char*>(lf) - b) : n;
  const void* cr = std::memchr(b, '\r', limit);
  if (cr) return pos + static_cast<size_t>(static_cast<const char*>(cr) - b);
  return lf ? pos + limit : std::string_view::npos;
}

// Writes `prefix` + each line of `text`; lines end at CR, LF or CRLF like the parser's.
void write_lines(std::string& out, std::string_view prefix, std::string_view text) {
  size_t pos = 0;
  while (true) {
    size_t end = find_break(text, pos);
    out.append(prefix);
    if (end == std::string_view::npos) {
      out.append(text.substr(pos));
      out.push_back('\n');
      return;
    }
    out.append(text.substr(pos, end - pos));
    out.push_back('\n');
    pos = end + 1;
    if (text[end] == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
  }
}

// Field values cannot carry line breaks; a name or id that has them is cut at the first.
std::string_view single_line(std::string_view v) {
  return v.substr(0, find_break(v, 0));
}

}  // namespace

void write_event(std::string& out, std::string_view event, std::string_view data,
                 std::string_view id) {
  if (!event.empty()) {
    out.append("event: ");
    out.append(single_line(event));
    out.push_back('\n');
  }
  if (!id.empty()) {
    out.append("id: ");
    out.append(single_line(id));
    out.push_back('\n');
  }
  write_lines(out, "data: ", data);
  out.push_back('\n');
}

void write_comment(std::string& out, std::string_view text) {
  write_lines(out, ": ", text);
  out.push_back('\n');
}

void write_retry(std::string& out, uint64_t ms) {
  out.append("retry: ");
  out.append(std::to_string(ms));
  out.append("\n\n");
}

}  // namespace gatehouse::sse
