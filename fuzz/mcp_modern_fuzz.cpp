// libFuzzer target: the 2026-07-28 request checks (header/body mirroring,
// the base64 header sentinel, the subscriptions/listen filter) and the SSE
// event ids Last-Event-ID is parsed into. Input: three header lines
// (MCP-Protocol-Version, Mcp-Method, Mcp-Name), then the JSON-RPC body.
// Seeds live in fuzz/corpus/mcp_modern/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/jsonrpc/message.hpp"
#include "mcp/server/modern.hpp"
#include "mcp/server/stream_bus.hpp"

using namespace gatehouse::mcp;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string lines[3];
  for (auto& l : lines) {
    size_t nl = text.find('\n');
    l = std::string(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  // An id we parse prints as one that parses to the same id.
  if (auto id = EventId::parse(lines[0])) {
    auto again = EventId::parse(id->str());
    CHECK(again && again->stream == id->stream && again->seq == id->seq);
  }
  if (auto v = modern::decode_header_value(lines[2]); v && !lines[2].starts_with("=?base64?"))
    CHECK(*v == lines[2]);
  jsonrpc::Parsed p = jsonrpc::parse(text);
  if (p.batch || !p.items[0].msg) return 0;
  const jsonrpc::Message& m = *p.items[0].msg;
  modern::Headers h{&lines[0], &lines[1], &lines[2]};
  std::string mismatch = modern::check_headers(m, h);
  // Agreeing headers are accepted only if the body says the same things.
  if (mismatch.empty()) {
    auto v = modern::body_version(m);
    CHECK(v && *v == lines[0]);
    if (m.is_request()) CHECK(m.method == lines[1]);
  }
  std::string why;
  if (auto f = modern::ListenFilter::parse(m.params(), why)) {
    boost::json::object ack = f->acknowledged();
    CHECK(f->wants("notifications/tools/list_changed") == ack.contains("toolsListChanged"));
    std::string stamped = modern::stamp(jsonrpc::make_notification("x", {}), m.id);
    CHECK(!stamped.empty());
  } else {
    CHECK(!why.empty());
  }
  return 0;
}
