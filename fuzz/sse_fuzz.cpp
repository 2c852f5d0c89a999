// libFuzzer target: the SSE parser must give the same events however the byte stream is
// split into chunks, never crash, and never buffer past its frame limit. The writer's
// output must parse back to what was written. Seeds live in fuzz/corpus/sse/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ai/sse/parser.hpp"
#include "ai/sse/writer.hpp"

using namespace gatehouse::sse;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

struct Run {
  std::vector<Event> events;
  bool ok = true;
};

Run parse(std::string_view text, std::string_view seed, size_t limit) {
  ParserOptions opt;
  opt.max_frame_bytes = limit;
  Parser p(opt);
  Run run;
  size_t pos = 0;
  size_t k = 0;
  while (pos < text.size() && run.ok) {
    size_t n = seed.empty() ? text.size() : 1 + static_cast<unsigned char>(seed[k++ % seed.size()]) % 17;
    n = std::min(n, text.size() - pos);
    std::string piece(text.substr(pos, n));  // own buffer: no view may outlive a feed
    run.ok = p.feed(piece, run.events).ok();
    pos += n;
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view seed = text.substr(0, std::min<size_t>(8, text.size()));
  const size_t limit = 256;
  Run whole = parse(text, {}, limit);
  Run split = parse(text, seed, limit);
  CHECK(whole.ok == split.ok);
  if (whole.ok) {
    CHECK(whole.events.size() == split.events.size());
    for (size_t i = 0; i < whole.events.size(); ++i) {
      CHECK(whole.events[i].event == split.events[i].event);
      CHECK(whole.events[i].data == split.events[i].data);
      CHECK(whole.events[i].id == split.events[i].id);
    }
    // Re-encode every event and parse it back: the writer must round-trip the parser.
    std::string out;
    for (const auto& e : whole.events) write_event(out, e.event, e.data, e.id);
    Run again = parse(out, {}, 1 << 20);
    CHECK(again.ok && again.events.size() == whole.events.size());
    for (size_t i = 0; i < whole.events.size(); ++i) {
      CHECK(again.events[i].data == whole.events[i].data);
      // A type or id holding a line break is cut by the writer, by design.
      if (whole.events[i].event.find_first_of("\r\n") == std::string::npos)
        CHECK(again.events[i].event == whole.events[i].event);
    }
  }
  return 0;
}
