// libFuzzer target: arbitrary bytes into the HTTP/2 server session, as a
// client would send them (after the connection preface, so the fuzzer spends
// its time on frames). The owner side answers every request, consumes every
// body byte and drains output, so response paths run too. Beyond "no crash"
// it checks the property the HTTP/1.1 bridge relies on: every request the
// session hands up serialises to a head the strict HTTP/1.1 parser reads back
// as exactly one complete request, with nothing smuggled in.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"
#include "net/http2/bridge.hpp"
#include "net/http2/server_session.hpp"

using namespace gatehouse;
using namespace gatehouse::net::http2;

namespace {

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct Owner : Callbacks {
  ServerSession* s = nullptr;
  std::vector<int32_t> to_answer;
  void on_request(Request& r) override {
    for (char c : r.method + r.path + r.authority) CHECK(c != '\r' && c != '\n' && c != '\0');
    for (const auto& h : r.headers) {
      CHECK(!h.name.empty() && !is_connection_specific(h.name) && h.name != "te");
      for (char c : h.name)
        CHECK(http1::is_tchar(static_cast<unsigned char>(c)) && !(c >= 'A' && c <= 'Z'));
      for (char c : h.value) CHECK(c != '\r' && c != '\n' && c != '\0');
    }
    std::string head = request_head_to_http1(r);
    http1::RequestHead parsed;
    http1::ParseError err;
    http1::Limits limits;
    limits.max_header_bytes = 1 << 20;
    limits.max_headers = 1 << 16;
    limits.max_request_line = 1 << 20;
    auto st = http1::parse_request_head(head, limits, parsed, err);
    if (st == http1::ParseStatus::kComplete) {
      CHECK(parsed.head_bytes == head.size());  // one request, nothing after it
      CHECK(parsed.method == r.method);
      CHECK(parsed.headers.size() ==
            r.headers.size() + (r.authority.empty() ? 0 : 1) +
                (framing_for(r) != BodyFraming::kNone || r.has_content_length ? 1 : 0) +
                (r.te_trailers ? 1 : 0));
    } else {
      // Only a request without any authority may be refused (no Host), or
      // one whose method/target the HTTP/1.1 grammar rejects.
      CHECK(st == http1::ParseStatus::kError);
    }
    to_answer.push_back(r.stream_id);
  }
  void on_request_data(int32_t id, std::string_view d) override { s->consume(id, d.size()); }
  void on_request_end(int32_t) override {}
  // Request trailers re-serialise to exactly one chunked trailer section
  // that the strict decoder reads back field for field.
  void on_request_trailers(int32_t, std::vector<Field>& t) override {
    std::string end;
    append_body_end(end, BodyFraming::kChunked, t);
    http1::ChunkedDecoder dec(1 << 20, 1 << 20);
    dec.keep_trailers();
    auto o = dec.feed(end);
    CHECK(!o.error && o.done && o.consumed == end.size());
    CHECK(dec.trailers().size() == t.size());
  }
  void on_stream_close(int32_t, uint32_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Settings st;
  st.max_header_list_size = 4096;
  st.max_concurrent_streams = 16;
  st.max_resets_per_window = 20;
  st.max_control_frames_per_window = 100;
  Owner owner;
  ServerSession s(st, owner);
  owner.s = &s;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The first byte picks the read size, so frames split across reads.
  const size_t step = 1 + data[0] % 64 * 7;
  std::string out;
  bool alive = s.receive(kPreface);
  for (size_t off = 0; alive && off < in.size(); off += step) {
    alive = s.receive(in.substr(off, step));
    for (int32_t id : owner.to_answer) {
      s.submit_response(id, 200, {{"content-type", "text/plain"}}, false);
      s.send_data(id, "hello");
      s.end_response(id, {{"x-trailer", "1"}});
    }
    owner.to_answer.clear();
    out.clear();
    s.collect_output(out);
  }
  out.clear();
  s.collect_output(out);
  return 0;
}
