// libFuzzer target: response heads from an upstream (every failure must be a 502), then the
// chunked body and its kept trailer section, split as the fuzzer likes.
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

std::string decode(std::string_view body, std::string_view seed, bool& done, bool& error,
                   std::string& code, size_t& consumed, std::string& trailers) {
  ChunkedDecoder dec(128, 512);
  dec.keep_trailers();
  std::string data;
  size_t pos = 0;
  size_t k = 0;
  done = error = false;
  consumed = 0;
  while (pos < body.size()) {
    size_t len = body.size() - pos;
    if (!seed.empty())
      len = std::min(len, size_t{1} + static_cast<unsigned char>(seed[k++ % seed.size()]) % 13);
    std::vector<char> piece(body.begin() + pos, body.begin() + pos + len);
    auto o = dec.feed(std::string_view(piece.data(), piece.size()));
    for (std::string_view d : o.data) data.append(d);
    consumed += o.consumed;
    if (o.error) {
      error = true;
      code = o.error_code;
      break;
    }
    if (o.done) {
      done = true;
      break;
    }
    pos += len;
  }
  // Kept trailers are safe to re-serialise: a token name that is not
  // forbidden, a value without CR, LF or NUL and without outer whitespace.
  // (A section that fails later keeps the fields before the bad line; the
  // caller drops them with the errored body.)
  trailers.clear();
  for (const Header& t : dec.trailers()) {
    CHECK(!t.name.empty() && !is_forbidden_trailer(t.name));
    for (char c : t.name) CHECK(is_tchar(static_cast<unsigned char>(c)));
    for (char c : t.value) CHECK(c != '\r' && c != '\n' && c != '\0');
    if (!t.value.empty()) CHECK(t.value.front() != ' ' && t.value.back() != ' ');
    trailers += t.name + ": " + t.value + "\r\n";
  }
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "CONNECT"};
  const std::string_view method = kMethods[data[0] & 3];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

  Limits limits;
  if (data[0] & 4) {
    limits.max_request_line = 40;
    limits.max_header_bytes = 200;
    limits.max_headers = 5;
  }
  ResponseHead head;
  ParseError err;
  const ParseStatus st = parse_response_head(in, limits, method, head, err);
  if (st == ParseStatus::kError) {
    CHECK(err.status == 502);
    CHECK(!err.code.empty());
    return 0;
  }
  if (st == ParseStatus::kIncomplete) {
    CHECK(in.size() < limits.max_header_bytes);
    return 0;
  }
  CHECK(head.head_bytes > 0 && head.head_bytes <= in.size());
  CHECK(head.status >= 100 && head.status <= 999);
  if (head.status < 200 || head.status == 204 || head.status == 304 || method == "HEAD")
    CHECK(head.body == BodyKind::kNone);
  if (head.body == BodyKind::kUntilClose) CHECK(!head.keep_alive);
  for (const Header& h : head.headers) {
    CHECK(!h.name.empty());
    for (char c : h.value) CHECK(c != '\r' && c != '\n');
  }
  for (char c : head.reason) CHECK(c != '\r' && c != '\n');

  ResponseHead part;
  CHECK(parse_response_head(in.substr(0, head.head_bytes - 1), limits, method, part, err) ==
        ParseStatus::kIncomplete);

  if (head.body == BodyKind::kChunked) {
    const std::string_view body = in.substr(head.head_bytes);
    bool d1, e1, d2, e2;
    std::string c1, c2, t1, t2;
    size_t n1, n2;
    const std::string a = decode(body, {}, d1, e1, c1, n1, t1);
    const std::string b = decode(body, in, d2, e2, c2, n2, t2);
    CHECK(d1 == d2 && e1 == e2 && c1 == c2);
    if (!e1) CHECK(a == b && n1 == n2 && t1 == t2);
  }
  return 0;
}
