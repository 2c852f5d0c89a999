// libFuzzer target: request heads, then the chunked body that follows them.
// Beyond "no crash" it checks the properties the proxy relies on: a complete head's prefixes
// are all incomplete, parsing is not affected by what follows the head, and the chunked
// decoder gives the same answer however the body is split across reads.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

using namespace gatehouse::http1;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

struct Decoded {
  std::string data;
  size_t consumed = 0;
  bool done = false;
  bool error = false;
  std::string code;
};

// Feeds `body` in pieces whose sizes come from `seed` (so the fuzzer steers them), copying
// each piece into its own buffer so a span that outlives its feed would be caught by ASan.
Decoded decode_split(std::string_view body, std::string_view seed, size_t max_line,
                     size_t max_trailer) {
  ChunkedDecoder dec(max_line, max_trailer);
  Decoded out;
  size_t pos = 0;
  size_t k = 0;
  while (pos < body.size()) {
    size_t len = body.size() - pos;
    if (!seed.empty()) {
      len = std::min(len, size_t{1} + static_cast<unsigned char>(seed[k++ % seed.size()]) % 23);
    }
    std::vector<char> piece(body.begin() + pos, body.begin() + pos + len);
    ChunkedDecoder::Output o = dec.feed(std::string_view(piece.data(), piece.size()));
    CHECK(o.consumed <= len);
    for (std::string_view d : o.data) {
      CHECK(d.data() >= piece.data() && d.data() + d.size() <= piece.data() + piece.size());
      out.data.append(d);
    }
    out.consumed += o.consumed;
    if (o.error) {
      CHECK(!o.error_code.empty());
      out.error = true;
      out.code = o.error_code;
      return out;
    }
    if (o.done) {
      CHECK(dec.done());
      out.done = true;
      return out;
    }
    CHECK(o.consumed == len);
    pos += len;
  }
  return out;
}

void check_chunked(std::string_view body, std::string_view seed) {
  const size_t max_line = 64;
  const size_t max_trailer = 256;
  Decoded whole = decode_split(body, {}, max_line, max_trailer);
  Decoded split = decode_split(body, seed, max_line, max_trailer);
  std::vector<char> one_byte_seed(1, 0);  // 1-byte pieces
  Decoded bytes = decode_split(body, std::string_view(one_byte_seed.data(), 1), max_line,
                               max_trailer);
  for (const Decoded* d : {&split, &bytes}) {
    CHECK(d->error == whole.error);
    CHECK(d->done == whole.done);
    CHECK(d->code == whole.code);
    if (!whole.error) {
      CHECK(d->data == whole.data);
      CHECK(d->consumed == whole.consumed);
    }
  }
}

void check_head(std::string_view in, const Limits& limits) {
  RequestHead head;
  ParseError err;
  const ParseStatus st = parse_request_head(in, limits, head, err);
  if (st == ParseStatus::kError) {
    CHECK(!err.code.empty());
    CHECK(!err.message.empty());
    CHECK(err.status == 400 || err.status == 414 || err.status == 417 || err.status == 431 ||
          err.status == 501 || err.status == 505);
    return;
  }
  if (st == ParseStatus::kIncomplete) {
    CHECK(in.size() < limits.max_header_bytes);
    return;
  }
  CHECK(head.head_bytes > 0 && head.head_bytes <= in.size());
  CHECK(head.head_bytes <= limits.max_header_bytes);
  CHECK(head.headers.size() <= limits.max_headers);
  CHECK(!head.method.empty() && !head.target.empty());
  CHECK(head.version_minor == 0 || head.version_minor == 1);
  for (const Header& h : head.headers) {
    CHECK(!h.name.empty());
    for (char c : h.name) CHECK(is_tchar(static_cast<unsigned char>(c)));
    for (char c : h.value) CHECK(c != '\r' && c != '\n' && c != '\0');
    if (!h.value.empty()) CHECK(h.value.front() != ' ' && h.value.back() != ' ');
  }
  if (head.body == BodyKind::kChunked) CHECK(head.version_minor == 1);
  CHECK(head.body != BodyKind::kUntilClose);
  if (head.body != BodyKind::kContentLength) CHECK(head.content_length == 0);
  CHECK(head.content_length <= (uint64_t{1} << 62));

  // What follows the head never changes it.
  RequestHead alone;
  CHECK(parse_request_head(in.substr(0, head.head_bytes), limits, alone, err) ==
        ParseStatus::kComplete);
  CHECK(alone.head_bytes == head.head_bytes && alone.headers.size() == head.headers.size() &&
        alone.body == head.body && alone.content_length == head.content_length &&
        alone.keep_alive == head.keep_alive && alone.target == head.target);
  // Every shorter prefix is merely incomplete (spot-checked: the last byte and a pseudo-random cut).
  RequestHead part;
  CHECK(parse_request_head(in.substr(0, head.head_bytes - 1), limits, part, err) ==
        ParseStatus::kIncomplete);
  const size_t cut = (in.size() * 31 + head.head_bytes) % head.head_bytes;
  CHECK(parse_request_head(in.substr(0, cut), limits, part, err) == ParseStatus::kIncomplete);

  if (head.body == BodyKind::kChunked) check_chunked(in.substr(head.head_bytes), in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_head(in, Limits{});
  Limits small;
  small.max_request_line = 48;
  small.max_header_bytes = 160;
  small.max_headers = 4;
  check_head(in, small);
  // The decoder on its own, on raw bytes: most inputs are not a valid head.
  if (size > 0 && (data[0] & 1)) check_chunked(in.substr(1), in);
  return 0;
}
