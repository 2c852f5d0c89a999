// libFuzzer target for the MCP parsers of untrusted text other than JSON-RPC:
// Mcp-Session-Id tokens (base64url + AES-GCM open, then the state JSON), list
// cursors and URI-template matching. None may crash; a token the fuzzer made
// never opens (it would need the key); a state that decodes re-encodes to
// something that decodes the same. Seeds live in fuzz/corpus/mcp_session/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/aggregate/merge.hpp"
#include "mcp/server/session_token.hpp"

using namespace gatehouse::mcp;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto key = SessionKey::derive("fuzzing secret, at least 32 characters long");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CHECK(!key->open(text));
  if (auto s = SessionState::decode(text)) {
    auto again = SessionState::decode(s->encode());
    CHECK(again && again->route == s->route && again->upstreams.size() == s->upstreams.size());
    auto sealed = key->seal(s->encode());
    CHECK(key->open(sealed));
  }
  (void)aggregate::decode_cursor("tools/list", text);
  size_t cut = text.find('\n');
  if (cut != std::string_view::npos)
    (void)aggregate::uri_template_match(text.substr(0, cut), text.substr(cut + 1));
  (void)aggregate::glob_match(text.substr(0, size / 2), text.substr(size / 2));
  return 0;
}
