// libFuzzer target: the JSON-RPC classifier must never crash, must return
// exactly one outcome per message, and every accepted message must classify
// the same way again after serialisation (what a relay forwards is what it
// understood). Seeds live in fuzz/corpus/jsonrpc/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/jsonrpc/message.hpp"

using namespace gatehouse::mcp::jsonrpc;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Parsed p = parse(text);
  CHECK(!p.items.empty());
  for (const auto& it : p.items) {
    if (!it.msg) {
      CHECK(it.fail.code == kParseError || it.fail.code == kInvalidRequest);
      CHECK(!it.fail.message.empty());
      continue;
    }
    std::string again = boost::json::serialize(it.msg->raw);
    Parsed q = parse(again);
    CHECK(!q.batch && q.items.size() == 1 && q.items[0].msg);
    CHECK(q.items[0].msg->kind == it.msg->kind);
    CHECK(q.items[0].msg->method == it.msg->method);
  }
  return 0;
}
