// text/event-stream writer: frames that any conforming parser reads back unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::sse {

// Appends one event. `data` may hold newlines (CR, LF or CRLF): each line becomes its own
// `data:` line, so the reader joins them back with '\n'. An empty `event` writes no
// `event:` line (the reader sees type "message").
void write_event(std::string& out, std::string_view event, std::string_view data,
                 std::string_view id = {});

// Appends `: text` lines (keepalives). Newlines in `text` start new comment lines.
void write_comment(std::string& out, std::string_view text);

void write_retry(std::string& out, uint64_t ms);

}  // namespace gatehouse::sse
