// libFuzzer target: the 2026-07-28 request checks (header/body mirroring,
// the base64 header sentinel, the _meta rules, SEP-2243 Mcp-Param-* headers
// against a tool's x-mcp-header arguments, log levels, the
// subscriptions/listen filter), the result reshaping, and the SSE event ids
// Last-Event-ID is parsed into. Input: three header lines
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
  // The body read as an answer: reshaping keeps it JSON and never drops
  // the type (or the hints of a cacheable method).
  std::string shaped = modern::shape_result(text, lines[1], lines[2].empty());
  {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(shaped, ec);
    const boost::json::object* o = ec ? nullptr : v.if_object();
    const boost::json::value* r = o ? o->if_contains("result") : nullptr;
    if (r && r->is_object()) CHECK(r->as_object().contains("resultType"));
    if (shaped != text) CHECK(!ec);
  }
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
  // _meta: accepted only with a string version and an object of capabilities.
  if (modern::check_meta(m).empty()) CHECK(modern::body_version(m).has_value());
  // The params as a tool definition and its arguments; the Mcp-Name line
  // stands for every Mcp-Param-* header.
  if (const auto* params = m.params()) {
    const boost::json::value* a = params->if_contains("arguments");
    auto header = [&](std::string_view) -> const std::string* { return &lines[2]; };
    auto none = [](std::string_view) -> const std::string* { return nullptr; };
    modern::check_param_headers(*params, a ? a->if_object() : nullptr, header);
    modern::check_param_headers(*params, a ? a->if_object() : nullptr, none);
    CHECK(modern::note_wanted(m, boost::json::object{{"method", "notifications/progress"}}));
    boost::json::object log{{"method", "notifications/message"},
                            {"params", boost::json::object{{"level", "emergency"}}}};
    CHECK(modern::note_wanted(m, log) == modern::wants_logs(m));
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
