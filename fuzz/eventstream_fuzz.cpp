// libFuzzer target: the AWS event-stream decoder (Bedrock's ConverseStream
// framing) and the Bedrock stream decoder behind it. However the bytes are
// split, the decoder must give the same messages and the same verdict, never
// crash nor buffer past its limit; every decoded message must encode back to
// bytes that decode to it; and the Bedrock translator must give the same
// client bytes for any split. Seeds: fuzz/corpus/eventstream/ (the Bedrock
// fixtures of tests/fixtures/ai/bedrock).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ai/eventstream/codec.hpp"
#include "ai/translate/stream.hpp"

using namespace gatehouse;

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

size_t piece_size(std::string_view seed, size_t& k, size_t whole) {
  return seed.empty() ? whole : 1 + static_cast<unsigned char>(seed[k++ % seed.size()]) % 29;
}

struct Run {
  std::vector<eventstream::Message> msgs;
  bool ok = true;
};

Run decode(std::string_view bytes, std::string_view seed) {
  eventstream::DecoderOptions opt;
  opt.max_message_bytes = 4096;
  eventstream::Decoder d(opt);
  Run r;
  size_t pos = 0, k = 0;
  while (pos < bytes.size() && r.ok) {
    size_t n = std::min(piece_size(seed, k, bytes.size()), bytes.size() - pos);
    std::string piece(bytes.substr(pos, n));
    r.ok = d.feed(piece, r.msgs).ok();
    pos += n;
  }
  return r;
}

bool same(const eventstream::Message& a, const eventstream::Message& b) {
  if (a.payload != b.payload || a.headers.size() != b.headers.size()) return false;
  for (size_t i = 0; i < a.headers.size(); ++i)
    if (a.headers[i].name != b.headers[i].name || a.headers[i].type != b.headers[i].type ||
        a.headers[i].value != b.headers[i].value)
      return false;
  return true;
}

std::string translate(ai::Format client, std::string_view body, std::string_view seed) {
  ai::StreamOptions opt;
  opt.encoder.created = 1700000000;
  opt.sse.max_frame_bytes = 4096;
  ai::StreamTranslator t(ai::Format::kBedrock, client, opt);
  std::string out;
  size_t pos = 0, k = 0;
  while (pos < body.size() && !t.done()) {
    size_t n = std::min(piece_size(seed, k, body.size()), body.size() - pos);
    std::string piece(body.substr(pos, n));
    (void)t.feed(piece, out);
    pos += n;
  }
  t.finish(out);
  CHECK(t.done());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string_view seed = bytes.substr(0, std::min<size_t>(8, bytes.size()));
  Run whole = decode(bytes, {});
  Run split = decode(bytes, seed);
  CHECK(whole.ok == split.ok);
  CHECK(whole.msgs.size() == split.msgs.size());
  for (size_t i = 0; i < whole.msgs.size(); ++i) CHECK(same(whole.msgs[i], split.msgs[i]));
  for (const auto& m : whole.msgs) {
    Run again = decode(eventstream::encode(m), {});
    CHECK(again.ok && again.msgs.size() == 1 && same(again.msgs[0], m));
  }
  const ai::Format client = static_cast<ai::Format>(size % 3);  // Chat, Messages, Responses
  CHECK(translate(client, bytes, {}) == translate(client, bytes, seed));
  return 0;
}
