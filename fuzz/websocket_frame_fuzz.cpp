// libFuzzer target: the WebSocket frame-header scanner of the tunnel relay
// (src/net/websocket/frame.hpp). Byte 0 picks the direction, extensions and
// limits, byte 1 where the stream is split in two reads. The scanner must
// never pass more than it was given, and must reach the same verdict with
// the same bytes passed whether the stream came whole or split (the relay
// re-presents held-back header bytes with the next read).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/websocket/frame.hpp"

using namespace gatehouse::net::websocket;

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

struct Outcome {
  size_t passed = 0;
  uint16_t close = 0;
  bool boundary = true;
};

Outcome run(FrameScanner s, std::string_view in, size_t cut) {
  Outcome o;
  std::string pending;
  for (std::string_view part : {in.substr(0, cut), in.substr(cut)}) {
    pending += part;
    auto r = s.scan(pending);
    CHECK(r.pass <= pending.size());
    o.passed += r.pass;
    pending.erase(0, r.pass);
    if (r.close) {
      o.close = r.close;
      CHECK(r.close == kCloseProtocolError || r.close == kCloseTooBig);
      break;
    }
  }
  o.boundary = s.at_boundary();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t cut = in.empty() ? 0 : data[1] % (in.size() + 1);
  FrameLimits limits;
  if (mode & 4) limits.max_frame = 1u << (mode >> 4);
  if (mode & 8) limits.max_message = 2u << (mode >> 4);
  FrameScanner proto(mode & 1, mode & 2, limits);
  Outcome whole = run(proto, in, in.size());
  Outcome split = run(proto, in, cut);
  CHECK(whole.passed == split.passed);
  CHECK(whole.close == split.close);
  CHECK(whole.boundary == split.boundary);
  // A close frame we build is a valid frame for the receiving side.
  std::array<uint8_t, 4> key{data[0], data[1], 7, 9};
  std::string cf = close_frame(kCloseTooBig, in.substr(0, 200), (mode & 1) ? &key : nullptr);
  FrameScanner rx(mode & 1, false, {});
  auto r = rx.scan(cf);
  CHECK(r.close == 0 && r.pass == cf.size() && rx.at_boundary());
  return 0;
}
