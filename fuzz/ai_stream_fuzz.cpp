// libFuzzer target: the provider stream decoders (Gemini SSE chunks, Ollama
// NDJSON lines, and the Chat/Messages/Responses ones beside them) behind the
// stream translator. However the bytes are split, the client output must be
// identical, and whatever the bytes the translator must end (finish) without
// crashing. The first input
// byte picks the provider and client formats. Seeds: fuzz/corpus/ai_stream/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ai/translate/stream.hpp"

using namespace gatehouse::ai;

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

constexpr Format kProviders[] = {Format::kGemini, Format::kOllama, Format::kChat, Format::kMessages,
                                 Format::kResponses};
constexpr Format kClients[] = {Format::kChat, Format::kMessages, Format::kResponses};

std::string run(Format provider, Format client, std::string_view body, std::string_view seed) {
  StreamOptions opt;
  opt.encoder.created = 1700000000;
  opt.passthrough_same_format = false;
  opt.sse.max_frame_bytes = 4096;
  StreamTranslator t(provider, client, opt);
  std::string out;
  size_t pos = 0, k = 0;
  while (pos < body.size() && !t.done()) {
    size_t n =
        seed.empty() ? body.size() : 1 + static_cast<unsigned char>(seed[k++ % seed.size()]) % 23;
    n = std::min(n, body.size() - pos);
    std::string piece(body.substr(pos, n));  // own buffer: no view may outlive a feed
    (void)t.feed(piece, out);
    pos += n;
  }
  t.finish(out);
  CHECK(t.done());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Format provider = kProviders[data[0] % 5];
  const Format client = kClients[(data[0] / 5) % 3];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view seed = body.substr(0, std::min<size_t>(8, body.size()));
  std::string whole = run(provider, client, body, {});
  std::string split = run(provider, client, body, seed);
  CHECK(whole == split);
  // Reading our own output back (collect_stream(client, whole).ok()) is not
  // checked yet: the first 60 s run found a mutated Anthropic stream whose Chat
  // translation does not read back (seed messages_to_chat_readback); open.
  return 0;
}
