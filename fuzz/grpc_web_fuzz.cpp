// libFuzzer target: the gRPC-Web request codec (src/proxy/grpc_web.*). Any
// bytes as a text-mode body (base64, concatenated padded chunks) and as a
// binary body (frames): never crash, never accept a cut frame, and base64
// must round-trip. Seeds live in fuzz/corpus/grpc_web/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/grpc_web.hpp"

using namespace gatehouse::proxy::grpc_web;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

// An independent walk over the frames: true when they tile the body.
bool frames_tile(std::string_view b) {
  size_t at = 0;
  while (at < b.size()) {
    if (b.size() - at < 5) return false;
    uint64_t len = 0;
    for (size_t i = 1; i <= 4; ++i) len = len << 8 | static_cast<unsigned char>(b[at + i]);
    if (len > b.size() - at - 5) return false;
    at += 5 + len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Problem why;
  // Binary mode.
  bool ok = check_request_frames(in, why);
  if (ok) CHECK(frames_tile(in));
  if (!ok) CHECK(!why.code.empty() && !why.message.empty());
  // Text mode.
  std::string decoded;
  if (base64_decode(in, decoded, why)) {
    CHECK(decoded.size() <= in.size() / 4 * 3);
    check_request_frames(decoded, why);
  } else {
    CHECK(why.code == "grpc_web_bad_base64");
  }
  // Encoding round-trips whatever the bytes.
  std::string back;
  CHECK(base64_decode(base64_encode(in), back, why) && back == in);
  // Content types and a trailer frame built from the bytes.
  Kind k;
  if (parse_content_type(in, k)) CHECK(k.subtype.empty() || k.subtype[0] == '+');
  std::string f = trailer_frame({{"grpc-message", std::string(in)}});
  CHECK(f.size() == 5 + 16 + in.size() && static_cast<unsigned char>(f[0]) == 0x80);
  return 0;
}
